"""Faults in-process: a database that refuses connections, a request failing half way,
login answering alike for an unknown email and a wrong password, and no secret in any log.

The bus outage (outbox relay) is in test_events.py; the same faults against the deployed
stack are in tests/e2e/test_faults.py. docs/reliability.md lists them all.
"""

import io
import logging
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError

from infra.config import POSTGRES_ADMIN_URL, with_database
from tests.support.aws_fakes import aws, event_bus, facts, idempotency_table  # noqa: F401 (fixtures)
from tests.support.lambda_events import FakeLambdaContext, call

from eduplatform import db, relay, security, settings
from eduplatform.db import Database
from eduplatform.observability import logger

REFUSING_DATABASE = "test_refusing_connections"


@pytest.fixture
def refusing_database_url():
    """A database that exists and refuses every connection (ALLOW_CONNECTIONS false); yields (url, allow)."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (REFUSING_DATABASE,)).fetchone() is None:
            admin.execute(f"CREATE DATABASE {REFUSING_DATABASE}")
        admin.execute(f"ALTER DATABASE {REFUSING_DATABASE} ALLOW_CONNECTIONS false")

    def allow(allowed: bool) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE {REFUSING_DATABASE} ALLOW_CONNECTIONS {'true' if allowed else 'false'}")

    yield with_database(POSTGRES_ADMIN_URL, REFUSING_DATABASE, user="postgres"), allow
    allow(False)


def use_database_url(monkeypatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    settings.get_settings.cache_clear()
    db.reset_database()


# ---- a database that is down: 503 with a detail, back without a redeploy ------------------------------------


def test_a_database_refusing_connections_is_503_and_serves_again_once_back(refusing_database_url):
    url, allow = refusing_database_url
    database = Database(url, name="payment")
    with pytest.raises(ServiceUnavailableError, match="The payment database is unavailable, try again later"):
        database.ping()
    allow(True)
    database.ping()  # the same instance reconnects: no redeploy, no restart
    database.close()


@pytest.mark.parametrize(
    "pooler_error",
    [
        # What PgBouncer answers when the database behind it refuses connections (checked with PgBouncer 1.18):
        "query_wait_timeout",  # a kept client connection waited QUERY_WAIT_TIMEOUT for a server
        "server login has been failing, try again later (server_login_retry)",  # a new client connection
    ],
)
def test_pooler_errors_about_a_refusing_database_are_503(domain_database, monkeypatch, pooler_error):
    domain_database("payment")
    database = db.database()
    database.ping()  # a kept connection

    def pooler_refuses(*_args, **_kwargs):
        raise psycopg.errors.ProtocolViolation(pooler_error)

    monkeypatch.setattr(psycopg.Connection, "transaction", pooler_refuses)
    monkeypatch.setattr(db.psycopg, "connect", pooler_refuses)
    with pytest.raises(ServiceUnavailableError, match="database is unavailable"):
        database.ping()
    assert database._conn is None  # dropped, so the next request reconnects
    monkeypatch.undo()


def test_errors_that_are_not_about_the_connection_are_not_turned_into_503(domain_database):
    domain_database("identity")
    database = db.database()
    with pytest.raises(psycopg.errors.UndefinedTable), database.transaction() as conn:
        conn.execute("SELECT * FROM no_such_table")
    kept = database._conn
    database.ping()
    assert database._conn is kept  # the connection was fine and stays


def test_an_endpoint_whose_database_is_down_answers_503_with_a_detail(
    domain_database, refusing_database_url, monkeypatch, token_for
):
    domain_database("notification")
    url, _allow = refusing_database_url
    use_database_url(monkeypatch, url)
    token = token_for("student")
    response = call("notification.handlers.my_notifications", token=token)
    assert response.status == 503
    assert response.json() == {"detail": "The domain database is unavailable, try again later"}


def test_health_names_the_domain_whose_database_is_down(refusing_database_url, monkeypatch):
    from ops.handlers import health

    url, allow = refusing_database_url
    for domain in ("identity", "course", "enrollment", "notification"):
        monkeypatch.setenv(f"{domain.upper()}_DB_URL", POSTGRES_ADMIN_URL)
    monkeypatch.setenv("PAYMENT_DB_URL", url)
    settings.get_settings.cache_clear()
    monkeypatch.setattr(health, "_databases", {})
    response = call("ops.handlers.health")
    assert response.status == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "identity": "ok",
            "course": "ok",
            "enrollment": "ok",
            "notification": "ok",
            "payment": "error: The payment database is unavailable, try again later",
        },
    }
    allow(True)
    assert call("ops.handlers.health").status == 200  # the same warm instance, no redeploy
    for database in health._databases.values():
        database.close()
    settings.get_settings.cache_clear()


# ---- nothing half written ------------------------------------------------------------------------------------


def table_rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@contextmanager
def outbox_refusing_events(url: str) -> Iterator[None]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE outbox ADD CONSTRAINT refuse_events CHECK (false) NOT VALID")
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE outbox DROP CONSTRAINT refuse_events")


def test_an_enrollment_whose_event_cannot_be_recorded_leaves_neither_the_row_nor_the_event(
    domain_database, facts, event_bus, token_for
):
    """The enrollment and its outbox row are one statement: the outbox refusing the event undoes the enrollment."""
    url = domain_database("enrollment")
    course_id = facts.add_course()
    token = token_for("student")
    with outbox_refusing_events(url):
        response = call("enrollment.handlers.enroll", body={"course_id": course_id}, token=token)
    assert response.status == 500 and set(response.json()) == {"detail", "request_id"}
    assert table_rows(url, "enrollments") == 0 and table_rows(url, "outbox") == 0
    assert call("enrollment.handlers.enroll", body={"course_id": course_id}, token=token).status == 201
    assert table_rows(url, "enrollments") == 1 and len(event_bus.of_type("EnrollmentCreated")) == 1


def test_a_payment_whose_event_cannot_be_recorded_leaves_neither_the_payment_nor_the_event(
    domain_database, facts, event_bus, token_for
):
    url = domain_database("payment")
    course_id = facts.add_course(price="49.99")
    body = {"course_id": course_id, "amount": "49.99"}
    with outbox_refusing_events(url):
        response = call("payment.handlers.create_payment", body=body, token=token_for("student"))
    assert response.status == 500 and set(response.json()) == {"detail", "request_id"}
    assert table_rows(url, "payments") == 0 and table_rows(url, "outbox") == 0
    assert event_bus.relayed() == []


def test_a_payment_whose_course_facts_are_unavailable_writes_nothing(
    domain_database, facts, event_bus, idempotency_table, token_for
):
    url = domain_database("payment")
    course_id = facts.add_course(price="49.99")
    facts.broken["test-course-facts"] = "unreachable"
    token = token_for("student")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"course_id": course_id, "amount": "49.99"}
    response = call("payment.handlers.create_payment", body=body, token=token, headers=key)
    assert response.status == 503 and response.json() == {
        "detail": "The course service is unavailable, try again later"
    }
    assert table_rows(url, "payments") == 0 and table_rows(url, "outbox") == 0
    # The failed attempt did not burn the idempotency key: the same request succeeds once the course domain is back.
    del facts.broken["test-course-facts"]
    retried = call("payment.handlers.create_payment", body=body, token=token, headers=key)
    assert retried.status == 201 and table_rows(url, "payments") == 1


def test_a_payment_whose_database_is_down_writes_nothing_and_its_key_stays_usable(
    domain_database, facts, event_bus, idempotency_table, token_for, refusing_database_url, monkeypatch
):
    url = domain_database("payment")
    course_id = facts.add_course(price="49.99")
    token = token_for("student")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"course_id": course_id, "amount": "49.99"}
    use_database_url(monkeypatch, refusing_database_url[0])
    response = call("payment.handlers.create_payment", body=body, token=token, headers=key)
    assert response.status == 503 and response.json() == {
        "detail": "The domain database is unavailable, try again later"
    }
    use_database_url(monkeypatch, url)
    assert table_rows(url, "payments") == 0
    assert call("payment.handlers.create_payment", body=body, token=token, headers=key).status == 201
    assert table_rows(url, "payments") == 1 and len(event_bus.of_type("PaymentCompleted")) == 1


# ---- login does not tell whether an email exists ------------------------------------------------------------


def login(email: str, password: str):
    started = time.perf_counter()
    response = call("identity.handlers.login", body={"email": email, "password": password})
    return response, time.perf_counter() - started


def test_unknown_email_and_wrong_password_get_the_same_answer_in_about_the_same_time(
    domain_database, event_bus, monkeypatch
):
    """Timing belongs in benchmarks, but here time is the property itself, so it is asserted coarsely.

    At bcrypt cost 10 (~50 ms a check, against ~1 ms for the database lookup) a login that
    skipped the password check would take a small fraction of one that did; the medians of
    nine interleaved calls each must be within 25 % of each other, which leaves room for a
    loaded machine and none for a skipped check.
    """
    domain_database("identity")
    monkeypatch.setenv("BCRYPT_ROUNDS", "10")
    settings.get_settings.cache_clear()
    monkeypatch.setattr(security, "_timing_decoy_hash", None)
    email = "known@example.com"
    assert (
        call("identity.handlers.register", body={"email": email, "password": "password123", "name": "K"}).status == 200
    )

    wrong_password, unknown_email = [], []
    for attempt in range(10):
        known, known_time = login(email, "not-the-password")
        unknown, unknown_time = login(f"nobody{attempt}@example.com", "not-the-password")
        assert (
            (known.status, known.text)
            == (unknown.status, unknown.text)
            == (400, '{"detail": "Incorrect email or password"}')
        )
        assert known.headers == unknown.headers
        if attempt:  # the first round warms up (the unknown-email path builds its decoy hash once)
            wrong_password.append(known_time)
            unknown_email.append(unknown_time)
    fast, slow = sorted([statistics.median(wrong_password), statistics.median(unknown_email)])
    assert fast >= 0.75 * slow, (
        f"medians {statistics.median(wrong_password):.4f}s (wrong password) "
        f"vs {statistics.median(unknown_email):.4f}s (unknown email)"
    )
    settings.get_settings.cache_clear()


# ---- no secret in any log line -------------------------------------------------------------------------------


@pytest.fixture
def captured_logs(capsys, caplog):
    """Everything the functions log: the Powertools logger (at DEBUG), other loggers, stdout/stderr (EMF)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    powertools_logger = logging.getLogger(logger.name)
    powertools_logger.addHandler(handler)
    previous_level = powertools_logger.level
    powertools_logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)

    def text() -> str:
        out, err = capsys.readouterr()
        return f"{stream.getvalue()}\n{caplog.text}\n{out}\n{err}"

    yield text
    powertools_logger.removeHandler(handler)
    powertools_logger.setLevel(previous_level)


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, parts.fragment))


class Unreachable:
    def put_events(self, **_):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="http://events.invalid")


def test_a_full_flow_logs_no_password_hash_token_or_secret(
    domain_database, facts, event_bus, idempotency_table, token_for, monkeypatch, captured_logs, refusing_database_url
):
    # Trust authentication ignores the password, so the URLs can carry one to look for.
    db_password = "database-password-5f1c9e"

    def use(domain: str) -> str:
        url = with_password(domain_database(domain), db_password)
        use_database_url(monkeypatch, url)
        return url

    student_password, teacher_password = "student-pass-81d2", "teacher-pass-4c7a"
    identity_url = use("identity")
    from tests.unit.test_sessions import FakeSes

    from identity import mailer

    ses = FakeSes()
    mailer.use_client(ses)
    student = call(
        "identity.handlers.register", body={"email": "s@example.com", "password": student_password, "name": "S"}
    )
    teacher = call(
        "identity.handlers.register",
        body={"email": "t@example.com", "password": teacher_password, "name": "T", "role": "teacher"},
    )
    assert (
        call("identity.handlers.register", body={"email": "x@example.com", "password": "Sh0rt!", "name": "X"}).status
        == 422
    )
    assert login("s@example.com", "wrong-pass-93be")[0].status == 400
    assert login("nobody@example.com", "wrong-pass-93be")[0].status == 400
    student_token = login("s@example.com", student_password)[0].json()["access_token"]
    teacher_id = security.decode_token(teacher.json()["access_token"]).user_id
    admin_token = token_for("admin")
    assert call("identity.handlers.me", token=student_token).status == 200
    assert call("identity.handlers.me", token=student_token[:-4] + "AAAA").status == 401  # a forged signature
    assert call("identity.handlers.verify_teacher", {"user_id": teacher_id}, token=admin_token).status == 200
    teacher_token = login("t@example.com", teacher_password)[0].json()["access_token"]
    # Sessions and account recovery: refresh tokens, email link tokens, a reset password.
    refresh_tokens = [student.json()["refresh_token"], teacher.json()["refresh_token"]]
    renewed = call("identity.handlers.refresh", body={"refresh_token": refresh_tokens[0]}).json()["refresh_token"]
    refresh_tokens.append(renewed)
    assert call("identity.handlers.refresh", body={"refresh_token": refresh_tokens[0]}).status == 401  # reuse
    assert call("identity.handlers.logout", body={"refresh_token": refresh_tokens[1]}).status == 204
    link_tokens = [ses.last_token("s@example.com")]
    assert call("identity.handlers.verify_email", body={"token": link_tokens[0]}).status == 200
    assert call("identity.handlers.verify_email", body={"token": link_tokens[0]}).status == 400
    assert call("identity.handlers.forgot_password", body={"email": "s@example.com"}).status == 202
    ses.down = True
    assert mailer.relay()["failed"] == 1  # an SES outage is logged, without the email's content
    ses.down = False
    assert mailer.relay()["sent"] == 1
    link_tokens.append(ses.last_token("s@example.com"))
    reset_password = "reset-pass-2e9f"
    assert (
        call("identity.handlers.reset_password", body={"token": link_tokens[1], "new_password": reset_password}).status
        == 204
    )
    assert (
        call("identity.handlers.reset_password", body={"token": link_tokens[1], "new_password": "x" * 9}).status == 400
    )
    student_token = login("s@example.com", reset_password)[0].json()["access_token"]
    refresh_tokens.append(login("s@example.com", reset_password)[0].json()["refresh_token"])
    mailer.use_client(None)
    with psycopg.connect(identity_url) as conn:
        hashes = [row[0] for row in conn.execute("SELECT password_hash FROM users")]
    relay.relay()  # the registrations' events, as the domain's listener publishes them

    use("course")
    assert (
        call(
            "course.handlers.create_course",
            token=teacher_token,
            body={"title": "Reliable Python", "is_free": False, "price": "49.99"},
        ).status
        == 201
    )

    use("payment")
    course_id = facts.add_course(price="49.99")
    relay.use_client(Unreachable())  # the relay fails to publish the payment's event and logs it as such
    payment = call(
        "payment.handlers.create_payment",
        body={"course_id": course_id, "amount": "49.99"},
        token=student_token,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert payment.status == 201
    from payment.internal import outbox_relay

    assert outbox_relay.handler({}, FakeLambdaContext())["failed"] == 1
    relay.use_client(None)
    assert outbox_relay.handler({}, FakeLambdaContext())["published"] == 1
    payment_id = payment.json()["id"]
    facts.payments[payment_id] = {
        "found": True,
        "payment_id": payment_id,
        "course_id": course_id,
        "status": "completed",
        "student_id": str(security.decode_token(student_token).user_id),
        "amount": "49.99",
    }

    use("enrollment")
    assert (
        call(
            "enrollment.handlers.enroll", body={"course_id": course_id, "payment_id": payment_id}, token=student_token
        ).status
        == 201
    )
    relay.relay()

    use("notification")
    from tests.support.lambda_events import sqs_event

    from notification import consumer

    # What the notification rule routes (the course's facts events go to the read models).
    notified = {"UserRegistered", "PaymentCompleted", "EnrollmentCreated"}
    for envelope in (event for event in event_bus.published() if event["detail-type"] in notified):
        assert consumer.handler(sqs_event(envelope), FakeLambdaContext())["batchItemFailures"] == []
    assert call("notification.handlers.my_notifications", token=student_token).status == 200

    use_database_url(monkeypatch, with_password(refusing_database_url[0], db_password))  # and a database outage
    assert call("notification.handlers.my_notifications", token=student_token).status == 503

    logs = captured_logs()
    assert "request handled" in logs and "database unavailable" in logs and "event not published" in logs
    assert "email not sent" in logs and "emails sent" in logs
    secrets = {
        "a password": [student_password, teacher_password, "wrong-pass-93be", "Sh0rt!", reset_password],
        "a refresh token": refresh_tokens,
        "an email link token": link_tokens,
        "a password hash": ["$2b$", *hashes],
        "an access token": [
            student_token,
            teacher_token,
            admin_token,
            *(t.rsplit(".", 1)[1] for t in (student_token, teacher_token, admin_token)),
        ],
        "the JWT secret": [security.jwt_secret()],
        "the database password": [db_password],
    }
    for kind, values in secrets.items():
        for value in values:
            assert value not in logs, f"{kind} reached the logs"
