"""boto3 clients held once per function instance."""

from collections.abc import Callable


class InstanceClient[ClientT]:
    """One client of an AWS service per function instance, created on first use by ``create``.

    Tests replace it with a fake (``replace(fake)``); ``replace(None)`` goes back to a
    real client created on the next use.
    """

    def __init__(self, create: Callable[[], ClientT]) -> None:
        self._create = create
        self._client: ClientT | None = None

    def get(self) -> ClientT:
        if self._client is None:
            self._client = self._create()
        return self._client

    def replace(self, client: ClientT | None) -> None:
        self._client = client
