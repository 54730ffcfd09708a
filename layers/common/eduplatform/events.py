"""Domain events on the EventBridge bus named by EVENT_BUS_NAME, through a transactional outbox.

A service writes each event with ``record`` in the same transaction as the change it
announces (table ``outbox`` of its domain database), or with ``write_recording`` in the same
statement as a one-row insert, so an event exists exactly when its change was committed; the
request itself never calls the bus. The outbox insert notifies the channel ``outbox``, which
PostgreSQL delivers at commit, and the domain's outbox relay function (``relay_handler``)
publishes what is pending:

- run by its schedule (``{"listen": true}``, every minute), it holds a ``LISTEN`` on a direct
  connection (LISTEN_DATABASE_URL; PgBouncer's transaction pooling and RDS Proxy do not carry
  notifications) until its timeout or the next run, and publishes each commit's events as they
  come, in PutEvents of up to ten; it also looks every RELAY_POLL_SECONDS, which covers a
  notification lost on the way (a pooler in between) and events the bus refused;
- invoked with anything else, it publishes what is pending once and answers.

A bus outage therefore delays events and loses none. Delivery is at least once: every
event's detail carries a unique ``event_id``, which consumers use to process a redelivered
event only once.
"""

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import boto3
import psycopg
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
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
from eduplatform.secrets import optional_secret, secret
from eduplatform.settings import get_settings

USER_REGISTERED = "UserRegistered"
PAYMENT_COMPLETED = "PaymentCompleted"
ENROLLMENT_CREATED = "EnrollmentCreated"
# The course domain's facts (price, is_free, lesson ids and count), versioned per course.
COURSE_CREATED = "CourseCreated"
COURSE_UPDATED = "CourseUpdated"
LESSON_CREATED = "LessonCreated"
LESSON_DELETED = "LessonDeleted"
COURSE_FACT_EVENTS = (COURSE_CREATED, COURSE_UPDATED, LESSON_CREATED, LESSON_DELETED)


def domain_source(domain: str) -> str:
    """The EventBridge source of a domain's events (its outbox relay may put no other)."""
    return f"eduplatform.{domain}"


# Every event type has one owner: a consumer takes an event only from the source that owns its
# type, and each EventBridge rule pairs a source with its own types (infra/template/base.yaml),
# so whoever may put events on the bus cannot pass one domain's event off as another's.
EVENT_OWNERS: dict[str, str] = {
    USER_REGISTERED: domain_source("identity"),
    PAYMENT_COMPLETED: domain_source("payment"),
    ENROLLMENT_CREATED: domain_source("enrollment"),
    **dict.fromkeys(COURSE_FACT_EVENTS, domain_source("course")),
}

# PutEvents takes at most 10 entries per call.
BATCH_SIZE = 10
# One relay run publishes at most this many batches; the next run continues.
RELAY_MAX_BATCHES = 100
RELAY_SCHEDULE = "rate(1 minute)"
# A scheduled run listens until RELAY_STOP_MARGIN_SECONDS before its timeout, or until the next
# run starts listening: the timeout is a little longer than the schedule's minute, so a commit
# always finds a listener.
RELAY_TIMEOUT_SECONDS = 70
# A listening run is billed for every second of its minute, so it gets less memory than the API
# functions: its worker holds ~88 MB (RSS measured on the emulator).
RELAY_MEMORY_MB = 256
RELAY_STOP_MARGIN_SECONDS = 3.0
RELAY_POLL_SECONDS = 5.0
# The commits of this long after a notification are published with it (fewer, fuller PutEvents
# and relay transactions, for that much delay of the first event).
RELAY_GATHER_SECONDS = 0.2
# What the schedule (and `make up`) sends a relay to make it listen for the length of its timeout.
LISTEN_EVENT = {"listen": True}
# The channel ``record`` notifies (PostgreSQL delivers it at commit, once per transaction).
OUTBOX_CHANNEL = "outbox"
# A run starting to listen notifies the channel with this prefix and its own id.
HANDOVER_PREFIX = "handover:"
# How a listening connection shows in pg_stat_activity.
LISTENER_APPLICATION_NAME = "outbox-relay"

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


class ForeignEvent(ValueError):
    """An event whose source does not own its type: forged, or routed by a wrong rule."""


def owned_event(body: str) -> EventEnvelope:
    """The event an SQS record carries, once its source is known to own its type.

    Raises pydantic.ValidationError for a body that is not an event and ForeignEvent for an event
    of a type nobody here emits or from a source that does not own the type.
    """
    event = EventEnvelope.model_validate_json(body)
    owner = EVENT_OWNERS.get(event.detail_type)
    if owner is None:
        raise ForeignEvent(f"no domain of this platform emits {event.detail_type!r} events")
    if event.source != owner:
        raise ForeignEvent(f"{event.detail_type} events come from {owner}, not from {event.source!r}")
    return event


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


# An event's outbox row, from the parameters of ``_event_parameters``: given as values (``record``)
# or selected from the row a statement wrote (``write_recording``). Its RETURNING notifies the
# relay's channel, which PostgreSQL delivers at commit (once per transaction).
_OUTBOX_INSERT = (
    "INSERT INTO outbox (event_id, source, detail_type, detail) {rows} RETURNING pg_notify(%(outbox_channel)s, '')"
)
_EVENT_VALUES = "%(event_id)s, %(event_source)s, %(event_type)s, %(event_detail)s"
_RECORD = _OUTBOX_INSERT.format(rows=f"VALUES ({_EVENT_VALUES})")
_RECORD_WRITTEN = _OUTBOX_INSERT.format(rows=f"SELECT {_EVENT_VALUES} FROM written")


def _event_parameters(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    event_id = uuid.uuid4()
    return {
        "event_id": event_id,
        "event_source": source,
        "event_type": detail_type,
        "event_detail": Jsonb({"event_id": str(event_id), **detail}),
        "outbox_channel": OUTBOX_CHANNEL,
    }


def record(conn: Connection, source: str, detail_type: str, detail: dict[str, Any]) -> RecordedEvent:
    """Write an event to the outbox inside the caller's transaction; its event_id is added to the detail."""
    params = _event_parameters(source, detail_type, detail)
    conn.execute(_RECORD, params)
    return RecordedEvent(params["event_id"], source, detail_type, params["event_detail"].obj)


def write_recording(
    db: Database, statement: str, params: dict[str, Any], source: str, detail_type: str, detail: dict[str, Any]
) -> dict[str, Any] | None:
    """Run a domain's one-row ``INSERT ... RETURNING`` (named parameters) and, when it wrote its
    row, record the event in the outbox, in one statement (``Database.write``): atomic on its own,
    one round trip where a transaction takes four (BEGIN, the two inserts, COMMIT).

    The detail is what the caller knows before the insert (it chooses the row's id). The row
    written, or None when the statement wrote none (``ON CONFLICT DO NOTHING``), and then no event
    is recorded either. A statement writing several rows fails whole (their events would share an id).
    """
    rows = db.write(
        f"WITH written AS ({statement}), recorded AS ({_RECORD_WRITTEN}) SELECT * FROM written",
        {**params, **_event_parameters(source, detail_type, detail)},
    )
    return rows[0] if rows else None


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


def listen(remaining_seconds: Callable[[], float], db: Database | None = None) -> dict[str, int]:
    """Publish pending events, then the commits' as they are notified, until ``remaining_seconds()``
    falls to RELAY_STOP_MARGIN_SECONDS or a newer run takes over; totals of the run.

    A notification opens a RELAY_GATHER_SECONDS window whose commits go out with it, in as few
    PutEvents as they fill. A run announces itself on the channel when it starts listening, and
    an older run still listening stops there, so one run listens at a time. A dropped listening
    connection is opened again; pending events never depend on it, since every wake-up
    (notification, or RELAY_POLL_SECONDS without one) publishes whatever is pending.
    """
    db = db or database()
    settings = get_settings()
    url = optional_secret("listen_database_url") or secret("database_url")
    run = f"{HANDOVER_PREFIX}{uuid.uuid4()}"
    totals = {"published": 0, "failed": 0, "wakeups": 0}

    def publish_pending() -> None:
        result = relay(db)
        totals["published"] += result["published"]
        totals["failed"] += result["failed"]

    def left() -> float:
        return remaining_seconds() - RELAY_STOP_MARGIN_SECONDS

    def wait(listener: psycopg.Connection[Any], seconds: float, stop_after: int | None) -> tuple[bool, bool]:
        """(notified by a commit, a newer run took over) within ``seconds``."""
        committed = handed_over = False
        for notification in listener.notifies(timeout=seconds, stop_after=stop_after):
            if notification.payload.startswith(HANDOVER_PREFIX):
                handed_over = handed_over or notification.payload != run
            else:
                committed = True
        return committed, handed_over

    while left() > 0:
        try:
            with psycopg.connect(
                url or "",
                autocommit=True,
                connect_timeout=settings.db_connect_timeout_seconds,
                application_name=LISTENER_APPLICATION_NAME,
            ) as listener:
                listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
                listener.execute("SELECT pg_notify(%s, %s)", (OUTBOX_CHANNEL, run))
                publish_pending()  # what was committed before the LISTEN
                while left() > 0:
                    committed, handed_over = wait(listener, min(RELAY_POLL_SECONDS, left()), stop_after=1)
                    if committed and not handed_over:
                        _, handed_over = wait(listener, min(RELAY_GATHER_SECONDS, max(left(), 0)), stop_after=None)
                    totals["wakeups"] += 1
                    publish_pending()
                    if handed_over:
                        logger.info("outbox relay: a newer run listens now", extra=totals)
                        return totals
        except (psycopg.Error, ServiceUnavailableError) as exc:  # the listener's connection, or the relay's
            logger.warning("outbox relay lost its database; listening again", extra={"error": str(exc)})
            time.sleep(min(1.0, max(0.0, left())))
    return totals


def put_own_events_policy(domain: str) -> dict[str, Any]:
    """PutEvents on the platform's bus for the domain's own source only (the ``events:source`` key)."""
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": {"Fn::GetAtt": ["EventBus", "Arn"]},
                "Condition": {"StringEquals": {"events:source": domain_source(domain)}},
            }
        ]
    }


def relay_template_properties(domain: str) -> dict[str, Any]:
    """TEMPLATE_PROPERTIES of a domain's internal/outbox_relay.py: publishes, listens on a schedule."""
    properties = template_properties(
        variables={
            "EVENT_BUS_NAME": {"Ref": "EventBus"},
            "LISTEN_DATABASE_URL": {"Ref": f"{domain.capitalize()}ListenDatabaseUrl"},
            "LISTEN_DATABASE_URL_PARAMETER": {"Fn::Sub": f"${{SecretsParameterPath}}/{domain}/listen-database-url"},
        },
        policies=[put_own_events_policy(domain)],
    )
    return {
        **properties,
        "Timeout": RELAY_TIMEOUT_SECONDS,
        "MemorySize": RELAY_MEMORY_MB,
        "Events": {
            "Schedule": {
                "Type": "Schedule",
                "Properties": {"Schedule": RELAY_SCHEDULE, "Input": json.dumps(LISTEN_EVENT)},
            }
        },
    }


def relay_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, int]]:
    """The Lambda entry point of a domain's outbox relay: listens when scheduled, else one pass."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
        if event.get("listen") is True:
            result = listen(lambda: context.get_remaining_time_in_millis() / 1000)
        else:
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
