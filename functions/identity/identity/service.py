"""Identity rules: registration, login, teacher verification."""

from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError

from eduplatform import events
from eduplatform.db import database
from eduplatform.http import Conflict
from eduplatform.security import Role, burn_password_check, hash_password, issue_token, verify_password

from identity import repository
from identity.schemas import LoginRequest, PendingTeacher, RegisterRequest, TokenResponse, UserOut

BAD_CREDENTIALS = "Incorrect email or password"
EVENT_SOURCE = "eduplatform.identity"


def register(request: RegisterRequest) -> TokenResponse:
    role = Role(request.role)
    # Students need no verification; teachers wait for an admin.
    is_verified = role is Role.STUDENT
    password_hash = hash_password(request.password)
    try:
        with database().transaction() as conn:
            user = repository.insert_user(conn, request.email, password_hash, request.name, role, is_verified)
            event = events.record(conn, EVENT_SOURCE, events.USER_REGISTERED, {
                "user_id": str(user["id"]), "name": user["name"], "role": user["role"],
            })
    except repository.EmailTaken:
        raise Conflict("Email already registered") from None
    events.publish_recorded([event])
    return TokenResponse(access_token=issue_token(user["id"], role, is_verified))


def login(request: LoginRequest) -> TokenResponse:
    with database().transaction() as conn:
        user = repository.credentials_by_email(conn, request.email)
    if user is None:
        burn_password_check(request.password)
        raise BadRequestError(BAD_CREDENTIALS)
    if not verify_password(request.password, user["password_hash"]):
        raise BadRequestError(BAD_CREDENTIALS)
    return TokenResponse(access_token=issue_token(user["id"], Role(user["role"]), user["is_verified"]))


def profile(user_id: UUID) -> UserOut:
    with database().transaction() as conn:
        user = repository.user_by_id(conn, user_id)
    if user is None:
        raise NotFoundError("User not found")
    return UserOut(**user)


def pending_teachers(limit: int, offset: int) -> tuple[list[PendingTeacher], int]:
    with database().transaction() as conn:
        rows, total = repository.pending_teachers(conn, limit, offset)
    return [PendingTeacher(**row) for row in rows], total


def verify_teacher(user_id: UUID) -> UserOut:
    with database().transaction() as conn:
        user = repository.user_by_id(conn, user_id, for_update=True)
        if user is None:
            raise NotFoundError("User not found")
        if user["role"] != Role.TEACHER:
            raise Conflict("User is not a teacher")
        if user["is_verified"]:
            raise Conflict("Teacher is already verified")
        return UserOut(**repository.mark_verified(conn, user_id))


def ensure_admin(email: str, password: str) -> bool:
    with database().transaction() as conn:
        if repository.credentials_by_email(conn, email) is not None:
            return False
        return repository.upsert_admin(conn, email, hash_password(password))
