"""Every row of docs/api.md's identity table, errors included, through the handlers."""

import time
import uuid

import jwt
import psycopg
import pytest

from tests.support.lambda_events import call

from eduplatform.principal import Role
from eduplatform.security import decode_token, issue_token

REGISTER = "identity.handlers.register"
LOGIN = "identity.handlers.login"
ME = "identity.handlers.me"
PENDING = "identity.handlers.pending_teachers"
VERIFY = "identity.handlers.verify_teacher"


@pytest.fixture
def identity_db(domain_database):
    return domain_database("identity")


def register(email="ada@example.com", password="password123", name="Ada", role=None):
    body = {"email": email, "password": password, "name": name}
    if role:
        body["role"] = role
    return call(REGISTER, body=body)


def admin_token(identity_db) -> str:
    from identity import service

    service.ensure_admin("admin@eduplatform.com", "password123")
    return call(LOGIN, body={"email": "admin@eduplatform.com", "password": "password123"}).json()["access_token"]


# ---- POST /register ---------------------------------------------------------------------------


def test_register_returns_a_bearer_token_for_a_student_by_default(identity_db):
    response = register()
    assert response.status == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    principal = decode_token(body["access_token"])
    assert principal.role is Role.STUDENT and principal.is_verified is True
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 900
    assert set(claims) == {"iss", "aud", "sub", "sid", "iat", "iat_us", "exp", "role", "is_verified", "email_verified"}
    assert claims["email_verified"] is False
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}


def test_register_teacher_starts_unverified(identity_db):
    token = register(role="teacher").json()["access_token"]
    principal = decode_token(token)
    assert principal.role is Role.TEACHER and principal.is_verified is False


def test_register_stores_only_a_bcrypt_hash(identity_db):
    register(password="password123")
    with psycopg.connect(identity_db) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$2b$") and "password123" not in stored


@pytest.mark.parametrize("second_email", ["ada@example.com", "ADA@Example.COM"])
def test_register_taken_email_is_409_whatever_the_case(identity_db, second_email):
    assert register().status == 200
    response = register(email=second_email)
    assert response.status == 409
    assert response.json() == {"detail": "Email already registered"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "password123", "name": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "password123", "name": ""}, "name"),
        ({"email": "a@example.com", "password": "password123", "name": "   "}, "name"),
        ({"email": "a@example.com", "password": "password123", "name": "A", "role": "admin"}, "role"),
        ({"email": "a@example.com", "password": "password123", "name": "A", "role": "janitor"}, "role"),
        ({"email": "a@example.com", "password": "x" * 73, "name": "A"}, "password"),
        ({"password": "password123", "name": "A"}, "email"),
        ({"email": "a@example.com", "password": 12345678, "name": "A"}, "password"),
    ],
)
def test_register_rejects_bad_fields_with_422(identity_db, body, field):
    response = call(REGISTER, body=body)
    assert response.status == 422
    detail = response.json()["detail"]
    assert any(error["loc"][-1] == field for error in detail), detail
    assert all({"loc", "msg", "type"} <= set(error) for error in detail)


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "null"])
def test_register_malformed_body_is_422(identity_db, raw):
    response = call(REGISTER, body=raw)
    assert response.status == 422
    assert isinstance(response.json()["detail"], list)


# ---- POST /login ----------------------------------------------------------------------------------


def test_login_with_right_password_returns_token(identity_db):
    register(email="bob@example.com", role="teacher")
    response = call(LOGIN, body={"email": "BOB@example.com", "password": "password123"})
    assert response.status == 200
    assert response.json()["token_type"] == "bearer"
    assert decode_token(response.json()["access_token"]).role is Role.TEACHER


def test_login_wrong_password_and_unknown_email_answer_the_same_400(identity_db):
    register(email="bob@example.com")
    wrong_password = call(LOGIN, body={"email": "bob@example.com", "password": "password124"})
    unknown_email = call(LOGIN, body={"email": "nobody@example.com", "password": "password123"})
    assert wrong_password.status == unknown_email.status == 400
    assert wrong_password.json() == unknown_email.json() == {"detail": "Incorrect email or password"}


def test_login_missing_field_is_422(identity_db):
    assert call(LOGIN, body={"email": "bob@example.com"}).status == 422


# ---- GET /me --------------------------------------------------------------------------------------------


def test_me_returns_the_profile_without_secrets(identity_db):
    token = register(email="Cy@Example.com", name="Cy").json()["access_token"]
    response = call(ME, token=token)
    assert response.status == 200
    body = response.json()
    assert set(body) == {"id", "email", "name", "role", "is_verified", "email_verified", "created_at"}
    assert body["email_verified"] is False
    assert (
        body["email"] == "Cy@example.com"
    )  # the domain part is normalised, the local part kept and body["name"] == "Cy" and body["role"] == "student"
    assert body["created_at"].endswith("+00:00")
    assert uuid.UUID(body["id"]) == decode_token(token).user_id


def test_me_answers_with_cors_headers(identity_db):
    token = register().json()["access_token"]
    assert call(ME, token=token).headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5173")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
)
def test_me_without_a_valid_token_is_401(identity_db, headers):
    response = call(ME, headers=headers)
    assert response.status == 401
    assert isinstance(response.json()["detail"], str)


def test_me_with_expired_token_is_401(identity_db):
    token = issue_token(uuid.uuid4(), Role.STUDENT, True, now=time.time() - 7200)
    response = call(ME, token=token)
    assert response.status == 401 and response.json()["detail"] == "Token has expired"


def test_me_with_token_signed_by_another_secret_is_401(identity_db):
    forged = jwt.encode(
        {
            "sub": str(uuid.uuid4()),
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "role": "admin",
            "is_verified": True,
        },
        "another-secret-0123456789abcdefghij",
        algorithm="HS256",
    )
    assert call(ME, token=forged).status == 401


def test_me_with_unsigned_token_is_401(identity_db):
    unsigned = jwt.encode(
        {
            "sub": str(uuid.uuid4()),
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "role": "admin",
            "is_verified": True,
        },
        None,
        algorithm="none",
    )
    assert call(ME, token=unsigned).status == 401


# ---- GET /admin/teachers/pending --------------------------------------------------------------------------


def test_pending_teachers_lists_unverified_teachers_oldest_first(identity_db):
    token = admin_token(identity_db)
    for index in range(3):
        register(email=f"t{index}@example.com", name=f"T{index}", role="teacher")
    register(email="s@example.com", role="student")
    response = call(PENDING, token=token)
    assert response.status == 200
    body = response.json()
    assert body["total"] == 3
    assert [item["email"] for item in body["items"]] == ["t0@example.com", "t1@example.com", "t2@example.com"]
    assert set(body["items"][0]) == {"id", "email", "name", "created_at"}

    page = call(PENDING, token=token, query={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [item["email"] for item in page["items"]] == ["t1@example.com"]


def test_pending_teachers_default_limit_is_50(identity_db):
    token = admin_token(identity_db)
    with psycopg.connect(identity_db) as conn:
        conn.execute(
            "INSERT INTO users (email, password_hash, name, role) "
            "SELECT 'bulk' || i || '@example.com', 'x', 'T', 'teacher' FROM generate_series(1, 60) AS i"
        )
    body = call(PENDING, token=token).json()
    assert body["total"] == 60 and len(body["items"]) == 50


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}])
def test_pending_teachers_out_of_range_paging_is_422(identity_db, query):
    assert call(PENDING, token=admin_token(identity_db), query=query).status == 422


def test_pending_teachers_needs_a_token(identity_db):
    assert call(PENDING).status == 401


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_pending_teachers_is_admin_only(identity_db, token_for, role):
    response = call(PENDING, token=token_for(role))
    assert response.status == 403
    assert response.json() == {"detail": "Admin access required"}


# ---- PATCH /admin/users/{user_id}/verify ------------------------------------------------------------------


def test_verify_teacher_sets_is_verified_and_next_login_carries_it(identity_db):
    token = admin_token(identity_db)
    teacher = decode_token(register(email="t@example.com", role="teacher").json()["access_token"])
    response = call(VERIFY, {"user_id": teacher.user_id}, token=token)
    assert response.status == 200
    body = response.json()
    assert body["is_verified"] is True and body["role"] == "teacher" and body["id"] == str(teacher.user_id)
    assert "password_hash" not in body
    relogin = call(LOGIN, body={"email": "t@example.com", "password": "password123"}).json()["access_token"]
    assert decode_token(relogin).is_verified is True
    assert call(PENDING, token=token).json()["total"] == 0


def test_verify_twice_is_409(identity_db):
    token = admin_token(identity_db)
    teacher = decode_token(register(email="t@example.com", role="teacher").json()["access_token"])
    assert call(VERIFY, {"user_id": teacher.user_id}, token=token).status == 200
    response = call(VERIFY, {"user_id": teacher.user_id}, token=token)
    assert response.status == 409 and response.json() == {"detail": "Teacher is already verified"}


def test_verify_a_student_is_409(identity_db):
    token = admin_token(identity_db)
    student = decode_token(register(email="s@example.com").json()["access_token"])
    response = call(VERIFY, {"user_id": student.user_id}, token=token)
    assert response.status == 409 and response.json() == {"detail": "User is not a teacher"}


def test_verify_unknown_user_is_404(identity_db):
    response = call(VERIFY, {"user_id": uuid.uuid4()}, token=admin_token(identity_db))
    assert response.status == 404 and response.json() == {"detail": "User not found"}


def test_verify_non_uuid_id_is_422(identity_db):
    assert call(VERIFY, {"user_id": "42"}, token=admin_token(identity_db)).status == 422


def test_verify_needs_a_token(identity_db):
    assert call(VERIFY, {"user_id": uuid.uuid4()}).status == 401


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_verify_is_admin_only(identity_db, token_for, role):
    assert call(VERIFY, {"user_id": uuid.uuid4()}, token=token_for(role)).status == 403


# ---- admin bootstrap ------------------------------------------------------------------------------------


def test_ensure_admin_is_idempotent(identity_db):
    from identity import service

    assert service.ensure_admin("admin@eduplatform.com", "password123") is True
    assert service.ensure_admin("ADMIN@eduplatform.com", "password123") is False
    with psycopg.connect(identity_db) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()[0] == 1
