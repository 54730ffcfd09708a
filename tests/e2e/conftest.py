"""End-to-end tests: the SAM app deployed to the local emulator, called over HTTP.

The session deploys its own stack (``eduplatform-e2e``) whose functions use their own
databases (``e2e_<domain>``, emptied at the start), so a developer's `make up` stack and
its data are never touched. This checkout's MiniStack and PgBouncer are started when they
are not running (and stopped again at the end); another checkout's, found on their ports,
fail the session with a message saying whose they are. Concurrent sessions of one checkout
wait for each other on a lock.
"""

import base64
import fcntl
import hashlib
import hmac
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest
import requests

from infra.config import DOMAINS, EMULATOR_URL, PARAMETER_FOR_DOMAIN, ROOT, deploy_parameters
from infra.local import aws, emulator, pooler, processes, stack
from tests.support import databases

E2E_STACK = "eduplatform-e2e"
E2E_JWT_SECRET = "e2e-only-jwt-secret-0123456789abcdef"
ADMIN = {"email": "admin@eduplatform.com", "password": "password123"}


# Not the module-level random: Hypothesis seeds that alike for every example it runs (the fuzzer's
# examples would all come from one address and meet its limits).
_addresses = random.SystemRandom()


def client_address() -> str:
    """A client address of its own (API Gateway's sourceIp, which the emulator takes from X-Forwarded-For)."""
    return f"10.{_addresses.randrange(256)}.{_addresses.randrange(256)}.{_addresses.randrange(1, 255)}"


class ClientsSession(requests.Session):
    """Each request from an address of its own unless it names one: login and register are limited
    per address (docs/api.md), and the suite (fuzzing included) stands for many clients, not one."""

    def request(self, method, url, *args, headers=None, **kwargs):
        headers = dict(headers or {})
        if not any(name.lower() == "x-forwarded-for" for name in headers):
            headers["X-Forwarded-For"] = client_address()
        return super().request(method, url, *args, headers=headers, **kwargs)


@dataclass
class Api:
    url: str
    session: requests.Session
    parameters: dict[str, str] = field(default_factory=dict)  # what the stack was deployed with
    owns_emulator: bool = False  # the session started the emulator (and may restart it)

    def request(
        self, method: str, path: str, token: str | None = None, json=None, headers=None, **kwargs
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, f"{self.url}{path}", json=json, headers=all_headers, timeout=60, **kwargs)


@pytest.fixture(scope="session")
def e2e_database_urls() -> dict[str, str]:
    return {domain: databases.isolated_database_url("e2e", domain) for domain in DOMAINS}


@pytest.fixture(scope="session")
def api(e2e_database_urls) -> Api:
    processes.STATE_DIR.mkdir(exist_ok=True)
    with open(processes.STATE_DIR / "e2e.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for domain in e2e_database_urls:
            databases.prepare("e2e", domain)
        parameters = {
            **deploy_parameters("local"),
            **{PARAMETER_FOR_DOMAIN[domain]: url for domain, url in e2e_database_urls.items()},
            "JwtSecret": E2E_JWT_SECRET,
            # Given, not left to `sam deploy`, which keeps a parameter's previous value when it is
            # not given: test_key_rotation deploys the stack with other values for a while.
            "JwtSecretParameterName": "/eduplatform/jwt-secret",
            "JwtPreviousSecretParameterName": "",
            "JwtSecretMaxAgeSeconds": "300",
            "BcryptRounds": "4",
        }
        # Both refuse (loudly) a pooler or emulator on their ports that another checkout started.
        pooler_was_up = pooler.running()
        emulator_started_here = emulator.start_emulator()
        try:
            url = stack.deploy_stack(E2E_STACK, parameters)
            with ClientsSession() as session:
                yield Api(url=url, session=session, parameters=parameters, owns_emulator=emulator_started_here)
        finally:
            if emulator_started_here:
                emulator.stop_emulator()
            if not pooler_was_up:
                pooler.stop()


@pytest.fixture(scope="session")
def built_app_dir(api) -> Path:
    return ROOT / ".aws-sam" / "build"


class AdminLogin:
    """The admin's access token, logged in again once half its lifetime has passed: the token lives
    900 s (``expires_in``) and the suite can run longer than that on a busy machine."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._token = ""
        self._renew_at = 0.0

    def token(self) -> str:
        if time.monotonic() >= self._renew_at:
            response = self.api.request("POST", "/login", json=ADMIN)
            assert response.status_code == 200, response.text
            body = response.json()
            self._token, self._renew_at = body["access_token"], time.monotonic() + body["expires_in"] / 2
        return self._token


@pytest.fixture(scope="session")
def admin_login(api) -> AdminLogin:
    return AdminLogin(api)


@pytest.fixture
def admin_token(admin_login) -> str:
    return admin_login.token()


@dataclass
class User:
    id: str
    email: str
    password: str
    token: str
    refresh_token: str = ""


@pytest.fixture
def register_user(api):
    """Register a fresh user through the API: register_user("teacher")."""

    def register(role: str = "student", password: str = "password123") -> User:
        email = f"{role}-{uuid.uuid4().hex[:12]}@example.com"
        response = api.request(
            "POST", "/register", json={"email": email, "password": password, "name": f"E2E {role}", "role": role}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        return User(
            id=user_id, email=email, password=password, token=token, refresh_token=response.json()["refresh_token"]
        )

    return register


@pytest.fixture
def verified_teacher(api, admin_token, register_user) -> User:
    """A teacher verified by the admin, holding a fresh token that says so."""
    teacher = register_user("teacher")
    response = api.request("PATCH", f"/admin/users/{teacher.id}/verify", token=admin_token)
    assert response.status_code == 200, response.text
    login = api.request("POST", "/login", json={"email": teacher.email, "password": teacher.password})
    teacher.token = login.json()["access_token"]
    return teacher


def key_id(secret: str) -> str:
    """The ``kid`` of the tokens signed with ``secret``."""
    return base64.urlsafe_b64encode(
        hmac.new(secret.encode(), b"eduplatform key id", hashlib.sha256).digest()[:9]
    ).decode()


def forge_token(secret: str = E2E_JWT_SECRET, issuer: str = E2E_STACK, **claims) -> str:
    """A token signed as the e2e stack signs its own (the key and kid derived from ``secret``)."""
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": "eduplatform-api",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "role": "admin",
        "is_verified": True,
        **claims,
    }
    key = hmac.new(secret.encode(), b"eduplatform access tokens", hashlib.sha256).digest()
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": key_id(secret)})


# ---- emails (the emulator keeps what SES was asked to send) and the stack's clock --------------------


def emails_to(address: str) -> list[dict]:
    """Every message the emulator's SES holds for ``address``, oldest first."""
    response = requests.get(f"{EMULATOR_URL}/_ministack/ses/messages", timeout=10)
    response.raise_for_status()
    messages = [m for account in response.json()["messages"].values() for m in account]
    return [m for m in messages if address in (m.get("To") if isinstance(m.get("To"), list) else [m.get("To")])]


def wait_for_email(address: str, count: int, seconds: float = 90) -> dict:
    """The ``count``-th email to ``address`` once it has arrived (the relay may send it a moment later)."""
    deadline = time.monotonic() + seconds
    while True:
        found = emails_to(address)
        if len(found) >= count:
            return found[count - 1]
        assert time.monotonic() < deadline, f"no email #{count} for {address} after {seconds}s: {found}"
        time.sleep(0.5)


def link_token(email: dict) -> str:
    """The token of the link in an email, read from its text as a user would follow it."""
    match = re.search(r"[?&]token=([A-Za-z0-9_-]+)", email["BodyText"])
    assert match, email["BodyText"]
    return match.group(1)


IDENTITY_FUNCTIONS = ("IdentityApiFunction", "IdentityCredentialsFunction")


class StackClock:
    """Moves the identity functions' clock forward (CLOCK_OFFSET_SECONDS, a tests-only setting) through
    the Lambda API; the emulator recycles an instance whose environment changed."""

    def __init__(self) -> None:
        self.offset = 0
        self.client = aws.aws_client("lambda")
        self.names = [aws.function_name(E2E_STACK, logical_id) for logical_id in IDENTITY_FUNCTIONS]
        self.original = {
            name: self.client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
            for name in self.names
        }

    def _set(self, extra: dict[str, str]) -> None:
        for name in self.names:
            self.client.update_function_configuration(
                FunctionName=name, Environment={"Variables": {**self.original[name], **extra}}
            )
        for name in self.names:
            deadline = time.monotonic() + 30
            while self.client.get_function_configuration(FunctionName=name).get("LastUpdateStatus") == "InProgress":
                assert time.monotonic() < deadline, f"{name} still updating"
                time.sleep(0.2)

    def advance(self, seconds: int) -> None:
        self.offset += seconds
        self._set({"CLOCK_OFFSET_SECONDS": str(self.offset)})

    def restore(self) -> None:
        if self.offset:
            self._set({})
            self.offset = 0


@pytest.fixture
def stack_clock(api):
    clock = StackClock()
    try:
        yield clock
    finally:
        clock.restore()
