"""The JWT secret's rotation as docs/deploy.md ("Rotating the JWT secret") describes it, through the deployed
stack: the two secrets are SecureStrings in the emulator's SSM Parameter Store, the stack is deployed to read
them (step 1), the secret is rotated (step 2) and the previous key retired (step 4) by writing the parameters
alone, as on AWS. The stack keeps what it read ``MAX_AGE`` seconds (``JwtSecretMaxAgeSeconds``), so every wait
below is a poll bounded by that rule, and the session's own parameters are deployed again at the end."""

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests

from infra.local import aws, stack
from tests.e2e.conftest import E2E_JWT_SECRET, E2E_STACK, forge_token, key_id

pytestmark = pytest.mark.e2e

# JwtSecretMaxAgeSeconds while the stack reads its secrets from SSM.
MAX_AGE = 10
# The bound of every wait: the max age, plus a request's own time (a cold start on a busy machine).
SETTLE_SECONDS = MAX_AGE + 15
# A signed-in request to each function that verifies tokens for any role: identity, enrollment,
# payment, notification.
SIGNED_IN_PATHS = ("/me", "/enrollments/me", "/payments/me", "/notifications/me")


@dataclass
class SecretParameters:
    client: Any
    current: str
    previous: str

    def write(self, name: str, value: str) -> None:
        self.client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


@pytest.fixture
def secrets_in_ssm(api) -> Iterator[SecretParameters]:
    """Step 1: the current secret (the session's) and a second SecureString, holding the same value until
    the first rotation, named by JwtPreviousSecretParameterName; afterwards the session's parameters again."""
    path = f"/{E2E_STACK}/rotation-{uuid.uuid4().hex[:8]}"
    parameters = SecretParameters(aws.aws_client("ssm"), f"{path}/jwt-secret", f"{path}/jwt-secret-previous")
    parameters.write(parameters.current, E2E_JWT_SECRET)
    parameters.write(parameters.previous, E2E_JWT_SECRET)
    try:
        stack.deploy_stack(
            E2E_STACK,
            {
                **api.parameters,
                "JwtSecret": "",
                "JwtSecretParameterName": parameters.current,
                "JwtPreviousSecretParameterName": parameters.previous,
                "JwtSecretMaxAgeSeconds": str(MAX_AGE),
            },
        )
        yield parameters
    finally:
        stack.deploy_stack(E2E_STACK, api.parameters)
        parameters.client.delete_parameters(Names=[parameters.current, parameters.previous])


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def poll(
    send: Callable[[], requests.Response], done: Callable[[requests.Response], bool], since: float
) -> requests.Response:
    """The first answer of ``send`` that is ``done``, which must come within SETTLE_SECONDS of ``since``."""
    while True:
        response = send()
        if done(response):
            return response
        assert time.monotonic() - since < SETTLE_SECONDS, (
            f"{response.request.method} {response.request.path_url}: still {response.status_code} {response.text[:200]}"
            f" after {SETTLE_SECONDS}s"
        )
        time.sleep(0.25)


def answers(api, token: str) -> dict[str, int]:
    return {path: api.request("GET", path, token=token).status_code for path in SIGNED_IN_PATHS}


def everywhere(status: int) -> dict[str, int]:
    return dict.fromkeys(SIGNED_IN_PATHS, status)


def test_a_rotation_signs_nobody_out_and_the_retired_key_is_refused(api, register_user, secrets_in_ssm):
    old_kid, new_secret = key_id(E2E_JWT_SECRET), secrets.token_urlsafe(48)
    new_kid = key_id(new_secret)
    user = register_user()  # signed in before the rotation
    credentials = {"email": user.email, "password": user.password}
    assert kid(user.token) == old_kid
    # An instance of each function started (a request without a token reads no secret), then the
    # secrets read: each instance keeps the old one as the current for the next MAX_AGE seconds.
    assert answers(api, "") == everywhere(401)
    read_at = time.monotonic()
    assert answers(api, user.token) == everywhere(200)

    # Step 2: the current value into the previous parameter, then a new secret into the current one.
    secrets_in_ssm.write(secrets_in_ssm.previous, E2E_JWT_SECRET)
    secrets_in_ssm.write(secrets_in_ssm.current, new_secret)
    rotated_at = time.monotonic()

    # Step 3: an instance that has not seen the rotation yet reads the secrets again for a token of
    # the new key, so one works everywhere at once; the old key's tokens stay valid.
    assert answers(api, forge_token(new_secret, sub=user.id, role="student", is_verified=True)) == everywhere(200)
    assert answers(api, user.token) == everywhere(200)
    assert time.monotonic() - read_at < MAX_AGE, "too slow to tell the re-read for an unknown kid from the max age"

    # Within the max age every instance signs with the new key: new logins ...
    def signed_with_the_new_key(response: requests.Response) -> bool:
        assert response.status_code == 200, response.text
        assert api.request("GET", "/me", token=response.json()["access_token"]).status_code == 200
        return kid(response.json()["access_token"]) == new_kid

    login = poll(lambda: api.request("POST", "/login", json=credentials), signed_with_the_new_key, rotated_at).json()
    assert answers(api, login["access_token"]) == everywhere(200)

    # ... and the refresh of a session that began before the rotation: its token still refreshes, and
    # the pairs, signed with the old key until the instance has read the new one, all work.
    refresh_token = user.refresh_token

    def refresh() -> requests.Response:
        nonlocal refresh_token
        response = api.request("POST", "/refresh", json={"refresh_token": refresh_token})
        if response.status_code == 200:
            refresh_token = response.json()["refresh_token"]
        return response

    refreshed = poll(refresh, signed_with_the_new_key, rotated_at).json()
    assert answers(api, refreshed["access_token"]) == everywhere(200)
    assert answers(api, user.token) == everywhere(200)

    # Step 4: the previous key retired (the current value into the previous parameter too): within the
    # max age every function refuses the old key's tokens, still unexpired.
    secrets_in_ssm.write(secrets_in_ssm.previous, new_secret)
    retired_at = time.monotonic()
    for path in SIGNED_IN_PATHS:
        response = poll(
            lambda path=path: api.request("GET", path, token=user.token), lambda r: r.status_code == 401, retired_at
        )
        assert response.json() == {"detail": "Could not validate credentials"}, path
    assert jwt.decode(user.token, options={"verify_signature": False})["exp"] > time.time()

    # Nobody was signed out: the tokens of the new key work, and the session that began before the
    # rotation refreshes.
    assert answers(api, login["access_token"]) == everywhere(200)
    assert answers(api, refreshed["access_token"]) == everywhere(200)
    again = api.request("POST", "/refresh", json={"refresh_token": refreshed["refresh_token"]})
    assert again.status_code == 200 and kid(again.json()["access_token"]) == new_kid
