"""Domain events on the EventBridge bus named by EVENT_BUS_NAME, through a transactional outbox.

A service writes each event with ``record`` in the same transaction as the change it
announces (table ``outbox`` of its domain database), so an event exists exactly when
its change was committed. After the commit the request publishes its own events at once
(``publish_recorded``, the fast path that keeps notifications and read models quick: one
PutEvents of what it recorded, then one statement marking them published); whatever the
bus did not take stays pending, and the domain's outbox relay function (``relay_handler``,
run every minute and invocable on demand) publishes it later. A bus outage therefore
delays events and loses none. Delivery is at least once: every event's detail carries a
unique ``event_id``, which consumers use to process a redelivered event only once.
"""

import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from psycopg.types.json import Jsonb

from eduplatform.aws_clients import InstanceClient
from eduplatform.db import Connection, Database, database
from eduplatform.facts import template_properties
from eduplatform.observability import logger, metrics

USER_REGISTERED = "UserRegistered"
PAYMENT_COMPLETED = "PaymentCompleted"
ENROLLMENT_CREATED = "EnrollmentCreated"
# The course domain's facts (price, is_free, lesson ids and count), versioned per course.
COURSE_CREATED = "CourseCreated"
COURSE_UPDATED = "CourseUpdated"
LESSON_CREATED = "LessonCreated"
LESSON_DELETED = "LessonDeleted"
COURSE_FACT_EVENTS = (COURSE_CREATED, COURSE_UPDATED, LESSON_CREATED, LESSON_DELETED)

# PutEvents takes at most 10 entries per call.
BATCH_SIZE = 10
# One relay run publishes at most this many batches; the next run continues.
RELAY_MAX_BATCHES = 100
RELAY_SCHEDULE = "rate(1 minute)"

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
_events: InstanceClient["EventBridgeClient"] = InstanceClient(lambda: boto3.client("events", config=_CLIENT_CONFIG))


class EventEnvelope(EventBridgeModel):
    """An EventBridge event as a rule delivers it to SQS.

    Only detail-type and detail are used; ``account`` is optional because some emulators
    (moto) leave it out. ``detail`` is the JSON object every event of this platform carries
    (Powertools' model also admits a model class or instance there, which JSON never is).
    """

    account: str | None = None  # type: ignore[assignment]  # optional here, unlike in Powertools' model
    detail: dict[str, Any]


def events_client() -> "EventBridgeClient":
    """The instance's EventBridge client."""
    return _events.get()


def use_client(client: "EventBridgeClient | None") -> None:
    """Replace the EventBridge client (tests; None goes back to a fresh real one)."""
    _events.replace(client)


@dataclass(frozen=True)
class RecordedEvent:
    """An event written to the outbox by ``record`` (its detail includes the event_id)."""

    event_id: UUID
    source: str
    detail_type: str
    detail: dict[str, Any]


def record(conn: Connection, source: str, detail_type: str, detail: dict[str, Any]) -> RecordedEvent:
    """Write an event to the outbox inside the caller's transaction; its event_id is added to the detail."""
    event_id = uuid.uuid4()
    full_detail = {"event_id": str(event_id), **detail}
    conn.execute(
        "INSERT INTO outbox (event_id, source, detail_type, detail) VALUES (%s, %s, %s, %s)",
        (event_id, source, detail_type, Jsonb(full_detail)),
    )
    return RecordedEvent(event_id, source, detail_type, full_detail)


def publish_recorded(recorded: Iterable[RecordedEvent], db: Database | None = None) -> int:
    """Publish events recorded by a transaction that has committed; how many the bus took.

    Never raises: the request's change is already committed, and an event left pending is
    the relay's to publish. (A relay run meeting the row before it is marked may publish it
    a second time: delivery is at least once, and every consumer is idempotent.)
    """
    events = list(recorded)
    if not events:
        return 0
    try:
        rows = [
            {"event_id": e.event_id, "source": e.source, "detail_type": e.detail_type, "detail": e.detail}
            for e in events
        ]
        errors = _put_events(rows)
        published = [event.event_id for event, error in zip(events, errors, strict=False) if error is None]
        _mark(
            db or database(),
            published,
            [(event.event_id, error) for event, error in zip(events, errors, strict=False) if error],
        )
        if published:
            logger.info("events published", extra={"event_ids": [str(i) for i in published]})
        return len(published)
    except Exception:
        logger.exception(
            "events left in the outbox for the relay", extra={"event_ids": [str(e.event_id) for e in events]}
        )
        return 0


def _mark(db: Database, published: list[UUID], failed: list[tuple[UUID, str]]) -> None:
    """Mark events the bus took as published, and count a failed attempt on the others."""
    if published:
        db.statement(
            "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL "
            "WHERE event_id = ANY(%s) AND published_at IS NULL",
            (published,),
        )
    for event_id, error in failed:
        db.statement(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE event_id = %s", (error[:1000], event_id)
        )
    if failed:
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=len(failed))


def relay(db: Database | None = None) -> dict[str, int]:
    """Publish pending outbox events, oldest first, until none is left or the bus refuses some."""
    db = db or database()
    published = failed = 0
    for _ in range(RELAY_MAX_BATCHES):
        batch_published, batch_failed = _publish_batch(db)
        published += batch_published
        failed += batch_failed
        if batch_failed or batch_published < BATCH_SIZE:
            break
    return {"published": published, "failed": failed}


def relay_template_properties() -> dict[str, Any]:
    """TEMPLATE_PROPERTIES of a domain's internal/outbox_relay.py: may publish, runs on a schedule."""
    return {
        **template_properties(publishes_events=True),
        "Events": {"Schedule": {"Type": "Schedule", "Properties": {"Schedule": RELAY_SCHEDULE}}},
    }


def relay_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, int]]:
    """The Lambda entry point of a domain's outbox relay (scheduled, or invoked on demand)."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
        result = relay()
        metrics.add_metric(name="OutboxEventsRelayed", unit=MetricUnit.Count, value=result["published"])
        logger.info("outbox relay run", extra=result)
        return result

    return handler


def queue_consumer_handler(
    record_handler: Callable[[SQSRecord], None],
) -> Callable[[dict[str, Any], LambdaContext], "PartialItemFailureResponse"]:
    """The Lambda entry point of a consumer of bus events delivered through an SQS queue.

    ``record_handler`` takes one record and raises when it cannot be handled; that record is
    reported as a batch item failure, so SQS redelivers it and, after the queue's
    maxReceiveCount, moves it to the dead-letter queue. A batch whose every record failed is
    reported the same way rather than by raising: the outcome for SQS is the same, and the
    invocation still logs and returns normally.
    """
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
        if not event.get("Records"):  # nothing to do (`make up` warms consumers this way)
            logger.info("empty batch")
            return {"batchItemFailures": []}
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        logger.info(
            "batch processed",
            extra={"records": len(event.get("Records", [])), "failed": len(response.get("batchItemFailures", []))},
        )
        return response

    return handler


def _publish_batch(db: Database) -> tuple[int, int]:
    """Publish up to BATCH_SIZE pending events, oldest first: (published, failed).

    The rows stay locked (SKIP LOCKED for everyone else) while the bus is called, so two
    relays never send the same row at the same time.
    """
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT event_id, source, detail_type, detail FROM outbox "
            "WHERE published_at IS NULL ORDER BY created_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED",
            {"limit": BATCH_SIZE},
        ).fetchall()
        if not rows:
            return 0, 0
        errors = _put_events(rows)
        published = [row["event_id"] for row, error in zip(rows, errors, strict=False) if error is None]
        if published:
            conn.execute(
                "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL "
                "WHERE event_id = ANY(%s)",
                (published,),
            )
        for row, error in zip(rows, errors, strict=False):
            if error is not None:
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE event_id = %s",
                    (error[:1000], row["event_id"]),
                )
    failed = len(rows) - len(published)
    if published:
        logger.info("events published", extra={"event_ids": [str(i) for i in published]})
    if failed:
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=failed)
    return len(published), failed


def _put_events(rows: list[dict[str, Any]]) -> list[str | None]:
    """Send rows to the bus; per row None (accepted) or why not. Logs ids and errors, never details."""
    bus = os.environ.get("EVENT_BUS_NAME")
    if not bus:
        errors: list[str | None] = ["EVENT_BUS_NAME is not set"] * len(rows)
    else:
        entries: list[PutEventsRequestEntryTypeDef] = [
            {
                "Source": row["source"],
                "DetailType": row["detail_type"],
                "Detail": json.dumps(row["detail"], default=str),
                "EventBusName": bus,
            }
            for row in rows
        ]
        try:
            response = events_client().put_events(Entries=entries)
            errors = [
                None
                if "ErrorCode" not in result and "ErrorMessage" not in result
                else f"{result.get('ErrorCode', 'Error')}: {result.get('ErrorMessage', '')}"
                for result in response["Entries"]
            ]
        except (BotoCoreError, ClientError) as exc:
            errors = [str(exc)] * len(rows)
    for row, error in zip(rows, errors, strict=False):
        if error is not None:
            logger.warning(
                "event not published, kept in the outbox",
                extra={
                    "event_id": str(row["event_id"]),
                    "detail_type": row["detail_type"],
                    "error": error,
                },
            )
    return errors


# Creating a client loads botocore's service model (a few hundred ms of CPU): a function
# that publishes does it while its instance initialises, not in the first request it serves.
if os.environ.get("EVENT_BUS_NAME"):
    events_client()
