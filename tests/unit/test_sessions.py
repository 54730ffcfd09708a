"""Sessions, account recovery, abuse limits (docs/api.md): every new row through the handlers, real PostgreSQL,
SES and the Lambda API replaced by recording fakes, the limit counters in the machine's Redis."""

import hashlib
import re
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg
import pytest
import redis
from botocore.exceptions import EndpointConnectionError

from tests.support.lambda_events import FakeLambdaContext, call

from eduplatform import cors, internal_calls, limits, security, settings
from eduplatform.db import Database

REGISTER = "identity.handlers.register"
LOGIN = "identity.handlers.login"
ME = "identity.handlers.me"
REFRESH = "identity.handlers.refresh"
LOGOUT = "identity.handlers.logout"
LOGOUT_ALL = "identity.handlers.logout_all"
VERIFY_EMAIL = "identity.handlers.verify_email"
RESEND = "identity.handlers.resend_verification"
FORGOT = "identity.handlers.forgot_password"
RESET = "identity.handlers.reset_password"
REDIS_URL = "redis://127.0.0.1:6379/0"
DAY = 24 * 3600


@dataclass
class FakeSes:
    """The sesv2 client as identity.mailer uses it: keeps what it is asked to send, or fails when told to."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False

    def send_email(self, **message: Any) -> dict[str, str]:
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://email.invalid")
        self.sent.append(message)
        return {"MessageId": str(uuid.uuid4())}

    def to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["Destination"]["ToAddresses"] == [address]]

    def last_token(self, address: str) -> str:
        """The token of the link in the last email to ``address``, read as a user would, from its text."""
        text = self.to(address)[-1]["Content"]["Simple"]["Body"]["Text"]["Data"]
        url = re.search(r"https?://\S+", text).group(0)
        return parse_qs(urlsplit(url).query)["token"][0]


@dataclass
class FakeLambda:
    """The Lambda client: records the asynchronous pokes of the mail relay."""

    invoked: list[tuple[str, str]] = field(default_factory=list)

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        self.invoked.append((FunctionName, InvocationType))
        return {"StatusCode": 202}


@pytest.fixture
def identity_db(domain_database):
    return domain_database("identity")


@pytest.fixture
def ses(monkeypatch):
    from identity import mailer

    fake = FakeSes()
    mailer.use_client(fake)
    monkeypatch.setenv("MAIL_RELAY_FUNCTION", "test-mail-relay")
    lambda_fake = FakeLambda()
    internal_calls.use_client(lambda_fake)
    fake.lambda_client = lambda_fake
    yield fake
    mailer.use_client(None)
    internal_calls.use_client(None)


def reconfigure(monkeypatch, **variables: Any) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    settings.get_settings.cache_clear()
    limits.reset_limits()


@pytest.fixture
def clock(monkeypatch):
    """Move the stack's clock (eduplatform.clock): clock.advance(seconds)."""

    class Clock:
        offset = 0

        def advance(self, seconds: int) -> None:
            self.offset += seconds
            reconfigure(monkeypatch, CLOCK_OFFSET_SECONDS=self.offset)

    yield Clock()
    monkeypatch.delenv("CLOCK_OFFSET_SECONDS", raising=False)
    settings.get_settings.cache_clear()


@pytest.fixture
def limit_store(monkeypatch):
    """The limits counted in the machine's Redis, under a key prefix of this test's own."""
    prefix = f"unit-{uuid.uuid4().hex[:12]}:"
    reconfigure(monkeypatch, CACHE_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.fail("Redis on 127.0.0.1:6379 is needed by the limit tests")
    yield prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    monkeypatch.delenv("CACHE_URL")
    settings.get_settings.cache_clear()
    limits.reset_limits()


def register(email="ada@example.com", password="password123", name="Ada", role="student", ip=None):
    headers = {"X-Forwarded-For": ip} if ip else None
    return call(REGISTER, body={"email": email, "password": password, "name": name, "role": role}, headers=headers)


def login(email="ada@example.com", password="password123", ip=None):
    headers = {"X-Forwarded-For": ip} if ip else None
    return call(LOGIN, body={"email": email, "password": password}, headers=headers)


def refresh(token: str):
    return call(REFRESH, body={"refresh_token": token})


def rows(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


# ---- tokens on register and login -------------------------------------------------------------


def test_register_and_login_hand_out_a_refresh_token_stored_only_as_its_hash(identity_db, ses):
    first = register().json()
    second = login().json()
    for body in (first, second):
        assert body["token_type"] == "bearer" and body["expires_in"] == 900
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", body["refresh_token"])  # >= 256 random bits, URL-safe
    assert first["refresh_token"] != second["refresh_token"]
    stored = rows(identity_db, "SELECT token_hash, family_id FROM refresh_tokens")
    assert len(stored) == 2 and len({family for _, family in stored}) == 2  # a family per login
    hashes = {bytes(token_hash) for token_hash, _ in stored}
    assert hashes == {hashlib.sha256(b["refresh_token"].encode()).digest() for b in (first, second)}
    dump = "\n".join(
        str(row)
        for table in ("refresh_tokens", "refresh_families", "email_tokens", "mail_outbox")
        for row in rows(identity_db, f"SELECT * FROM {table}")
    )
    assert first["refresh_token"] not in dump and second["refresh_token"] not in dump


# ---- POST /refresh --------------------------------------------------------------------------------


def test_refresh_rotates_within_the_family_and_spends_the_token(identity_db, ses):
    tokens = register().json()
    renewed = refresh(tokens["refresh_token"])
    assert renewed.status == 200
    body = renewed.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["refresh_token"] != tokens["refresh_token"]
    assert security.decode_token(body["access_token"]).user_id == security.decode_token(tokens["access_token"]).user_id
    assert call(ME, token=body["access_token"]).status == 200
    families = rows(identity_db, "SELECT DISTINCT family_id FROM refresh_tokens")
    assert len(families) == 1
    assert refresh(body["refresh_token"]).status == 200  # the new one works once too


def test_a_spent_token_presented_again_revokes_its_family_only(identity_db, ses):
    stolen = register().json()["refresh_token"]
    other_login = login().json()["refresh_token"]
    current = refresh(stolen).json()["refresh_token"]

    reuse = refresh(stolen)
    assert reuse.status == 401
    assert reuse.json() == {"detail": "Refresh token already used; every session of this login has been revoked"}
    assert refresh(current).status == 401  # the legitimate holder's newer token died with the family
    assert rows(identity_db, "SELECT count(*) FROM refresh_families WHERE revoked_at IS NOT NULL") == [(1,)]
    assert refresh(other_login).status == 200  # another login's family lives on


@pytest.mark.parametrize("token", ["unknown-token-" + "x" * 30, "A" * 43])
def test_refresh_with_an_unknown_token_is_401(identity_db, token):
    response = refresh(token)
    assert response.status == 401 and response.json() == {"detail": "Invalid or expired refresh token"}


def test_refresh_works_for_a_day_of_refreshes_and_the_token_expires_after_its_ttl(identity_db, ses, clock):
    token = register().json()["refresh_token"]
    for _ in range(24):  # a day of hourly refreshes: every access token lives 15 minutes, the session goes on
        clock.advance(3600)
        response = refresh(token)
        assert response.status == 200, response.text
        token = response.json()["refresh_token"]
        assert call(ME, token=response.json()["access_token"]).status == 200
    clock.advance(30 * DAY + 1)
    expired = refresh(token)
    assert expired.status == 401 and expired.json() == {"detail": "Invalid or expired refresh token"}


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": ""}, {"refresh_token": "has spaces"}, {"refresh_token": "x" * 129}, {"refresh_token": 42}],
)
def test_refresh_and_logout_refuse_malformed_bodies_with_422(identity_db, body):
    for module in (REFRESH, LOGOUT):
        response = call(module, body=body)
        assert response.status == 422
        assert [error["loc"] for error in response.json()["detail"]] == [["body", "refresh_token"]]


@pytest.fixture
def database_per_thread(identity_db, monkeypatch):
    """Call it to give each thread its own connection to the identity database, as separate instances have."""

    def use() -> None:
        from identity import service

        local = threading.local()

        def thread_database() -> Database:
            if not hasattr(local, "db"):
                local.db = Database(identity_db, "identity")
            return local.db

        monkeypatch.setattr(service, "database", thread_database)

    return use


def test_concurrent_refreshes_of_one_token_exactly_one_wins(identity_db, ses, database_per_thread):
    """Eight threads, each with its own connection to the real database, spend the same token at once."""
    from identity import service

    token = register().json()["refresh_token"]
    database_per_thread()
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            service.refresh(token)
            result = "won"
        except Exception as exc:  # UnauthorizedError for the losers
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["UnauthorizedError"] * 7 + ["won"]
    assert rows(identity_db, "SELECT count(*) FROM refresh_tokens WHERE spent_at IS NOT NULL") == [(1,)]


# ---- POST /logout, POST /logout/all ----------------------------------------------------------------


def test_logout_revokes_that_family_and_an_unknown_token_is_also_204(identity_db, ses):
    first = register().json()["refresh_token"]
    second = login().json()["refresh_token"]
    response = call(LOGOUT, body={"refresh_token": first})
    assert response.status == 204 and response.text == ""
    assert refresh(first).status == 401
    assert refresh(second).status == 200
    assert call(LOGOUT, body={"refresh_token": "never-issued-" + "z" * 30}).status == 204


def test_logout_all_revokes_every_family_of_the_caller(identity_db, ses):
    first = register().json()
    second = login().json()
    other = register(email="bob@example.com").json()
    assert call(LOGOUT_ALL, token=first["access_token"]).status == 204
    assert refresh(first["refresh_token"]).status == 401 and refresh(second["refresh_token"]).status == 401
    assert refresh(other["refresh_token"]).status == 200
    assert call(LOGOUT_ALL).status == 401


# ---- the scheduled purge ---------------------------------------------------------------------------


def test_the_purge_deletes_expired_and_long_revoked_rows_and_keeps_live_ones(identity_db, ses, clock):
    from identity.internal import purge_sessions

    revoked = register().json()["refresh_token"]
    call(LOGOUT, body={"refresh_token": revoked})
    clock.advance(8 * DAY)  # the revoked family is a week old, the verification token long expired
    live = login().json()["refresh_token"]
    counts = purge_sessions.handler({}, FakeLambdaContext())
    assert counts["refresh_families"] == 1 and counts["email_tokens"] == 1
    assert rows(identity_db, "SELECT count(*) FROM refresh_families") == [(1,)]
    assert refresh(live).status == 200
    clock.advance(31 * DAY)
    assert purge_sessions.handler({}, FakeLambdaContext())["refresh_tokens"] == 2
    assert rows(identity_db, "SELECT count(*) FROM refresh_tokens") == [(0,)]
    assert rows(identity_db, "SELECT count(*) FROM refresh_families") == [(0,)]


# ---- email verification ---------------------------------------------------------------------------------


def test_registering_sends_a_verification_email_whose_token_verifies_once(identity_db, ses):
    tokens = register(email="Ada@Example.com").json()
    (email,) = ses.to("Ada@example.com")
    assert email["FromEmailAddress"] == "no-reply@eduplatform.local"
    assert "Confirm" in email["Content"]["Simple"]["Subject"]["Data"]
    token = ses.last_token("Ada@example.com")
    assert token in email["Content"]["Simple"]["Body"]["Html"]["Data"]
    assert call(ME, token=tokens["access_token"]).json()["email_verified"] is False

    response = call(VERIFY_EMAIL, body={"token": token})
    assert response.status == 200
    body = response.json()
    assert body == {
        "id": str(security.decode_token(tokens["access_token"]).user_id),
        "email": "Ada@example.com",
        "email_verified": True,
    }
    assert call(ME, token=tokens["access_token"]).json()["email_verified"] is True
    relogin = login(email="ada@example.com").json()["access_token"]
    assert jwt.decode(relogin, options={"verify_signature": False})["email_verified"] is True
    assert security.decode_token(relogin).email_verified is True

    again = call(VERIFY_EMAIL, body={"token": token})
    assert again.status == 400 and again.json() == {"detail": "Invalid, used or expired token"}
    # Stored as a hash; the outbox holds no token either.
    dump = "\n".join(str(r) for t in ("email_tokens", "mail_outbox") for r in rows(identity_db, f"SELECT * FROM {t}"))
    assert token not in dump


def test_a_verification_token_expires_after_24_hours(identity_db, ses, clock):
    register()
    clock.advance(DAY + 1)
    response = call(VERIFY_EMAIL, body={"token": ses.last_token("ada@example.com")})
    assert response.status == 400 and response.json() == {"detail": "Invalid, used or expired token"}


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "<script>"}, {"token": "t" * 129}, {"token": None}])
def test_verify_email_malformed_body_is_422(identity_db, body):
    assert call(VERIFY_EMAIL, body=body).status == 422


def test_an_unknown_or_reset_token_does_not_verify(identity_db, ses):
    register()
    call(FORGOT, body={"email": "ada@example.com"})
    from identity import mailer

    mailer.relay()
    reset_token = ses.last_token("ada@example.com")
    for token in ("A" * 43, reset_token):
        response = call(VERIFY_EMAIL, body={"token": token})
        assert response.status == 400 and response.json() == {"detail": "Invalid, used or expired token"}


def test_a_rolled_back_registration_sends_nothing(identity_db, ses, monkeypatch):
    from identity import repository

    assert register().status == 200
    assert register(email="ADA@example.com").status == 409  # refused inside the transaction
    original = repository.insert_mail

    def insert_then_fail(conn, *args):
        original(conn, *args)
        raise RuntimeError("injected after the email was recorded")

    monkeypatch.setattr(repository, "insert_mail", insert_then_fail)
    assert register(email="bob@example.com").status == 500
    assert [m["Destination"]["ToAddresses"] for m in ses.sent] == [["ada@example.com"]]
    assert rows(identity_db, "SELECT count(*) FROM mail_outbox") == [(1,)]
    assert rows(identity_db, "SELECT count(*) FROM users WHERE email = 'bob@example.com'") == [(0,)]


def test_an_ses_outage_delays_the_email_and_the_relay_sends_it_later(identity_db, ses):
    from identity.internal import mail_relay

    ses.down = True
    assert register().status == 200
    assert ses.sent == []
    assert rows(identity_db, "SELECT attempts, sent_at IS NULL, last_error IS NOT NULL FROM mail_outbox") == [
        (1, True, True)
    ]
    assert mail_relay.handler({}, FakeLambdaContext()) == {"sent": 0, "failed": 1}
    ses.down = False
    assert mail_relay.handler({}, FakeLambdaContext()) == {"sent": 1, "failed": 0}
    assert mail_relay.handler({}, FakeLambdaContext()) == {"sent": 0, "failed": 0}  # sent once
    assert call(VERIFY_EMAIL, body={"token": ses.last_token("ada@example.com")}).status == 200


def test_an_email_whose_link_was_replaced_while_ses_was_down_is_not_sent(identity_db, ses):
    from identity import mailer

    ses.down = True
    access = register().json()["access_token"]
    assert call(RESEND, token=access).status == 202  # the first link is retired; both emails wait
    ses.down = False
    assert mailer.relay() == {"sent": 1, "failed": 0}
    (_email,) = ses.to("ada@example.com")
    assert call(VERIFY_EMAIL, body={"token": ses.last_token("ada@example.com")}).status == 200
    assert rows(identity_db, "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL") == [(0,)]
    assert rows(identity_db, "SELECT count(*) FROM mail_outbox WHERE last_error LIKE 'not sent:%%'") == [(1,)]


# ---- POST /resend-verification -----------------------------------------------------------------------------


def test_resend_sends_a_new_link_and_the_earlier_ones_stop_working(identity_db, ses):
    access = register().json()["access_token"]
    first = ses.last_token("ada@example.com")
    response = call(RESEND, token=access)
    assert response.status == 202 and isinstance(response.json()["message"], str)
    second = ses.last_token("ada@example.com")
    assert second != first and len(ses.to("ada@example.com")) == 2
    assert call(VERIFY_EMAIL, body={"token": first}).status == 400
    assert call(VERIFY_EMAIL, body={"token": second}).status == 200
    already = call(RESEND, token=access)
    assert already.status == 409 and already.json() == {"detail": "Email is already verified"}


def test_resend_more_than_3_an_hour_is_429_with_retry_after(identity_db, ses, clock):
    access = register().json()["access_token"]
    assert [call(RESEND, token=access).status for _ in range(3)] == [202, 202, 202]
    refused = call(RESEND, token=access)
    assert refused.status == 429
    assert refused.json() == {"detail": "Too many verification emails requested; try again later"}
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3601
    assert len(ses.to("ada@example.com")) == 4  # registration + 3
    clock.advance(3601)
    assert call(RESEND, token=login().json()["access_token"]).status == 202


def test_resend_needs_a_token_and_a_user(identity_db, token_for):
    assert call(RESEND).status == 401
    assert call(RESEND, token=token_for("student")).status == 404


# ---- POST /forgot-password, POST /reset-password ------------------------------------------------------------


def forgot(email: str):
    started = time.perf_counter()
    response = call(FORGOT, body={"email": email})
    return response, time.perf_counter() - started


def test_forgot_password_answers_alike_and_emails_only_known_accounts(identity_db, ses):
    from identity import mailer

    register()
    known, _ = forgot("ADA@example.com")
    unknown, _ = forgot("nobody@example.com")
    assert known.status == unknown.status == 202
    assert known.text == unknown.text and known.headers == unknown.headers
    # Neither request called SES; both poked the relay the same way.
    assert len(ses.to("ada@example.com")) == 1  # the verification email only
    assert ses.lambda_client.invoked == [("test-mail-relay", "Event")] * 2
    assert mailer.relay() == {"sent": 1, "failed": 0}
    reset = ses.to("ada@example.com")[-1]
    assert "Reset" in reset["Content"]["Simple"]["Subject"]["Data"]
    assert ses.to("nobody@example.com") == []


def test_forgot_password_sends_at_most_3_an_hour_and_drops_the_rest_silently(identity_db, ses, clock):
    from identity import mailer

    register()
    answers = []
    for _ in range(5):
        answers.append(call(FORGOT, body={"email": "ada@example.com"}))
        mailer.relay()  # what the poked relay does right after each request
    assert {(a.status, a.text) for a in answers} == {(202, answers[0].text)}
    assert len(ses.to("ada@example.com")) == 1 + 3
    # Only the newest link works.
    assert rows(
        identity_db, "SELECT count(*) FROM email_tokens WHERE purpose = 'reset_password' AND used_at IS NULL"
    ) == [(1,)]
    clock.advance(3601)
    call(FORGOT, body={"email": "ada@example.com"})
    mailer.relay()
    assert len(ses.to("ada@example.com")) == 5


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": ""},
        {"email": "a\nb@example.com"},
        {"email": "e" * 321},
        {"email": "not-an-email"},
        {"email": "ada@"},
        {"email": "@example.com"},
        {"email": "ada example.com"},
        {"email": 5},
        {"email": None},
    ],
)
def test_forgot_password_malformed_body_is_422(identity_db, body):
    response = call(FORGOT, body=body)
    assert response.status == 422 and isinstance(response.json()["detail"], list)
    assert response.json()["detail"][0]["loc"][-1] in ("email", "body")


def test_forgot_password_refuses_what_register_refuses(identity_db):
    for email in ("not-an-email", "ada@", "a b@example.com"):
        registered = call(REGISTER, body={"email": email, "password": "password123", "name": "Ada"})
        assert registered.status == call(FORGOT, body={"email": email}).status == 422


def test_forgot_password_of_a_well_formed_unknown_address_is_202(identity_db, ses):
    response = call(FORGOT, body={"email": "nobody.at.all@example.com"})
    assert response.status == 202


def test_forgot_password_takes_about_the_same_time_for_known_and_unknown_emails(identity_db, ses, monkeypatch):
    """As for login: time is the property itself. The answer waits for a floor (0.3 s) whatever happened;
    without it a known email's extra statements would show. Medians of nine interleaved calls within 25 %."""
    register()
    known_times, unknown_times = [], []
    for attempt in range(10):
        known, known_time = forgot("ada@example.com")
        unknown, unknown_time = forgot(f"nobody{attempt}@example.com")
        assert (known.status, known.text) == (unknown.status, unknown.text)
        if attempt:
            known_times.append(known_time)
            unknown_times.append(unknown_time)
    fast, slow = sorted([statistics.median(known_times), statistics.median(unknown_times)])
    assert fast >= 0.75 * slow, (
        f"medians {statistics.median(known_times):.4f}s (known) vs {statistics.median(unknown_times):.4f}s"
    )


def test_reset_password_changes_it_spends_the_token_and_revokes_every_session(identity_db, ses):
    from identity import mailer

    sessions = [register().json()["refresh_token"], login().json()["refresh_token"]]
    call(FORGOT, body={"email": "ada@example.com"})
    mailer.relay()
    token = ses.last_token("ada@example.com")
    response = call(RESET, body={"token": token, "new_password": "new-password-456"})
    assert response.status == 204 and response.text == ""
    assert all(refresh(session).status == 401 for session in sessions)
    assert login(password="password123").status == 400
    assert login(password="new-password-456").status == 200
    again = call(RESET, body={"token": token, "new_password": "another-password"})
    assert again.status == 400 and again.json() == {"detail": "Invalid, used or expired token"}


def test_a_reset_token_expires_and_a_verification_token_does_not_reset(identity_db, ses, clock):
    from identity import mailer

    register()
    verification = ses.last_token("ada@example.com")
    call(FORGOT, body={"email": "ada@example.com"})
    mailer.relay()
    reset = ses.last_token("ada@example.com")
    assert call(RESET, body={"token": verification, "new_password": "new-password-456"}).status == 400
    clock.advance(3601)
    expired = call(RESET, body={"token": reset, "new_password": "new-password-456"})
    assert expired.status == 400 and expired.json() == {"detail": "Invalid, used or expired token"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": "t" * 43, "new_password": "short"}, "new_password"),
        ({"token": "t" * 43, "new_password": "p" * 73}, "new_password"),
        ({"token": "t" * 43}, "new_password"),
        ({"token": "bad token", "new_password": "password123"}, "token"),
        ({"new_password": "password123"}, "token"),
    ],
)
def test_reset_password_follows_the_registration_password_rules(identity_db, body, field):
    response = call(RESET, body=body)
    assert response.status == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])


# ---- limits ----------------------------------------------------------------------------------------------


def test_30_wrong_passwords_from_30_addresses_lock_the_account_after_5_until_the_window_passes(
    identity_db, ses, limit_store, clock
):
    register(ip="10.0.0.1")
    answers = [login(password=f"wrong-{i}", ip=f"10.1.0.{i}") for i in range(30)]
    assert [a.status for a in answers] == [400] * 5 + [429] * 25
    assert answers[5].json() == {"detail": "Too many failed login attempts for this account; try again later"}
    assert 1 <= int(answers[5].headers["Retry-After"]) <= 900
    during = login(ip="10.2.0.1")  # the right password does not bypass the lock
    assert during.status == 429 and "Retry-After" in during.headers
    assert login(email="bob@example.com", ip="10.2.0.2").status == 400  # another account is not locked
    clock.advance(int(during.headers["Retry-After"]) + 1)
    assert login(ip="10.2.0.3").status == 200


def test_a_correct_login_clears_earlier_failures_and_correct_logins_never_lock(identity_db, ses, limit_store):
    register(ip="10.0.0.1")
    assert [login(password="wrong", ip=f"10.3.0.{i}").status for i in range(4)] == [400] * 4
    assert login(ip="10.3.1.1").status == 200
    assert [login(password="wrong", ip=f"10.3.2.{i}").status for i in range(4)] == [400] * 4
    # A load test's logins: the same account, right password, many times.
    assert {login(ip=f"10.4.0.{i}").status for i in range(30)} == {200}


def test_logins_per_address_are_limited_to_20_a_minute(identity_db, ses, limit_store, clock):
    register(ip="10.0.0.1")
    clock.advance(60 - int(time.time()) % 60)  # the start of a minute, so the 21 calls share it
    answers = [login(ip="10.5.0.1") for _ in range(21)]
    assert [a.status for a in answers] == [200] * 20 + [429]
    assert answers[-1].json() == {"detail": "Too many requests from this address; try again later"}
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert login(ip="10.5.0.2").status == 200
    clock.advance(60)
    assert login(ip="10.5.0.1").status == 200


def test_registrations_per_address_are_limited_to_5_a_minute(identity_db, ses, limit_store, clock):
    clock.advance(60 - int(time.time()) % 60)
    answers = [register(email=f"u{i}@example.com", ip="10.6.0.1") for i in range(6)]
    assert [a.status for a in answers] == [200] * 5 + [429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert rows(identity_db, "SELECT count(*) FROM users") == [(5,)]
    assert register(email="other@example.com", ip="10.6.0.2").status == 200


def test_limits_fail_open_when_the_store_is_down(identity_db, ses, monkeypatch, refusing_port):
    reconfigure(monkeypatch, CACHE_URL=f"redis://127.0.0.1:{refusing_port}/0")
    register(ip="10.7.0.1")
    assert [login(password="wrong", ip="10.7.0.1").status for _ in range(8)] == [400] * 8
    assert login(ip="10.7.0.1").status == 200
    limits.reset_limits()


@pytest.fixture
def refusing_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: connections to it are refused


# ---- headers ------------------------------------------------------------------------------------------------


def test_every_response_says_nosniff_and_authenticated_or_token_answers_are_not_stored(identity_db, ses):
    tokens = register().json()
    public_error = call(LOGIN, body={})
    me = call(ME, token=tokens["access_token"])
    unauthenticated = call(ME)
    for response in (public_error, me, unauthenticated, refresh(tokens["refresh_token"]), login()):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert me.headers["Cache-Control"] == "no-store"
    assert login().headers["Cache-Control"] == "no-store"
    assert refresh(login().json()["refresh_token"]).headers["Cache-Control"] == "no-store"


def test_a_public_read_carries_nosniff_but_no_cache_control(domain_database):
    domain_database("course")
    response = call("course.handlers.list_courses")
    assert response.status == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cache-Control" not in response.headers


def test_cors_allowed_origins_come_from_configuration(monkeypatch):
    reconfigure(monkeypatch, CORS_ALLOWED_ORIGINS="https://app.example.com,https://admin.example.com")
    config = cors.cors_config()
    assert config.to_dict("https://admin.example.com")["Access-Control-Allow-Origin"] == "https://admin.example.com"
    assert config.to_dict("https://app.example.com")["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in config.to_dict("https://evil.example.com")
    # The app's origin joined with an empty CorsAllowedOrigins, and with "*".
    reconfigure(monkeypatch, CORS_ALLOWED_ORIGINS="https://app.example.com,")
    assert "Access-Control-Allow-Origin" not in cors.cors_config().to_dict("https://evil.example.com")
    reconfigure(monkeypatch, CORS_ALLOWED_ORIGINS="https://app.example.com,*")
    assert cors.cors_config().to_dict("https://evil.example.com")["Access-Control-Allow-Origin"] in (
        "*",
        "https://evil.example.com",
    )
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
    settings.get_settings.cache_clear()
    assert cors.cors_config().to_dict("https://anyone.example.com")["Access-Control-Allow-Origin"] in (
        "*",
        "https://anyone.example.com",
    )


# ---- the template ----------------------------------------------------------------------------------


def test_the_template_schedules_the_purge_and_the_mail_relay_and_throttles_the_stage():
    from infra.template import generate

    template = generate.read_template()
    functions = generate.serverless_functions(template)
    for logical_id, rate in (
        ("IdentityInternalPurgeSessionsFunction", "rate(1 hour)"),
        ("IdentityInternalMailRelayFunction", "rate(1 minute)"),
    ):
        (event,) = functions[logical_id]["Events"].values()
        assert event == {"Type": "Schedule", "Properties": {"Schedule": rate}}
    (setting,) = template["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(setting)
    parameters = template["Parameters"]
    assert parameters["JwtTtlSeconds"]["Default"] == 900
    assert parameters["LoginPerIpPerMinute"]["Default"] == 20 and parameters["RegisterPerIpPerMinute"]["Default"] == 5
    assert parameters["CorsAllowedOrigins"]["Default"] == "" and "EmailSender" in parameters
    # The app's address and the origins allowed to call the API default to the stack's distribution.
    assert parameters["AppBaseUrl"]["Default"] == "" and parameters["EmulatorEndpoint"]["Default"] == ""
    # POST /forgot-password may poke the relay (through its alias); the functions that send may use SES.
    assert functions["IdentityApiFunction"]["Environment"]["Variables"]["MAIL_RELAY_FUNCTION"] == {
        "Ref": "IdentityInternalMailRelayFunction.Alias"
    }


# ---- sessions that end before their access tokens expire -----------------------------------------


def test_logout_ends_that_logins_access_tokens_and_no_other(identity_db, ses, limit_store):
    first = register().json()
    second = login().json()
    assert call(LOGOUT, body={"refresh_token": first["refresh_token"]}).status == 204
    ended = call(ME, token=first["access_token"])
    assert ended.status == 401 and ended.json() == {"detail": "Session ended"}
    assert call(ME, token=second["access_token"]).status == 200


def test_logout_all_ends_every_earlier_access_token_and_a_login_just_after_still_works(identity_db, ses, limit_store):
    first = register().json()
    second = login().json()
    assert call(LOGOUT_ALL, token=first["access_token"]).status == 204
    after = login().json()  # most likely within the same second as the cutoff
    assert call(ME, token=first["access_token"]).json() == {"detail": "Session ended"}
    assert call(ME, token=second["access_token"]).status == 401
    assert call(ME, token=after["access_token"]).status == 200
    assert call(ME, token=register(email="bob@example.com").json()["access_token"]).status == 200


def test_a_password_reset_ends_every_earlier_access_token(identity_db, ses, limit_store):
    from identity import mailer

    before = register().json()["access_token"]
    call(FORGOT, body={"email": "ada@example.com"})
    mailer.relay()
    assert (
        call(RESET, body={"token": ses.last_token("ada@example.com"), "new_password": "new-password-456"}).status == 204
    )
    assert call(ME, token=before).json() == {"detail": "Session ended"}
    assert call(ME, token=login(password="new-password-456").json()["access_token"]).status == 200


def test_verifying_a_teacher_ends_their_tokens_and_a_refresh_carries_the_new_claim(identity_db, ses, limit_store):
    from identity import service

    teacher = register(email="t@example.com", role="teacher").json()
    service.ensure_admin("admin@eduplatform.com", "password123")
    admin = login(email="admin@eduplatform.com").json()["access_token"]
    teacher_id = security.decode_token(teacher["access_token"]).user_id
    assert call("identity.handlers.verify_teacher", {"user_id": str(teacher_id)}, token=admin).status == 200
    assert call(ME, token=teacher["access_token"]).json() == {"detail": "Session ended"}
    renewed = refresh(teacher["refresh_token"]).json()["access_token"]
    assert security.decode_token(renewed).is_verified is True
    assert call(ME, token=renewed).status == 200


class FailingRedis:
    """A Redis client whose every command fails, as a stopped or unreachable server does."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.ConnectionError("Connection refused")

        return fail


def test_with_the_session_store_down_tokens_work_until_expiry_and_the_failure_is_counted(
    identity_db, ses, limit_store, monkeypatch
):
    tokens = register().json()
    recorded = []
    monkeypatch.setattr(limits.metrics, "add_metric", lambda **metric: recorded.append(metric["name"]))
    monkeypatch.setattr(limits.limits(), "_client", FailingRedis())
    assert call(ME, token=tokens["access_token"]).status == 200
    assert "SessionStoreUnavailable" in recorded


def test_a_family_ends_its_absolute_ttl_after_the_login_however_often_it_rotated(identity_db, ses, clock):
    token = register().json()["refresh_token"]
    for _ in range(29):  # a refresh a day: each token would live 30 days more
        clock.advance(DAY)
        response = refresh(token)
        assert response.status == 200, response.text
        token = response.json()["refresh_token"]
    (expires_at,) = rows(identity_db, "SELECT max(expires_at) - min(created_at) FROM refresh_tokens")[0]
    assert expires_at.total_seconds() <= 30 * DAY
    clock.advance(DAY + 1)  # 30 days and a second after the registration's login
    ended = refresh(token)
    assert ended.status == 401 and ended.json() == {"detail": "Invalid or expired refresh token"}
    assert login().status == 200  # a new login starts a new family


def test_the_absolute_ttl_is_configurable(identity_db, ses, clock, monkeypatch):
    reconfigure(monkeypatch, REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS=7200)
    token = register().json()["refresh_token"]
    clock.advance(3600)
    token = refresh(token).json()["refresh_token"]
    clock.advance(3601)
    assert refresh(token).status == 401


# ---- limits that hold ------------------------------------------------------------------------------


def test_20_parallel_wrong_passwords_for_one_account_give_at_most_5_non_429s(
    identity_db, ses, limit_store, database_per_thread
):
    """Twenty threads, each with its own database connection (as twenty instances would), through the handler."""
    register(ip="10.8.0.1")
    database_per_thread()
    statuses: list[int] = []
    start = threading.Barrier(20)

    def guess(i: int) -> None:
        start.wait()
        statuses.append(login(password=f"wrong-{i}", ip=f"10.8.1.{i}").status)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 20
    assert sum(status != 429 for status in statuses) <= 5
    assert set(statuses) <= {400, 429}
    assert login(ip="10.8.2.1").status == 429  # locked: the right password waits too


def test_a_locked_account_stays_locked_when_the_limit_store_fails(identity_db, ses, limit_store, monkeypatch, clock):
    register(ip="10.9.0.1")
    assert [login(password="wrong", ip=f"10.9.1.{i}").status for i in range(6)] == [400] * 5 + [429]
    recorded = []
    monkeypatch.setattr(limits.metrics, "add_metric", lambda **metric: recorded.append(metric["name"]))
    monkeypatch.setattr(limits.limits(), "_client", FailingRedis())
    locked = login(ip="10.9.2.1")
    assert locked.status == 429 and 1 <= int(locked.headers["Retry-After"]) <= 900
    assert "LimitStoreUnavailable" in recorded
    # The per-IP counters fail open: another account still logs in.
    register(email="bob@example.com", ip="10.9.0.2")
    assert login(email="bob@example.com", ip="10.9.2.1").status == 200
    clock.advance(901)
    assert login(ip="10.9.2.2").status == 200


def test_one_failed_store_answer_does_not_turn_the_account_limit_off(identity_db, ses, limit_store, monkeypatch):
    register(ip="10.10.0.1")
    store = limits.limits()
    working = store._client
    monkeypatch.setattr(store, "_client", FailingRedis())
    assert login(password="wrong", ip="10.10.1.1").status == 400
    monkeypatch.setattr(store, "_client", working)  # the next answer comes back at once
    answers = [login(password="wrong", ip=f"10.10.2.{i}").status for i in range(6)]
    assert answers == [400] * 5 + [429]


# ---- the audit trail ---------------------------------------------------------------------------------


def test_failed_and_locked_logins_logouts_and_resets_are_audited_without_secrets(
    identity_db, ses, limit_store, monkeypatch
):
    import json

    from eduplatform import audit

    from identity import mailer

    lines: list[dict[str, Any]] = []
    monkeypatch.setattr(
        audit.logger, "info", lambda message, extra=None: lines.append({"message": message, **(extra or {})})
    )

    tokens = register().json()
    for i in range(6):
        login(password=f"wrong-password-{i}", ip=f"10.11.0.{i}")
    login(email="nobody@example.com", password="wrong-password-x", ip="10.11.1.1")
    call(LOGOUT, body={"refresh_token": tokens["refresh_token"]})
    other = register(email="bob@example.com").json()
    call(LOGOUT_ALL, token=other["access_token"])
    call(FORGOT, body={"email": "bob@example.com"})
    mailer.relay()
    call(RESET, body={"token": ses.last_token("bob@example.com"), "new_password": "new-password-456"})
    lines = [line for line in lines if line["message"] == "audit"]
    actions = [line["audit"] for line in lines]
    assert actions.count("login_failed") == 6 and actions.count("account_locked") == 1
    assert actions.count("login_locked") == 1
    assert {"logout", "logout_all", "password_reset"} <= set(actions)
    text = json.dumps(lines)
    for secret in ("ada@example.com", "nobody@example.com", "wrong-password", tokens["refresh_token"], "new-password"):
        assert secret not in text


def test_the_template_refuses_a_deploy_without_a_limit_store_unless_allowed_and_alarms_on_store_failures():
    from infra.config import deploy_parameters
    from infra.template import generate

    template = generate.read_template()  # its loose reader drops the intrinsic functions: read them as text
    text = generate.TEMPLATE.read_text()
    assert set(template["Rules"]) == {"LimitStoreRequired"}
    assert 'RuleCondition: !Equals [!Ref AllowNoLimits, "false"]' in text
    assert '- Assert: !Not [!And [!Equals [!Ref LimitsUrl, ""], !Equals [!Ref CacheUrl, ""]]]' in text
    assert template["Parameters"]["AllowNoLimits"]["Default"] == "false"
    for config in ("local", "compose"):  # both have a store: the rule lets them through
        assert deploy_parameters(config)["CacheUrl"]
    for alarm, metric in (
        ("LimitStoreUnavailableAlarm", "LimitStoreUnavailable"),
        ("SessionStoreUnavailableAlarm", "SessionStoreUnavailable"),
    ):
        (query,) = template["Resources"][alarm]["Properties"]["Metrics"]
        assert metric in query["Expression"]
