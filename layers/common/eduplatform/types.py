"""Field types shared by the API models: how timestamps and money look on the wire."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

# ISO 8601 in UTC with an explicit offset, e.g. 2026-02-20T12:00:00+00:00 (pydantic's default
# writes "Z", and the session time zone of a pooled connection is not ours to set).
Timestamp = Annotated[datetime, PlainSerializer(lambda value: value.astimezone(UTC).isoformat(), return_type=str)]

# Money leaves the API as a decimal string with two places ("49.99").
Money = Annotated[Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str)]
