"""Password hashing (bcrypt) and access tokens (JWT) of a ``Principal`` (eduplatform.principal)."""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from uuid import UUID

import bcrypt
import jwt

from eduplatform import clock
from eduplatform.principal import Principal, Role
from eduplatform.secrets import secret as configured_secret
from eduplatform.settings import get_settings

BCRYPT_MAX_PASSWORD_BYTES = 72


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


# Every token names the API it is for; the issuer (TOKEN_ISSUER) names the stack that signed it.
TOKEN_AUDIENCE = "eduplatform-api"
# A token whose kid this instance does not know makes it read the secrets again (a rotation it has
# not seen yet), at most this often.
UNKNOWN_KID_REFETCH_SECONDS = 10.0


@dataclass(frozen=True)
class SigningKeys:
    """The keys of one secret, each derived with a label of its own (HMAC-SHA256), never the secret itself."""

    kid: str
    access: bytes  # signs access tokens (HS256)
    email_link: bytes  # derives the tokens of email links


def _keys_of(secret: str) -> SigningKeys:
    def derive(label: bytes) -> bytes:
        return hmac.new(secret.encode(), label, hashlib.sha256).digest()

    kid = base64.urlsafe_b64encode(derive(b"eduplatform key id")[:9]).decode()
    return SigningKeys(kid, derive(b"eduplatform access tokens"), derive(b"eduplatform email link tokens"))


_keys_cache: dict[str, SigningKeys] = {}
_last_forced_fetch = 0.0


def _keys(secret: str) -> SigningKeys:
    keys = _keys_cache.get(secret)
    if keys is None:
        if len(_keys_cache) > 8:
            _keys_cache.clear()
        keys = _keys_cache[secret] = _keys_of(secret)
    return keys


def _signing_secret(name: str, force: bool) -> str:
    value = configured_secret(name, max_age=get_settings().jwt_secret_max_age_seconds, force=force)
    if len(value) < 32:  # JWT_SECRET itself is refused shorter by Settings
        raise ValueError(f"SSM parameter {getattr(get_settings(), f'{name}_parameter')} holds fewer than 32 characters")
    return value


def jwt_secret(force: bool = False) -> str:
    """The current signing secret: JWT_SECRET, or the SSM SecureString JWT_SECRET_PARAMETER names."""
    return _signing_secret("jwt_secret", force)


def previous_jwt_secret(force: bool = False) -> str | None:
    """The secret before the last rotation, still accepted: JWT_PREVIOUS_SECRET or JWT_PREVIOUS_SECRET_PARAMETER."""
    settings = get_settings()
    if settings.jwt_previous_secret is None and settings.jwt_previous_secret_parameter is None:
        return None
    return _signing_secret("jwt_previous_secret", force)


def current_keys() -> SigningKeys:
    return _keys(jwt_secret())


def _verification_keys(force: bool = False) -> dict[str, SigningKeys]:
    keys = [_keys(jwt_secret(force))]
    previous = previous_jwt_secret(force)
    if previous is not None:
        keys.append(_keys(previous))
    return {key.kid: key for key in keys}


def _key_for(kid: str) -> SigningKeys | None:
    global _last_forced_fetch
    known = _verification_keys()
    if kid in known:
        return known[kid]
    now = time.monotonic()
    if now - _last_forced_fetch < UNKNOWN_KID_REFETCH_SECONDS:
        return None
    _last_forced_fetch = now
    return _verification_keys(force=True).get(kid)


def issue_token(
    user_id: UUID,
    role: Role,
    is_verified: bool,
    now: float | None = None,
    email_verified: bool = False,
    session_id: UUID | None = None,
) -> str:
    """An access token; ``session_id`` is the refresh-token family (login) it belongs to."""
    settings = get_settings()
    moment = now if now is not None else clock.now()
    issued_at = int(moment)
    claims: dict[str, object] = {
        "iss": settings.token_issuer,
        "aud": TOKEN_AUDIENCE,
        "sub": str(user_id),
        "iat": issued_at,
        # iat is whole seconds; the moment in microseconds tells a token issued just after a
        # "session ended" cutoff of the same second from one issued before it.
        "iat_us": int(moment * 1_000_000),
        "exp": issued_at + settings.jwt_ttl_seconds,
        "role": str(role),
        "is_verified": bool(is_verified),
        "email_verified": bool(email_verified),
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    keys = current_keys()
    return jwt.encode(claims, keys.access, algorithm=settings.jwt_algorithm, headers={"kid": keys.kid})


def decode_token(token: str) -> Principal:
    settings = get_settings()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = _key_for(kid) if isinstance(kid, str) else None
        if keys is None:
            raise InvalidToken("Could not validate credentials")
        # Expiry is checked against eduplatform.clock (the wall clock outside tests), not PyJWT's own.
        claims = jwt.decode(
            token,
            keys.access,
            algorithms=[settings.jwt_algorithm],
            audience=TOKEN_AUDIENCE,
            issuer=settings.token_issuer,
            options={
                "require": ["iss", "aud", "sub", "iat", "exp", "role"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        now = clock.now()
        if not isinstance(claims["exp"], int | float) or not isinstance(claims["iat"], int | float):
            raise InvalidToken("Could not validate credentials")
        if claims["exp"] <= now:
            raise jwt.ExpiredSignatureError("Signature has expired")
        if claims["iat"] > now + 5:
            raise InvalidToken("Token issued in the future")
        issued_us = claims.get("iat_us")
        if not isinstance(issued_us, int):
            issued_us = int(claims["iat"]) * 1_000_000
        sid = claims.get("sid")
        return Principal(
            user_id=UUID(str(claims["sub"])),
            role=Role(claims["role"]),
            is_verified=claims.get("is_verified") is True,
            email_verified=claims.get("email_verified") is True,
            session_id=UUID(str(sid)) if sid is not None else None,
            issued_at_us=issued_us,
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


def email_link_token(token_id: UUID, purpose: str, keys: SigningKeys | None = None) -> str:
    """The token an email link carries, derived from its row id with the email-link key.

    Neither the database nor the mail outbox ever holds it: the row keeps its SHA-256 and the
    outbox its id, and the mailer derives it again when it writes the email (HMAC-SHA256: 256
    bits nobody can compute from the id without the secret). The key is derived from the JWT
    secret under a label of its own, so it is never the key that signs access tokens.
    """
    key = (keys or current_keys()).email_link
    mac = hmac.new(key, f"{purpose}:{token_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def email_link_token_matching(token_id: UUID, purpose: str, token_hash: bytes) -> str | None:
    """The link token of ``token_id`` whose SHA-256 is ``token_hash``: by the current key or, for an
    email queued before a rotation, the previous one; None when neither matches."""
    for keys in _verification_keys().values():
        token = email_link_token(token_id, purpose, keys)
        if hmac.compare_digest(token_digest(token), token_hash):
            return token
    return None
