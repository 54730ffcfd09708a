"""Password hashing (bcrypt) and access tokens (JWT)."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

import bcrypt
import jwt

from eduplatform import clock
from eduplatform.settings import get_settings

BCRYPT_MAX_PASSWORD_BYTES = 72
# How long a function instance reuses the secret read from SSM before reading it again (rotation).
JWT_SECRET_MAX_AGE_SECONDS = 300


class Role(StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, taken from a verified token."""

    user_id: UUID
    role: Role
    is_verified: bool
    email_verified: bool = False


class InvalidToken(Exception):
    pass


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    # Registration refuses longer passwords, so none can match; bcrypt itself would raise.
    if len(encoded) > BCRYPT_MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())


_timing_decoy_hash: str | None = None


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so an unknown email answers as slowly as a wrong password."""
    global _timing_decoy_hash
    if _timing_decoy_hash is None:
        _timing_decoy_hash = hash_password("timing-decoy-password")
    verify_password(password, _timing_decoy_hash)


def jwt_secret() -> str:
    """The token signing secret: JWT_SECRET, or the SSM SecureString JWT_SECRET_PARAMETER names."""
    settings = get_settings()
    if settings.jwt_secret is not None:
        return settings.jwt_secret
    if settings.jwt_secret_parameter is None:  # Settings refuses to load without one or the other
        raise ValueError("Neither JWT_SECRET nor JWT_SECRET_PARAMETER is set")
    # Imported here: it pulls in boto3 (~0.1 s of a cold start), which a JWT_SECRET never needs.
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_parameter(settings.jwt_secret_parameter, decrypt=True, max_age=JWT_SECRET_MAX_AGE_SECONDS)
    if len(secret) < 32:
        raise ValueError(f"SSM parameter {settings.jwt_secret_parameter} holds fewer than 32 characters")
    return secret


def issue_token(
    user_id: UUID, role: Role, is_verified: bool, now: float | None = None, email_verified: bool = False
) -> str:
    settings = get_settings()
    issued_at = int(now if now is not None else clock.now())
    claims = {
        "sub": str(user_id),
        "iat": issued_at,
        "exp": issued_at + settings.jwt_ttl_seconds,
        "role": str(role),
        "is_verified": bool(is_verified),
        "email_verified": bool(email_verified),
    }
    return jwt.encode(claims, jwt_secret(), algorithm=settings.jwt_algorithm)


def decode_token(token: str) -> Principal:
    settings = get_settings()
    secret = jwt_secret()
    try:
        # Expiry is checked against eduplatform.clock (the wall clock outside tests), not PyJWT's own.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "iat", "exp", "role"], "verify_exp": False, "verify_iat": False},
        )
        now = clock.now()
        if not isinstance(claims["exp"], int | float) or not isinstance(claims["iat"], int | float):
            raise InvalidToken("Could not validate credentials")
        if claims["exp"] <= now:
            raise jwt.ExpiredSignatureError("Signature has expired")
        if claims["iat"] > now + 5:
            raise InvalidToken("Token issued in the future")
        return Principal(
            user_id=UUID(str(claims["sub"])),
            role=Role(claims["role"]),
            is_verified=claims.get("is_verified") is True,
            email_verified=claims.get("email_verified") is True,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("Token has expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken("Could not validate credentials") from exc


# ---- opaque tokens: refresh tokens, email links -----------------------------------------------


def new_opaque_token() -> str:
    """256 random bits, URL-safe (43 characters): a refresh token."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What the database keeps of an opaque token: its SHA-256 (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).digest()


def email_link_token(token_id: UUID, purpose: str) -> str:
    """The token an email link carries, derived from its row id with a key of the JWT secret.

    Neither the database nor the mail outbox ever holds it: the row keeps its SHA-256 and the
    outbox its id, and the mailer derives it again when it writes the email (HMAC-SHA256: 256
    bits nobody can compute from the id without the secret).
    """
    key = hmac.new(jwt_secret().encode(), b"eduplatform email link tokens", hashlib.sha256).digest()
    mac = hmac.new(key, f"{purpose}:{token_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
