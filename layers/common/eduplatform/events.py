"""Domain events on the EventBridge bus named by EVENT_BUS_NAME.

Events are published after the transaction that produced them has committed, so a
consumer never hears of a row that was rolled back. Publishing is best effort: the
write has already succeeded, so a failed publish is logged (with the whole event, for
replay) and counted, and the request still succeeds. Every event's detail carries a
unique ``event_id``, which consumers use to process a redelivered event only once.
"""

import json
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from aws_lambda_powertools.metrics import MetricUnit

from eduplatform.observability import logger, metrics

USER_REGISTERED = "UserRegistered"
PAYMENT_COMPLETED = "PaymentCompleted"
ENROLLMENT_CREATED = "EnrollmentCreated"

_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})

_client: Any = None


def events_client() -> Any:
    """One EventBridge client per function instance, created on first use."""
    global _client
    if _client is None:
        _client = boto3.client("events", config=_CLIENT_CONFIG)
    return _client


def use_client(client: Any) -> None:
    """Replace the EventBridge client (tests; None goes back to a fresh real one)."""
    global _client
    _client = client


def publish(source: str, detail_type: str, detail: dict[str, Any]) -> bool:
    """Put one event on the bus; True when EventBridge accepted it."""
    bus = os.environ.get("EVENT_BUS_NAME")
    entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail, default=str), "EventBusName": bus}
    if not bus:
        logger.warning("EVENT_BUS_NAME is not set; event not published", extra={"event": entry})
        return False
    try:
        response = events_client().put_events(Entries=[entry])
        failed = response.get("FailedEntryCount", 0) > 0
        error = response["Entries"][0].get("ErrorMessage") if failed else None
    except (BotoCoreError, ClientError) as exc:
        failed, error = True, str(exc)
    if failed:
        logger.error("event not published", extra={"event": entry, "error": error})
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=1)
        return False
    logger.info("event published", extra={"source": source, "detail_type": detail_type, "event_id": detail.get("event_id")})
    return True
