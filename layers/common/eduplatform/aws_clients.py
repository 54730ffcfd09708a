"""boto3 clients held once per function instance."""

from typing import Any

import boto3
from botocore.config import Config


class InstanceClient:
    """One client of an AWS service per function instance, created on first use.

    Tests replace it with a fake (``replace(fake)``); ``replace(None)`` goes back to a
    real client created on the next use.
    """

    def __init__(self, service: str, config: Config) -> None:
        self._service = service
        self._config = config
        self._client: Any = None

    def get(self) -> Any:
        if self._client is None:
            self._client = boto3.client(self._service, config=self._config)
        return self._client

    def replace(self, client: Any) -> None:
        self._client = client
