"""Identity rules: registration, login, sessions (refresh tokens), email verification, password reset,
teacher verification."""

import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError, UnauthorizedError

from eduplatform import audit, clock, events
from eduplatform.db import Connection, database
from eduplatform.http import Conflict, CursorPage, TooManyRequests, keyset_list
from eduplatform.limits import account_key, limits
from eduplatform.observability import logger
from eduplatform.principal import Role
from eduplatform.security import (
    burn_password_check,
    email_link_token,
    hash_password,
    issue_token,
    new_opaque_token,
    token_digest,
    verify_password,
)
from eduplatform.settings import get_settings

from identity import mailer, repository
from identity.schemas import (
    Accepted,
    EmailVerified,
    ForgotPasswordRequest,
    LoginRequest,
    PendingTeacher,
    RegisterRequest,
    ResetPasswordRequest,
    TokenResponse,
    UserOut,
)

BAD_CREDENTIALS = "Incorrect email or password"
BAD_REFRESH_TOKEN = "Invalid or expired refresh token"
REFRESH_TOKEN_REUSED = "Refresh token already used; every session of this login has been revoked"
BAD_EMAIL_TOKEN = "Invalid, used or expired token"
ACCOUNT_LOCKED = "Too many failed login attempts for this account; try again later"
TOO_MANY_FROM_ADDRESS = "Too many requests from this address; try again later"
TOO_MANY_RESENDS = "Too many verification emails requested; try again later"
FORGOT_PASSWORD_ACCEPTED = "If an account uses this email, a password reset link is on its way"
EVENT_SOURCE = events.domain_source("identity")
# Verification emails a user may request (POST /resend-verification) per hour, and reset emails per account.
RESENDS_PER_HOUR = 3
RESETS_PER_HOUR = 3
HOUR = timedelta(hours=1)
# Revoked families are kept this long after revocation (reuse answers "revoked" rather than "unknown").
REVOKED_FAMILY_RETENTION = timedelta(days=7)


# ---- sessions ----------------------------------------------------------------------------------


def _token_response(
    conn: Connection, user: dict[str, Any], family_id: UUID, now: datetime, family_started_at: datetime | None = None
) -> TokenResponse:
    """A new access token and a new refresh token of ``family_id`` (written to the transaction).

    The refresh token expires after its TTL, and never after the family's absolute end.
    """
    settings = get_settings()
    refresh_token = new_opaque_token()
    family_ends = (family_started_at or now) + timedelta(seconds=settings.refresh_token_absolute_ttl_seconds)
    repository.insert_refresh_token(
        conn,
        token_digest(refresh_token),
        family_id,
        user["id"],
        now,
        min(now + timedelta(seconds=settings.refresh_token_ttl_seconds), family_ends),
    )
    access_token = issue_token(
        user["id"],
        Role(user["role"]),
        user["is_verified"],
        now=now.timestamp(),
        email_verified=user["email_verified"],
        session_id=family_id,
    )
    return TokenResponse(access_token=access_token, expires_in=settings.jwt_ttl_seconds, refresh_token=refresh_token)


def _new_session(conn: Connection, user: dict[str, Any], now: datetime) -> TokenResponse:
    family_id = uuid.uuid4()
    repository.insert_family(conn, family_id, user["id"], now)
    return _token_response(conn, user, family_id, now)


def _new_email_token(conn: Connection, user: dict[str, Any], purpose: str, requested: bool, now: datetime) -> UUID:
    """Issue a single-use token of ``purpose`` and queue its email; the mail's id."""
    settings = get_settings()
    ttl = settings.email_token_ttl_seconds if purpose == mailer.VERIFY_EMAIL else settings.password_reset_ttl_seconds
    token_id, mail_id = uuid.uuid4(), uuid.uuid4()
    repository.insert_email_token(
        conn,
        token_id,
        token_digest(email_link_token(token_id, purpose)),
        user["id"],
        purpose,
        requested,
        now,
        now + timedelta(seconds=ttl),
    )
    repository.insert_mail(conn, mail_id, token_id, user["email"], user["name"])
    return mail_id


def _per_ip(route: str, source_ip: str, per_minute: int) -> None:
    verdict = limits().hit(route, source_ip, per_minute)
    if not verdict.allowed:
        logger.info("per-address limit reached", extra={"route": route, "retry_after": verdict.retry_after})
        raise TooManyRequests(TOO_MANY_FROM_ADDRESS, verdict.retry_after)


def register(request: RegisterRequest, source_ip: str) -> TokenResponse:
    _per_ip("register", source_ip, get_settings().register_per_ip_per_minute)
    role = Role(request.role)
    # Students need no verification; teachers wait for an admin.
    is_verified = role is Role.STUDENT
    password_hash = hash_password(request.password)
    now = clock.utcnow()
    try:
        with database().transaction() as conn:
            user = repository.insert_user(conn, request.email, password_hash, request.name, role, is_verified)
            events.record(
                conn,
                EVENT_SOURCE,
                events.USER_REGISTERED,
                {
                    "user_id": str(user["id"]),
                    "name": user["name"],
                    "role": user["role"],
                },
            )
            tokens = _new_session(conn, user, now)
            mail_id = _new_email_token(conn, user, mailer.VERIFY_EMAIL, False, now)
    except repository.EmailTaken:
        raise Conflict("Email already registered") from None
    mailer.send_recorded([mail_id])
    return tokens


def login(request: LoginRequest, source_ip: str) -> TokenResponse:
    settings = get_settings()
    _per_ip("login", source_ip, settings.login_per_ip_per_minute)
    store = limits()
    # Reserved before the password is checked: during a lock even the right one is refused, nothing
    # is learnt, and parallel guesses are counted before any of them is checked.
    reservation = store.reserve_login(request.email)
    key = account_key(request.email)
    if not reservation.allowed:
        _locked(key, None, reservation.retry_after)
    now = clock.utcnow()
    with database().transaction() as conn:
        state = repository.login_state(conn, request.email, key, now)
    if state["locked_until"] is not None:
        # Locked in PostgreSQL: the limit store lost the failures (down, flushed) but the lock holds.
        _locked(key, state["user"], max(1, math.ceil((state["locked_until"] - now).total_seconds())))
    user = state["user"]
    if user is None:
        burn_password_check(request.password)
        _login_failed(request.email, key, None)
    if not verify_password(request.password, user["password_hash"]):
        _login_failed(request.email, key, user["id"])
    store.login_succeeded(request.email)
    with database().transaction() as conn:
        return _new_session(conn, user, clock.utcnow())


def _locked(key: str, user: dict[str, Any] | None, retry_after: int) -> NoReturn:
    audit.audit(audit.LOGIN_LOCKED, subject=user["id"] if user else key, retry_after=retry_after)
    raise TooManyRequests(ACCOUNT_LOCKED, retry_after)


def _login_failed(email: str, key: str, user_id: UUID | None) -> NoReturn:
    """The reservation stays as a failure; the failure that locks the account also locks it in PostgreSQL."""
    subject = user_id or key
    audit.audit(audit.LOGIN_FAILED, subject=subject, known_account=user_id is not None)
    until = limits().locked_until(email)
    if until is not None:
        with database().transaction() as conn:
            repository.lock_account(conn, key, datetime.fromtimestamp(until, UTC))
        audit.audit(audit.ACCOUNT_LOCKED, subject=subject, locked_for=max(1, math.ceil(until - clock.now())))
    raise BadRequestError(BAD_CREDENTIALS)


def refresh(refresh_token: str) -> TokenResponse:
    """Spend a refresh token for a new pair of the same family; a spent one presented again revokes the family."""
    digest = token_digest(refresh_token)
    now = clock.utcnow()
    revoked_family: UUID | None = None
    with database().transaction() as conn:
        started_after = now - timedelta(seconds=get_settings().refresh_token_absolute_ttl_seconds)
        owner = repository.spend_refresh_token(conn, digest, now, started_after)
        if owner is not None:
            return _token_response(conn, owner, owner["family_id"], now, owner["family_started_at"])
        state = repository.refresh_token_state(conn, digest)
        if state is not None and state["spent_at"] is not None and state["revoked_at"] is None:
            revoked_family = state["family_id"]
            repository.revoke_family(conn, revoked_family, now)
    if revoked_family is not None:
        logger.warning("spent refresh token presented again: family revoked", extra={"family_id": str(revoked_family)})
        raise UnauthorizedError(REFRESH_TOKEN_REUSED)
    raise UnauthorizedError(BAD_REFRESH_TOKEN)


def logout(refresh_token: str) -> None:
    """Revoke the token's family and end its access tokens; an unknown token changes nothing."""
    with database().transaction() as conn:
        state = repository.refresh_token_state(conn, token_digest(refresh_token))
        if state is not None:
            repository.revoke_family(conn, state["family_id"], clock.utcnow())
    if state is not None:
        limits().end_family(state["family_id"])
        audit.audit(audit.LOGOUT, actor=state["user_id"], session=state["family_id"])


def logout_all(user_id: UUID) -> None:
    with database().transaction() as conn:
        revoked = repository.revoke_user_families(conn, user_id, clock.utcnow())
    # After the commit: a refresh racing the revocation issued its token before this cutoff.
    limits().end_user_tokens(user_id)
    audit.audit(audit.LOGOUT_ALL, actor=user_id, sessions=revoked)


def purge(now: datetime | None = None) -> dict[str, int]:
    """Delete expired refresh tokens, dead families and spent or expired email tokens (the scheduled purge)."""
    now = now or clock.utcnow()
    with database().transaction() as conn:
        counts = repository.purge_sessions(conn, now, now - REVOKED_FAMILY_RETENTION)
        counts["email_tokens"] = repository.purge_email_tokens(conn, now)
        counts["account_locks"] = repository.purge_account_locks(conn, now)
    return counts


# ---- email verification, password reset ---------------------------------------------------------


def verify_email(token: str) -> EmailVerified:
    now = clock.utcnow()
    with database().transaction() as conn:
        user_id = repository.use_email_token(conn, token_digest(token), mailer.VERIFY_EMAIL, now)
        if user_id is None:
            raise BadRequestError(BAD_EMAIL_TOKEN)
        user = repository.mark_email_verified(conn, user_id)
    return EmailVerified(id=user["id"], email=user["email"])


def resend_verification(user_id: UUID) -> Accepted:
    now = clock.utcnow()
    retry_after = 0
    with database().transaction() as conn:
        user = repository.user_by_id(conn, user_id, for_update=True)
        if user is None:
            raise NotFoundError("User not found")
        if user["email_verified"]:
            raise Conflict("Email is already verified")
        if (
            repository.count_email_tokens_since(conn, user_id, mailer.VERIFY_EMAIL, now - HOUR, True)
            >= RESENDS_PER_HOUR
        ):
            oldest = repository.oldest_email_token_since(conn, user_id, mailer.VERIFY_EMAIL, now - HOUR, True)
            retry_after = int((oldest + HOUR - now).total_seconds()) + 1
        else:
            repository.retire_email_tokens(conn, user_id, mailer.VERIFY_EMAIL, now)
            mail_id = _new_email_token(conn, user, mailer.VERIFY_EMAIL, True, now)
    if retry_after:
        raise TooManyRequests(TOO_MANY_RESENDS, retry_after)
    mailer.send_recorded([mail_id])
    return Accepted(message="A new verification email is on its way")


def forgot_password(request: ForgotPasswordRequest) -> Accepted:
    """The same answer, no sooner than the configured floor, whether or not the account exists.

    The request never calls SES itself (whose latency would tell the two cases apart): it
    records the email and, known account or not, pokes the mail relay asynchronously.
    """
    started = time.monotonic()
    now = clock.utcnow()
    with database().transaction() as conn:
        user = repository.credentials_by_email(conn, request.email)
        if user is not None:
            sent = repository.count_email_tokens_since(conn, user["id"], mailer.RESET_PASSWORD, now - HOUR, False)
            if sent < RESETS_PER_HOUR:
                repository.retire_email_tokens(conn, user["id"], mailer.RESET_PASSWORD, now)
                _new_email_token(conn, user, mailer.RESET_PASSWORD, True, now)
            else:
                logger.info("password reset email dropped: hourly limit of the account reached")
    mailer.poke_relay()
    remaining = get_settings().forgot_password_response_seconds - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)
    return Accepted(message=FORGOT_PASSWORD_ACCEPTED)


def reset_password(request: ResetPasswordRequest) -> None:
    """Set a new password with a reset token; the token is spent and every session of the user revoked."""
    now = clock.utcnow()
    with database().transaction() as conn:
        user_id = repository.use_email_token(conn, token_digest(request.token), mailer.RESET_PASSWORD, now)
        if user_id is None:
            raise BadRequestError(BAD_EMAIL_TOKEN)
        # Hashed only for a valid token, so invalid ones cost no bcrypt time.
        repository.set_password(conn, user_id, hash_password(request.new_password))
        repository.retire_email_tokens(conn, user_id, mailer.RESET_PASSWORD, now)
        revoked = repository.revoke_user_families(conn, user_id, now)
    limits().end_user_tokens(user_id)
    audit.audit(audit.PASSWORD_RESET, subject=user_id, sessions=revoked)


# ---- profile, teachers ------------------------------------------------------------------------


def profile(user_id: UUID) -> UserOut:
    with database().transaction() as conn:
        user = repository.user_by_id(conn, user_id)
    if user is None:
        raise NotFoundError("User not found")
    return UserOut(**user)


def pending_teachers(
    limit: int, offset: int = 0, cursor: str | None = None, with_total: bool = False
) -> CursorPage[PendingTeacher]:
    """Teachers awaiting verification, oldest first, by offset or cursor."""
    return keyset_list(
        PendingTeacher,
        "GET /admin/teachers/pending",
        repository.PENDING_TEACHERS,
        {},
        limit,
        offset,
        cursor,
        with_total,
    )


def verify_teacher(user_id: UUID, admin_id: UUID | None = None) -> UserOut:
    with database().transaction() as conn:
        user = repository.user_by_id(conn, user_id, for_update=True)
        if user is None:
            raise NotFoundError("User not found")
        if user["role"] != Role.TEACHER:
            raise Conflict("User is not a teacher")
        if user["is_verified"]:
            raise Conflict("Teacher is already verified")
        verified = UserOut(**repository.mark_verified(conn, user_id))
    # The teacher's tokens still say unverified: they end, and a refresh carries the new claim.
    limits().end_user_tokens(user_id)
    audit.audit(audit.TEACHER_VERIFIED, actor=admin_id, subject=user_id)
    return verified


def ensure_admin(email: str, password: str) -> bool:
    with database().transaction() as conn:
        if repository.credentials_by_email(conn, email) is not None:
            return False
        return repository.upsert_admin(conn, email, hash_password(password))
