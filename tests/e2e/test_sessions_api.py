"""Sessions, account recovery, abuse limits (docs/api.md) through the deployed API: emails read back from the
emulator's SES, limits counted in the machine's Redis, the stage's throttling enforced by the emulator."""

import json
import time
import uuid

import jwt
import pytest

from infra.local import aws
from tests.e2e.conftest import E2E_STACK, client_address, link_token, wait_for_email

pytestmark = pytest.mark.e2e

HOUR = 3600


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def fresh_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"


def test_register_verify_refresh_for_a_day_logout_and_reset_revoking_every_session(api, stack_clock):
    email, password = fresh_email("lifecycle"), "first-password-1"
    registered = api.request("POST", "/register", json={"email": email, "password": password, "name": "Lee"})
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900 and len(body["refresh_token"]) >= 43
    assert claims(body["access_token"])["email_verified"] is False
    assert registered.headers["Cache-Control"] == "no-store"

    # The verification email, as the emulator's SES kept it; its link's token verifies the address once.
    verification = wait_for_email(email, 1)
    assert verification["Source"] == "no-reply@eduplatform.local" and "Confirm" in verification["Subject"]
    token = link_token(verification)
    verified = api.request("POST", "/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"id": claims(body["access_token"])["sub"], "email": email, "email_verified": True}
    assert api.request("POST", "/verify-email", json={"token": token}).status_code == 400
    me = api.request("GET", "/me", token=body["access_token"])
    assert me.json()["email_verified"] is True and me.headers["Cache-Control"] == "no-store"

    logged_in = api.request("POST", "/login", json={"email": email, "password": password}).json()
    assert claims(logged_in["access_token"])["email_verified"] is True
    register_session = body["refresh_token"]

    # A day of simulated time: every six hours the access token has long expired, a refresh renews the pair.
    refresh_token, access_token = logged_in["refresh_token"], logged_in["access_token"]
    for _ in range(4):
        stack_clock.advance(6 * HOUR)
        expired = api.request("GET", "/me", token=access_token)
        assert expired.status_code == 401 and expired.json() == {"detail": "Token has expired"}
        renewed = api.request("POST", "/refresh", json={"refresh_token": refresh_token})
        assert renewed.status_code == 200, renewed.text
        spent, refresh_token = refresh_token, renewed.json()["refresh_token"]
        access_token = renewed.json()["access_token"]
        assert api.request("GET", "/me", token=access_token).status_code == 200
    assert stack_clock.offset == 24 * HOUR

    # Logout ends that session only.
    assert api.request("POST", "/logout", json={"refresh_token": refresh_token}).status_code == 204
    assert api.request("POST", "/refresh", json={"refresh_token": refresh_token}).status_code == 401
    other_session = api.request("POST", "/login", json={"email": email, "password": password}).json()["refresh_token"]

    # Forgot password: a reset email; the reset spends its token and revokes every session.
    forgot = api.request("POST", "/forgot-password", json={"email": email.upper()})
    assert forgot.status_code == 202
    reset_email = wait_for_email(email, 2)
    assert "Reset" in reset_email["Subject"]
    new_password = "second-password-2"
    reset = api.request(
        "POST", "/reset-password", json={"token": link_token(reset_email), "new_password": new_password}
    )
    assert reset.status_code == 204, reset.text
    for session in (register_session, other_session):
        revoked = api.request("POST", "/refresh", json={"refresh_token": session})
        assert revoked.status_code == 401, session
    assert (
        api.request(
            "POST", "/reset-password", json={"token": link_token(reset_email), "new_password": "third-password-3"}
        ).status_code
        == 400
    )
    assert api.request("POST", "/login", json={"email": email, "password": password}).status_code == 400
    assert api.request("POST", "/login", json={"email": email, "password": new_password}).status_code == 200
    # The spent token of the day's refreshes was revoked with its family long before: still 401.
    assert api.request("POST", "/refresh", json={"refresh_token": spent}).status_code == 401


def test_refresh_reuse_revokes_the_family_and_refresh_errors(api, register_user):
    user = register_user()
    rotated = api.request("POST", "/refresh", json={"refresh_token": user.refresh_token}).json()["refresh_token"]
    reuse = api.request("POST", "/refresh", json={"refresh_token": user.refresh_token})
    assert reuse.status_code == 401
    assert reuse.json() == {"detail": "Refresh token already used; every session of this login has been revoked"}
    assert api.request("POST", "/refresh", json={"refresh_token": rotated}).status_code == 401

    unknown = api.request("POST", "/refresh", json={"refresh_token": "A" * 43})
    assert unknown.status_code == 401 and unknown.json() == {"detail": "Invalid or expired refresh token"}
    for body in ({}, {"refresh_token": "not a token"}, {"refresh_token": "x" * 129}):
        assert api.request("POST", "/refresh", json=body).status_code == 422
        assert api.request("POST", "/logout", json=body).status_code == 422
    assert api.request("POST", "/logout", json={"refresh_token": "B" * 43}).status_code == 204


def test_logout_all_ends_every_session_of_the_caller(api, register_user):
    user = register_user()
    second = api.request("POST", "/login", json={"email": user.email, "password": user.password}).json()
    assert api.request("POST", "/logout/all").status_code == 401
    assert api.request("POST", "/logout/all", token=second["access_token"]).status_code == 204
    for session in (user.refresh_token, second["refresh_token"]):
        assert api.request("POST", "/refresh", json={"refresh_token": session}).status_code == 401


def test_resend_verification_rules(api, register_user):
    user = register_user()
    wait_for_email(user.email, 1)
    assert api.request("POST", "/resend-verification").status_code == 401
    answers = [api.request("POST", "/resend-verification", token=user.token) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    newest = wait_for_email(user.email, 4)
    assert (
        api.request("POST", "/verify-email", json={"token": link_token(wait_for_email(user.email, 1))}).status_code
        == 400
    )
    assert api.request("POST", "/verify-email", json={"token": link_token(newest)}).status_code == 200
    assert api.request("POST", "/resend-verification", token=user.token).status_code == 409


def test_verify_email_and_reset_password_errors(api):
    for body in ({}, {"token": ""}, {"token": "<b>"}, {"token": "t" * 129}):
        assert api.request("POST", "/verify-email", json=body).status_code == 422
    invalid = api.request("POST", "/verify-email", json={"token": "C" * 43})
    assert invalid.status_code == 400 and invalid.json() == {"detail": "Invalid, used or expired token"}
    bad_reset = api.request("POST", "/reset-password", json={"token": "D" * 43, "new_password": "password123"})
    assert bad_reset.status_code == 400 and bad_reset.json() == {"detail": "Invalid, used or expired token"}
    short = api.request("POST", "/reset-password", json={"token": "D" * 43, "new_password": "short"})
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "new_password"]


def test_forgot_password_answers_alike_for_known_and_unknown_emails(api, register_user):
    user = register_user()
    known = api.request("POST", "/forgot-password", json={"email": user.email})
    unknown = api.request("POST", "/forgot-password", json={"email": fresh_email("nobody")})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert "Reset" in wait_for_email(user.email, 2)["Subject"]
    assert api.request("POST", "/forgot-password", json={"email": "x\ny"}).status_code == 422
    assert api.request("POST", "/forgot-password", json={"email": "not-an-email"}).status_code == 422


def test_30_wrong_passwords_from_30_addresses_lock_the_account_until_the_window_passes(api, register_user, stack_clock):
    user = register_user()
    answers = [
        api.request(
            "POST",
            "/login",
            json={"email": user.email, "password": f"wrong-{i}"},
            headers={"X-Forwarded-For": client_address()},
        )
        for i in range(30)
    ]
    assert [a.status_code for a in answers] == [400] * 5 + [429] * 25
    assert answers[-1].json() == {"detail": "Too many failed login attempts for this account; try again later"}
    retry_after = int(answers[-1].headers["Retry-After"])
    assert 0 < retry_after <= 900
    correct = {"email": user.email, "password": user.password}
    assert api.request("POST", "/login", json=correct).status_code == 429
    stack_clock.advance(retry_after + 1)
    assert api.request("POST", "/login", json=correct).status_code == 200


def burst_until_refused(send, most: int) -> tuple[int, object]:
    """Send until a 429 (at most ``most`` requests): (successes before it, the 429 or None)."""
    for sent in range(most):
        response = send()
        if response.status_code == 429:
            return sent, response
        assert response.status_code == 200, response.text
    return most, None


def test_login_and_register_are_limited_per_source_address(api, register_user):
    user = register_user()
    address = client_address()
    login = {"email": user.email, "password": user.password}
    # 20 a minute: the 21st is refused, or the 41st when the minute turned during the burst.
    served, refused = burst_until_refused(
        lambda: api.request("POST", "/login", json=login, headers={"X-Forwarded-For": address}), 41
    )
    assert refused is not None and 20 <= served <= 40, served
    assert refused.json() == {"detail": "Too many requests from this address; try again later"}
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert api.request("POST", "/login", json=login).status_code == 200  # another address

    address = client_address()
    served, refused = burst_until_refused(
        lambda: api.request(
            "POST",
            "/register",
            headers={"X-Forwarded-For": address},
            json={"email": fresh_email("burst"), "password": "password123", "name": "B"},
        ),
        11,
    )
    assert refused is not None and 5 <= served <= 10, served
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_the_stage_throttles_every_route_as_the_template_says(api):
    gateway = aws.aws_client("apigateway")
    api_id = aws.stack_outputs(E2E_STACK)["ApiId"]
    stage = gateway.get_stage(restApiId=api_id, stageName="api")
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 200
    # The emulator enforces it: with a burst of 2 and one request a second, a quick run of 6 is throttled.
    patch = [
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
    ]
    gateway.update_stage(restApiId=api_id, stageName="api", patchOperations=patch)
    try:
        statuses = [api.request("GET", "/openapi.json").status_code for _ in range(6)]
    finally:
        gateway.update_stage(
            restApiId=api_id,
            stageName="api",
            patchOperations=[
                {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "200"},
            ],
        )
    assert statuses[:2] == [200, 200] and 429 in statuses, statuses
    time.sleep(0.5)  # the bucket refills at the restored rate
    assert api.request("GET", "/openapi.json").status_code == 200


def test_security_headers_and_cors(api, register_user):
    user = register_user()
    public = api.request("GET", "/courses", headers={"Origin": "http://localhost:5173"})
    assert public.headers["X-Content-Type-Options"] == "nosniff" and "Cache-Control" not in public.headers
    # CorsAllowedOrigins (the front end's dev server) besides the app's own origin (test_web_app).
    assert public.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    error = api.request("POST", "/login", json={})
    assert error.status_code == 422 and error.headers["X-Content-Type-Options"] == "nosniff"
    me = api.request("GET", "/me", token=user.token)
    assert me.headers["Cache-Control"] == "no-store" and me.headers["X-Content-Type-Options"] == "nosniff"


def test_refresh_and_email_tokens_expire_and_the_purge_runs(api, register_user, stack_clock):
    user = register_user()
    verification = link_token(wait_for_email(user.email, 1))
    assert api.request("POST", "/forgot-password", json={"email": user.email}).status_code == 202
    reset = link_token(wait_for_email(user.email, 2))
    stack_clock.advance(30 * 24 * HOUR + 1)  # past the refresh token's 30 days, the links' 24 h and 1 h
    expired = api.request("POST", "/refresh", json={"refresh_token": user.refresh_token})
    assert expired.status_code == 401 and expired.json() == {"detail": "Invalid or expired refresh token"}
    for path, body in (
        ("/verify-email", {"token": verification}),
        ("/reset-password", {"token": reset, "new_password": "password456"}),
    ):
        response = api.request("POST", path, json=body)
        assert response.status_code == 400 and response.json() == {"detail": "Invalid, used or expired token"}, path

    # The scheduled purge, invoked by hand: it answers what it deleted per table.
    lambda_client = aws.aws_client("lambda")
    name = aws.function_name(E2E_STACK, "IdentityInternalPurgeSessionsFunction")
    answer = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in answer
    counts = json.loads(answer["Payload"].read())
    assert set(counts) == {"refresh_tokens", "refresh_families", "email_tokens", "account_locks"}
    assert all(isinstance(value, int) and value >= 0 for value in counts.values())
