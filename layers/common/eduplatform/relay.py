"""A domain's outbox relay: publishes the events its outbox holds to the EventBridge bus.

Nothing runs while nothing is pending. A request whose commit recorded events starts the relay
when no run of it is listening (``eduplatform.events.start_relay_if_idle``, an asynchronous
invoke with ``{"listen": true}``); that run publishes what is pending, then holds a ``LISTEN``
on a direct connection (LISTEN_DATABASE_URL: PgBouncer's transaction pooling and RDS Proxy do
not carry notifications) and publishes each commit's events as they are notified, in PutEvents
of up to ten, until RELAY_IDLE_SECONDS pass without one or its timeout nears. One run listens
at a time (an advisory lock on the listening connection); a second one started meanwhile
publishes once and ends.

While it listens the run's connection is named LISTENING_APPLICATION_NAME; a writer that sees
that name does not look again for LISTENER_TRUST_SECONDS (``start_relay_if_idle``). So a run drops
the name RELAY_ENDING_SECONDS before it may end (idle, or its timeout near) and still takes the
notifications meanwhile: a commit of a writer that trusted the name reaches a run that listens, and
wakes it. Before a run ends it closes its listening connection, waits until the server has let it
go, and publishes once more: a request that commits and then finds no run starts a new one, and
one that found this run committed before that last pass, so no commit waits for anyone. The
schedule (every minute) runs one pass, which covers events the bus refused and a start that was
lost. A bus outage therefore delays events and loses none.
"""

import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import psycopg
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from eduplatform.aws_clients import InstanceClient
from eduplatform.db import Database, database
from eduplatform.drain import drain
from eduplatform.events import (
    LISTEN_EVENT,
    LISTENER_APPLICATION_NAME,
    LISTENING_APPLICATION_NAME,
    OUTBOX_CHANNEL,
    RELAY_ENDING_SECONDS,
    RELAY_IDLE_SECONDS,
    domain_source,
)
from eduplatform.facts import template_properties
from eduplatform.observability import logger, metrics
from eduplatform.secrets import optional_secret, secret
from eduplatform.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

# PutEvents takes at most 10 entries per call.
BATCH_SIZE = 10
# One pass publishes at most this many batches; the next wake-up continues.
RELAY_MAX_BATCHES = 100
# The pass that catches what no listening run took: events the bus refused, a lost start.
RELAY_SCHEDULE = "rate(1 minute)"
# A busy run listens this long at most; the first commit after it ends starts the next one.
RELAY_TIMEOUT_SECONDS = 300
RELAY_STOP_MARGIN_SECONDS = 3.0
# The commits of this long after a notification are published with it (fewer, fuller PutEvents
# and relay transactions, for that much delay of the first event).
RELAY_GATHER_SECONDS = 0.2
# The advisory lock (of the domain's database) that the one listening run holds.
LISTENER_LOCK_KEY = 0x6F7574626F78  # "outbox"
# How long a run waits for the server to let its closed listening connection go.
LISTENER_RELEASE_SECONDS = 2.0

_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
_events: InstanceClient["EventBridgeClient"] = InstanceClient(lambda: boto3.client("events", config=_CLIENT_CONFIG))


def events_client() -> "EventBridgeClient":
    """The instance's EventBridge client."""
    return _events.get()


def use_client(client: "EventBridgeClient | None") -> None:
    """Replace the EventBridge client (tests; None goes back to a fresh real one)."""
    _events.replace(client)


def relay(db: Database | None = None) -> dict[str, int]:
    """Publish pending outbox events, oldest first, until none is left or the bus refuses some."""
    db = db or database()
    published, failed = drain(lambda: _publish_batch(db), BATCH_SIZE, RELAY_MAX_BATCHES)
    return {"published": published, "failed": failed}


def listen(remaining_seconds: Callable[[], float], db: Database | None = None) -> dict[str, int]:
    """Publish pending events, then the commits' as they are notified, until RELAY_IDLE_SECONDS
    pass without one or ``remaining_seconds()`` falls to RELAY_STOP_MARGIN_SECONDS; totals of
    the run (``listened`` 0 when another run held the listener's lock).

    A notification opens a RELAY_GATHER_SECONDS window whose commits go out with it, in as few
    PutEvents as they fill. A listening connection that drops is opened again. Whatever happens,
    the run ends with one pass made after its listening connection is gone (module docstring).
    """
    db = db or database()
    settings = get_settings()
    url = optional_secret("listen_database_url") or secret("database_url") or ""
    totals = {"published": 0, "failed": 0, "wakeups": 0, "listened": 0}

    def publish_pending() -> None:
        result = relay(db)
        totals["published"] += result["published"]
        totals["failed"] += result["failed"]

    def left() -> float:
        return remaining_seconds() - RELAY_STOP_MARGIN_SECONDS

    def wait(listener: psycopg.Connection[Any], seconds: float, stop_after: int | None) -> bool:
        """Whether a commit was notified within ``seconds``."""
        return any(True for _ in listener.notifies(timeout=seconds, stop_after=stop_after))

    while left() > 0:
        backend_pid = None
        try:
            with psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=settings.db_connect_timeout_seconds,
                application_name=LISTENER_APPLICATION_NAME,
            ) as listener:
                backend_pid = listener.info.backend_pid
                row = listener.execute("SELECT pg_try_advisory_lock(%s)", (LISTENER_LOCK_KEY,)).fetchone()
                if not (row and row[0]):
                    logger.info("outbox relay: another run listens")
                    break
                totals["listened"] = 1
                listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
                publish_pending()  # what was committed before the LISTEN
                shown_listening = False
                last_commit = time.monotonic()
                while left() > 0 and (quiet := time.monotonic() - last_commit) < RELAY_IDLE_SECONDS:
                    # Listening, shown as such, until RELAY_ENDING_SECONDS before the run may end.
                    until_ending = min(RELAY_IDLE_SECONDS - quiet, left()) - RELAY_ENDING_SECONDS
                    if shown_listening != (until_ending > 0):
                        shown_listening = until_ending > 0
                        name = LISTENING_APPLICATION_NAME if shown_listening else LISTENER_APPLICATION_NAME
                        listener.execute("SELECT set_config('application_name', %s, false)", (name,))
                    timeout = until_ending if shown_listening else min(RELAY_IDLE_SECONDS - quiet, left())
                    if wait(listener, timeout, stop_after=1):
                        wait(listener, min(RELAY_GATHER_SECONDS, max(left(), 0)), stop_after=None)
                        totals["wakeups"] += 1
                        publish_pending()
                        last_commit = time.monotonic()
                break
        except (psycopg.Error, ServiceUnavailableError) as exc:  # the listener's connection, or the relay's
            logger.warning("outbox relay lost its database; listening again", extra={"error": str(exc)})
            time.sleep(min(1.0, max(0.0, left())))
        finally:
            if backend_pid is not None:
                _wait_until_released(db, backend_pid)
    try:
        publish_pending()
    except ServiceUnavailableError as exc:  # the schedule's next pass publishes them
        logger.warning("outbox relay: last pass failed", extra={"error": str(exc)})
    return totals


def _wait_until_released(db: Database, backend_pid: int) -> None:
    """Until the server no longer shows the closed listening connection, which writers look for."""
    deadline = time.monotonic() + LISTENER_RELEASE_SECONDS
    while time.monotonic() < deadline:
        try:
            if not db.statement("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend_pid,)):
                return
        except ServiceUnavailableError:
            return
        time.sleep(0.01)


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
    """TEMPLATE_PROPERTIES of a domain's internal/outbox_relay.py: publishes; a pass every minute."""
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
        "Events": {"Schedule": {"Type": "Schedule", "Properties": {"Schedule": RELAY_SCHEDULE}}},
    }


def relay_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, int]]:
    """The Lambda entry point of a domain's outbox relay: listens when started by a commit, else one pass."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
        result = listen(lambda: context.get_remaining_time_in_millis() / 1000) if event == LISTEN_EVENT else relay()
        metrics.add_metric(name="OutboxEventsRelayed", unit=MetricUnit.Count, value=result["published"])
        logger.info("outbox relay run", extra=result)
        return result

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
