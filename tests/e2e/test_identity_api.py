"""The identity endpoints and the health check through the deployed API."""

import uuid

import pytest

from tests.e2e.conftest import forge_token

pytestmark = pytest.mark.e2e


def test_health_reports_every_domain_database(api):
    response = api.request("GET", "/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"identity": "ok", "course": "ok", "enrollment": "ok", "payment": "ok", "notification": "ok"},
    }


def test_register_login_me(api, register_user):
    user = register_user("student")
    me = api.request("GET", "/me", token=user.token)
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == user.id and body["email"] == user.email and body["role"] == "student"
    assert "password_hash" not in body

    login = api.request("POST", "/login", json={"email": user.email.upper(), "password": user.password})
    assert login.status_code == 200 and login.json()["token_type"] == "bearer"


def test_register_errors(api, register_user):
    user = register_user()
    taken = api.request("POST", "/register", json={"email": user.email, "password": "password123", "name": "X"})
    assert taken.status_code == 409 and taken.json() == {"detail": "Email already registered"}

    admin = api.request(
        "POST", "/register", json={"email": "x@example.com", "password": "password123", "name": "X", "role": "admin"}
    )
    assert admin.status_code == 422 and admin.json()["detail"][0]["loc"] == ["body", "role"]

    malformed = api.request("POST", "/register", data="{nope", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422


def test_login_does_not_say_which_part_was_wrong(api, register_user):
    user = register_user()
    wrong = api.request("POST", "/login", json={"email": user.email, "password": "wrong-password"})
    unknown = api.request(
        "POST", "/login", json={"email": f"ghost-{uuid.uuid4().hex[:12]}@example.com", "password": "password123"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()


@pytest.mark.parametrize(
    "token",
    [
        None,
        "garbage",
        forge_token(secret="some-other-secret-0123456789abcdefgh"),
        forge_token(exp=1_000_000, iat=999_000),
        forge_token(issuer="another-stack"),
        forge_token(aud="another-api"),
    ],
    ids=["missing", "malformed", "wrong-secret", "expired", "foreign-issuer", "foreign-audience"],
)
def test_me_rejects_bad_tokens_with_401(api, token):
    response = api.request("GET", "/me", token=token)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_admin_verifies_a_pending_teacher(api, admin_token, register_user):
    teacher = register_user("teacher")
    pending = api.request("GET", "/admin/teachers/pending", token=admin_token, params={"limit": 100})
    assert pending.status_code == 200
    assert teacher.id in [item["id"] for item in pending.json()["items"]]

    verified = api.request("PATCH", f"/admin/users/{teacher.id}/verify", token=admin_token)
    assert verified.status_code == 200 and verified.json()["is_verified"] is True
    again = api.request("PATCH", f"/admin/users/{teacher.id}/verify", token=admin_token)
    assert again.status_code == 409

    assert api.request("PATCH", f"/admin/users/{uuid.uuid4()}/verify", token=admin_token).status_code == 404
    assert api.request("PATCH", "/admin/users/not-a-uuid/verify", token=admin_token).status_code == 422


def test_admin_routes_refuse_other_roles(api, register_user):
    student = register_user()
    response = api.request("GET", "/admin/teachers/pending", token=student.token)
    assert response.status_code == 403 and response.json() == {"detail": "Admin access required"}
    assert api.request("GET", "/admin/teachers/pending").status_code == 401


def test_cors_preflight_and_headers(api, register_user):
    preflight = api.request(
        "OPTIONS", "/me", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5173")
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]

    user = register_user()
    me = api.request("GET", "/me", token=user.token, headers={"Origin": "http://localhost:5173"})
    assert me.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5173")
