"""How long the local stack's domain events take from their commit to the bus and to a consumer.

    .venv/bin/python -m loadtest.event_delay --since "10 minutes"   # after a load run

For the events committed in the window (each domain database's ``outbox.created_at``, the
commit's clock), prints p50, p99 and max of two delays: to published (``published_at``, when
the outbox relay's PutEvents was accepted) and to consumed, where the notification domain made
a notification of the event (``notifications.created_at`` of the row whose ``source_event_id``
is the event's id: UserRegistered, EnrollmentCreated and PaymentCompleted make one each). Both
clocks are the one PostgreSQL server's. The last line is one JSON object of the figures.
"""

import argparse
import json
import statistics
import sys
from datetime import datetime
from uuid import UUID

import psycopg

from infra.config import local_database_urls

PUBLISHING_DOMAINS = ("identity", "course", "enrollment", "payment")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (linear interpolation, as percentile_cont)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


def summary(delays_ms: list[float]) -> dict[str, float | int]:
    if not delays_ms:
        return {"events": 0}
    return {
        "events": len(delays_ms),
        "p50_ms": round(percentile(delays_ms, 0.50), 1),
        "p99_ms": round(percentile(delays_ms, 0.99), 1),
        "max_ms": round(max(delays_ms), 1),
    }


def committed_events(url: str, since: str) -> list[tuple[UUID, datetime, datetime | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT event_id, created_at, published_at FROM outbox WHERE created_at >= now() - %s::interval",
            (since,),
        ).fetchall()
    return [(row[0], row[1], row[2]) for row in rows]


def consumed_at(url: str, event_ids: list[UUID]) -> dict[UUID, datetime]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT source_event_id, created_at FROM notifications WHERE source_event_id = ANY(%s)", (event_ids,)
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def delays(since: str) -> dict[str, object]:
    urls = local_database_urls()
    committed = [event for domain in PUBLISHING_DOMAINS for event in committed_events(urls[domain], since)]
    unpublished = sum(1 for _, _, published in committed if published is None)
    to_published = [(published - created).total_seconds() * 1000 for _, created, published in committed if published]
    notified = consumed_at(urls["notification"], [event_id for event_id, _, _ in committed])
    to_consumed = [
        (notified[event_id] - created).total_seconds() * 1000
        for event_id, created, _ in committed
        if event_id in notified
    ]
    return {
        "window": since,
        "committed": len(committed),
        "unpublished": unpublished,
        "to_published": summary(to_published),
        "to_consumed": summary(to_consumed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", default="10 minutes", help="a PostgreSQL interval: events committed this recently")
    args = parser.parse_args(argv)
    result = delays(args.since)
    print(f"{result['committed']} events committed in the last {args.since}, {result['unpublished']} not published yet")
    for name in ("to_published", "to_consumed"):
        figures = result[name]
        assert isinstance(figures, dict)
        if figures["events"]:
            print(
                f"commit {name.replace('_', ' ')}: {figures['events']} events, p50 {figures['p50_ms']} ms, "
                f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms"
            )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
