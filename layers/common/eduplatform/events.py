"""Domain events, recorded through a transactional outbox.

A service writes each event with ``record`` in the same transaction as the change it
announces (table ``outbox`` of its domain database), or with ``write_recording`` in the same
statement as a one-row insert, so an event exists exactly when its change was committed. The
outbox insert notifies the channel ``outbox``, which PostgreSQL delivers at commit. Once the
request or batch that recorded events is done (its transactions committed), the function entry
points call ``start_relay_if_idle``: when no run of the domain's outbox relay listens, it starts
one, which publishes the events to the EventBridge bus (``eduplatform.relay``). The request never
waits for the bus, and an idle domain runs no relay.

Delivery is at least once: every event's detail carries a unique ``event_id``, which consumers
use to process a redelivered event only once (``eduplatform.consumers``). Which domain owns which
event type is written here once (``EVENT_OWNERS``).
"""

import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
from psycopg.types.json import Jsonb

from eduplatform.db import Connection, Database, database
from eduplatform.deferred import defer
from eduplatform.observability import logger

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

# What a commit's start of the domain's outbox relay sends it: publish, then listen for commits.
LISTEN_EVENT = {"listen": True}
# The channel ``record`` notifies (PostgreSQL delivers it at commit, once per transaction).
OUTBOX_CHANNEL = "outbox"
# How a relay's connection shows in pg_stat_activity: any run's, and a run's that takes every
# commit's notification for at least RELAY_ENDING_SECONDS more (eduplatform.relay.listen).
LISTENER_APPLICATION_NAME = "outbox-relay"
LISTENING_APPLICATION_NAME = f"{LISTENER_APPLICATION_NAME} listening"
# A run ends this long after the last commit it was notified of; for the last RELAY_ENDING_SECONDS
# of that it no longer shows itself as listening, and still takes notifications.
RELAY_IDLE_SECONDS = 3.0
RELAY_ENDING_SECONDS = 1.5
# A writer that saw a run listening does not look again for this long: that run takes the
# notifications of its commits meanwhile. Shorter than RELAY_ENDING_SECONDS by what a
# notification's way to the run may take.
LISTENER_TRUST_SECONDS = 1.0
# The environment variable naming the domain's outbox relay, in the functions that record events.
OUTBOX_RELAY_VARIABLE = "OUTBOX_RELAY_FUNCTION"


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
    defer(start_relay_if_idle)
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
    if not rows:
        return None
    defer(start_relay_if_idle)
    return rows[0]


def outbox_relay(domain: str) -> tuple[str, str]:
    """The (variable, function) pair that ``facts.template_properties`` gives an endpoint recording
    the domain's events: what lets its requests start the domain's outbox relay."""
    return OUTBOX_RELAY_VARIABLE, f"{domain.capitalize()}InternalOutboxRelayFunction"


_RELAY_CONNECTIONS = (
    "SELECT application_name FROM pg_stat_activity "
    "WHERE datname = current_database() AND starts_with(application_name, %s)"
)
# Per database, until when (time.monotonic) its writers' commits are taken by a run seen listening.
_listening_until: weakref.WeakKeyDictionary[Database, float] = weakref.WeakKeyDictionary()


def start_relay_if_idle(db: Database | None = None) -> None:
    """Start the domain's outbox relay unless a run of it is there (deferred by ``record`` and
    ``write_recording``, so it runs after the commit: eduplatform/relay.py says why nothing is
    missed). Within LISTENER_TRUST_SECONDS of seeing a run listening it does not look again. A
    failure leaves the events to the relay's schedule."""
    db = db or database()
    looked_at = time.monotonic()
    if looked_at < _listening_until.get(db, 0.0):
        return
    try:
        rows = db.statement(_RELAY_CONNECTIONS, (LISTENER_APPLICATION_NAME,))
    except ServiceUnavailableError:
        return
    if any(row["application_name"] == LISTENING_APPLICATION_NAME for row in rows):
        _listening_until[db] = looked_at + LISTENER_TRUST_SECONDS
    if rows:  # a run that is starting, ending or not listening makes a pass after this commit
        return
    # Imported here: a function imports boto3 only once it has events to publish.
    from eduplatform import internal_calls

    if not internal_calls.start(OUTBOX_RELAY_VARIABLE, LISTEN_EVENT):
        logger.warning("outbox relay not started; the events wait for its schedule")
