"""boto3 clients held once per function instance."""

import weakref
from collections.abc import Callable
from typing import Any

from eduplatform import snapstart


class InstanceClient[ClientT]:
    """One client of an AWS service per function instance, created on first use by ``create``.

    Tests replace it with a fake (``replace(fake)``); ``replace(None)`` goes back to a
    real client created on the next use.
    """

    def __init__(self, create: Callable[[], ClientT]) -> None:
        self._create = create
        self._client: ClientT | None = None
        _instances.add(self)

    def get(self) -> ClientT:
        if self._client is None:
            self._client = self._create()
        return self._client

    def replace(self, client: ClientT | None) -> None:
        self._client = client

    def close_connections(self) -> None:
        """Close the client's pooled HTTP connections (botocore's ``close``); its next call opens new
        ones. The client itself is kept, with what creating it cost (the service model, the endpoint)."""
        close = getattr(self._client, "close", None)
        if close is not None:
            close()


_instances: weakref.WeakSet[InstanceClient[Any]] = weakref.WeakSet()


def close_connections() -> None:
    """SnapStart: a restored instance opens its own connections, never a snapshot's (eduplatform.snapstart)."""
    for instance in list(_instances):
        instance.close_connections()


snapstart.after_restore(close_connections)
