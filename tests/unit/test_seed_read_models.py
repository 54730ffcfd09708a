"""The seed writes every read model as the running stack would have built it from events.

The seed fills the read models in its own pass (no rebuild through the stack after it). Here a
small seed is snapshotted, its read models emptied and built again the way the stack builds
them: enrollment's and payment's rebuild functions paging over the owning domains' exports
(the handlers the functions run, called in-process by the loop `make rebuild-read-models`
runs), and the course domain's consumers applying the UserRegistered and EnrollmentCreated
event of every seeded user and enrollment. The two must be equal row for row.
"""

import importlib
import io
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from infra.config import DOMAINS
from infra.local import read_models as rebuild_tool
from seed import generate
from tests.support import databases
from tests.support.lambda_events import FakeLambdaContext, envelope, sqs_event

from eduplatform import db, facts, internal_calls, read_models, settings
from eduplatform.cache import reset_cache

SCALE = 0.004  # 200 users, 400 courses (40 with lessons), 800 enrollments, 200 payments, 400 reviews
NOW = datetime(2026, 11, 1, tzinfo=UTC)

# Every read model the seed writes, by domain and table: each is compared whole, but for these
# columns, which record when a row was applied, not what it says: applied_at is now() of the
# rebuild (or of the seed's load); course_enrollments.enrolled_at is when the consumer applied
# the EnrollmentCreated event (in the running stack, a moment after the enrollment; the seed
# writes the enrollment's own time, and test_seed checks it).
APPLIED_AT = {
    "course_facts": {"applied_at"},
    "completed_payments": {"applied_at"},
    "course_enrollments": {"enrolled_at"},
}
# The course domain's counts kept from the same events, compared as a table of their own.
ENROLLMENT_COUNTS = "SELECT id, enrollment_count FROM courses ORDER BY id"
# Left out of the comparison: applied_enrollment_events, the enrollment consumer's record of the
# event ids it applied (it makes a redelivered event change nothing). The seeded enrollments were
# never announced by events, so no event of theirs can arrive: the seed records none, and the
# replay below records the ids it made up.

# Where the in-process functions of the rebuild run: the function's logical id (the name its
# callers are configured with) -> its domain and handler module, as template.yaml declares them.
FUNCTIONS = {
    "EnrollmentInternalRebuildReadModelsFunction": ("enrollment", "enrollment.internal.rebuild_read_models"),
    "PaymentInternalRebuildReadModelsFunction": ("payment", "payment.internal.rebuild_read_models"),
    facts.COURSE_FACTS_PAGE[1]: ("course", "course.internal.course_facts_page"),
    facts.COMPLETED_PAYMENTS_PAGE[1]: ("payment", "payment.internal.completed_payments_page"),
}


@pytest.fixture(scope="module")
def seeded():
    urls = {domain: databases.prepare("seedreadmodels", domain) for domain in DOMAINS}
    generate.seed(urls, random_seed=11, scale=SCALE, do_reset=True, now=NOW, bcrypt_rounds=4)
    yield urls
    for url in urls.values():
        databases.drop_database(url)


def compared_columns(conn: psycopg.Connection, table: str) -> list[str]:
    columns = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [name for (name,) in columns if name not in APPLIED_AT.get(table, set())]


def snapshot(urls: dict[str, str]) -> dict[str, list[tuple]]:
    """Every read model's rows (without the columns of APPLIED_AT), in a fixed order; domain.table -> rows."""
    rows = {}
    for domain, tables in generate.READ_MODELS.items():
        with psycopg.connect(urls[domain]) as conn:
            for table in tables:
                columns = compared_columns(conn, table)
                order = ", ".join(str(position) for position in range(1, len(columns) + 1))
                rows[f"{domain}.{table}"] = conn.execute(
                    f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
                ).fetchall()
    with psycopg.connect(urls["course"]) as conn:
        rows["course.courses.enrollment_count"] = conn.execute(ENROLLMENT_COUNTS).fetchall()
    return rows


def empty_read_models(urls: dict[str, str]) -> None:
    for domain, tables in generate.READ_MODELS.items():
        if tables:
            with psycopg.connect(urls[domain]) as conn:
                conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    with psycopg.connect(urls["course"]) as conn:
        conn.execute("UPDATE courses SET enrollment_count = 0")


@contextmanager
def serving(url: str) -> Iterator[None]:
    """The domain database a function's code uses (DATABASE_URL) while it runs, then the caller's again."""
    caller = os.environ.get("DATABASE_URL")

    def use(value: str | None) -> None:
        if value is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = value
        settings.get_settings.cache_clear()
        db.reset_database()

    use(url)
    try:
        yield
    finally:
        use(caller)


class InProcessFunctions:
    """The Lambda client of the rebuild (its invoke, as infra.local.read_models and
    eduplatform.internal_calls use it): runs each function's handler here, against its domain's
    test database, with the JSON in and out the Lambda API would carry."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    def invoke(self, FunctionName: str, Payload: bytes, InvocationType: str = "RequestResponse") -> dict[str, Any]:
        domain, module = FUNCTIONS[FunctionName]
        handler = importlib.import_module(module).handler
        with serving(self.urls[domain]):
            answer = handler(json.loads(Payload), FakeLambdaContext(function_name=FunctionName))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


def rebuild_through_the_functions(urls: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What `make rebuild-read-models` does, with the functions run in-process."""
    functions = InProcessFunctions(urls)
    for variable, logical_id in (facts.COURSE_FACTS_PAGE, facts.COMPLETED_PAYMENTS_PAGE):
        monkeypatch.setenv(variable, logical_id)
    # Pages of the test's size, so that the rebuild goes over several of each.
    monkeypatch.setattr(read_models, "COURSE_PAGE_SIZE", 150)
    monkeypatch.setattr(read_models, "PAYMENT_PAGE_SIZE", 70)
    internal_calls.use_client(functions)
    try:
        for logical_id, models in rebuild_tool.REBUILDS:
            for model in models:
                received, applied = rebuild_tool.rebuild_model(functions, logical_id, model)
                assert received == applied > 0, (logical_id, model)
    finally:
        internal_calls.use_client(None)


def batches(bodies: list[dict[str, Any]], size: int = 10) -> Iterator[list[dict[str, Any]]]:
    """SQS batches of the bodies (10 records, the queues' batch size)."""
    for start in range(0, len(bodies), size):
        yield bodies[start : start + size]


def replay_events_to_the_course_domain(urls: dict[str, str]) -> None:
    """The UserRegistered event of every seeded user and the EnrollmentCreated event of every
    seeded enrollment, as identity and enrollment publish them, through the course domain's consumers."""
    from course import enrollment_consumer, teacher_consumer

    with psycopg.connect(urls["identity"]) as conn:
        users = conn.execute("SELECT id, name, role::text FROM users").fetchall()
    with psycopg.connect(urls["enrollment"]) as conn:
        enrollments = conn.execute("SELECT id, student_id, course_id, payment_id FROM enrollments").fetchall()
    registered = [
        envelope("UserRegistered", {"event_id": str(uuid.uuid4()), "user_id": str(user_id), "name": name, "role": role})
        for user_id, name, role in users
    ]
    enrolled = [
        envelope(
            "EnrollmentCreated",
            {
                "event_id": str(uuid.uuid4()),
                "user_id": str(student_id),
                "enrollment_id": str(enrollment_id),
                "course_id": str(course_id),
                "payment_id": str(payment_id) if payment_id else None,
            },
        )
        for enrollment_id, student_id, course_id, payment_id in enrollments
    ]
    with serving(urls["course"]):
        for consumer, bodies in ((teacher_consumer, registered), (enrollment_consumer, enrolled)):
            for batch in batches(bodies):
                assert consumer.handler(sqs_event(*batch), FakeLambdaContext()) == {"batchItemFailures": []}


def test_the_seeded_read_models_are_what_the_stack_builds_from_the_owning_domains(seeded, monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)
    reset_cache()
    seeded_rows = snapshot(seeded)
    assert all(seeded_rows.values()), {name: len(rows) for name, rows in seeded_rows.items()}

    empty_read_models(seeded)
    assert not any(rows for name, rows in snapshot(seeded).items() if name != "course.courses.enrollment_count")
    rebuild_through_the_functions(seeded, monkeypatch)
    replay_events_to_the_course_domain(seeded)
    rebuilt_rows = snapshot(seeded)

    for name, rows in seeded_rows.items():
        assert rebuilt_rows[name] == rows, name
    assert sum(count for _, count in seeded_rows["course.courses.enrollment_count"]) == 800
    assert len(seeded_rows["enrollment.course_facts"]) == len(seeded_rows["payment.course_facts"]) == 400
    assert len(seeded_rows["enrollment.completed_payments"]) == 200


SCHEMA = {
    "indexes": "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid, indisready FROM pg_index "
    "WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace) ORDER BY 1",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
    "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
    "triggers": "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2",
}


def test_the_seed_leaves_every_index_key_and_trigger_as_the_migrations_made_them(seeded):
    """The seed drops the loaded tables' indexes and keys and builds them after the rows."""
    for domain in DOMAINS:
        migrated = databases.prepare("seedschema", domain)
        try:
            for name, query in SCHEMA.items():
                with psycopg.connect(seeded[domain]) as after_seed, psycopg.connect(migrated) as fresh:
                    assert after_seed.execute(query).fetchall() == fresh.execute(query).fetchall(), (domain, name)
        finally:
            databases.drop_database(migrated)
