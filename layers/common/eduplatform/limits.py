"""Abuse limits counted in Redis, which every function instance shares: per-account failed-login
lockout and per-source-IP request limits (docs/api.md, limits).

Why Redis and not DynamoDB: the stack already runs it for the cache (CACHE_URL; LIMITS_URL may
name another), a counter is one atomic INCR or one sorted-set pipeline answered in well under a
millisecond, and keys expire by themselves. DynamoDB with TTL would work too, but costs a
network round trip of several milliseconds on every login and register, and its TTL deletes
rows up to days late, so windows would need a second clock check anyway.

When the store is down or unset the per-IP limits are **not enforced** (fail open): a login or a
registration goes on, the failure is logged as a warning and counted (metric
``LimitStoreUnavailable``), and the instance leaves Redis alone for a few seconds. The account
lockout never skips the store, and a locked account stays locked without it: the lock is also
kept in PostgreSQL (identity ``account_locks``), which the login reads with the account. Refusing every
login while Redis is down would turn a cache outage into a full outage; what remains meanwhile is
bcrypt's cost per guess and the API stage's throttling (docs/reliability.md). Never an error.

Windows are read from ``eduplatform.clock``, so tests move time forward instead of waiting.
"""

import hashlib
import math
import time
import uuid
from dataclasses import dataclass

import redis
from aws_lambda_powertools.metrics import MetricUnit
from redis.backoff import NoBackoff
from redis.retry import Retry

from eduplatform import clock, snapstart
from eduplatform.observability import logger, metrics
from eduplatform.settings import get_settings

# More generous than the cache's: a limit answered wrongly costs more than a cache miss.
CONNECT_TIMEOUT_SECONDS = 0.05
READ_TIMEOUT_SECONDS = 0.05
BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused


ALLOWED = Verdict(True)


def account_key(email: str) -> str:
    # Hashed: a key never carries an address (Redis MONITOR, dumps).
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class Limits:
    def __init__(self, url: str | None, prefix: str = "") -> None:
        self.prefix = f"{prefix}limits:"
        self._client = (
            redis.Redis.from_url(
                url,
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                socket_timeout=READ_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            if url
            else None
        )
        self._skip_until = 0.0

    def _usable(self) -> redis.Redis | None:
        if self._client is None or time.monotonic() < self._skip_until:
            return None
        return self._client

    def _unavailable(self, action: str, exc: Exception) -> Verdict:
        self._skip_until = time.monotonic() + BACKOFF_SECONDS
        logger.warning("limit store unavailable, limit not enforced", extra={"action": action, "error": repr(exc)})
        metrics.add_metric(name="LimitStoreUnavailable", unit=MetricUnit.Count, value=1)
        return ALLOWED

    # ---- per source IP: a fixed window of one minute per route --------------------------------

    def hit(self, route: str, source_ip: str, per_minute: int) -> Verdict:
        """Count one request of ``route`` from ``source_ip``; refused past ``per_minute`` in this minute."""
        client = self._usable()
        if client is None:
            return ALLOWED
        now = clock.now()
        window = int(now // 60)
        key = f"{self.prefix}ip:{route}:{source_ip}:{window}"
        try:
            with client.pipeline(transaction=True) as pipeline:
                pipeline.incr(key)
                pipeline.expire(key, 120)
                count, _ = pipeline.execute()
        except redis.RedisError as exc:
            return self._unavailable("ip", exc)
        if count > per_minute:
            return Verdict(False, max(1, math.ceil((window + 1) * 60 - now)))
        return ALLOWED

    # ---- per account: failed logins in a sliding window ------------------------------------------
    #
    # A login reserves one attempt before its password is checked (one atomic script: drop the
    # failures that left the window, refuse when the maximum remain, else add this attempt). A
    # wrong password leaves the reservation as a failure; a correct one forgets the failures. So
    # parallel guesses cannot all pass the check before any is counted. These calls never skip the
    # store after an error (the per-IP counters do): the account lock is also kept in PostgreSQL
    # (account_key, the lock's end), which the login reads with the account.

    def reserve_login(self, email: str) -> Verdict:
        """Reserve one attempt for the account; refused while it has the maximum failures in the window."""
        if self._client is None:
            return ALLOWED
        settings = get_settings()
        now = clock.now()
        try:
            answer: list[int | bytes] = self._client.eval(  # type: ignore[assignment]  # {1} or {0, score}
                _RESERVE,
                1,
                f"{self.prefix}login-failures:{account_key(email)}",
                str(now),
                str(settings.login_lockout_window_seconds),
                str(settings.login_failures_max),
                uuid.uuid4().hex,
            )
        except redis.RedisError as exc:
            self._store_failed("account", exc)
            return ALLOWED
        if int(answer[0]) == 1:
            return ALLOWED
        return Verdict(False, max(1, math.ceil(float(answer[1]) + settings.login_lockout_window_seconds - now)))

    def locked_until(self, email: str) -> float | None:
        """When the account's lock ends (epoch seconds), if its failures reached the maximum; None otherwise."""
        if self._client is None:
            return None
        settings = get_settings()
        try:
            entries: list[tuple[bytes, float]] = self._client.zrange(  # type: ignore[assignment]
                f"{self.prefix}login-failures:{account_key(email)}", 0, -1, withscores=True
            )
            scores = [float(score) for _, score in entries]
        except redis.RedisError as exc:
            self._store_failed("account", exc)
            return None
        live = sorted(score for score in scores if score > clock.now() - settings.login_lockout_window_seconds)
        if len(live) < settings.login_failures_max:
            return None
        return float(live[len(live) - settings.login_failures_max]) + settings.login_lockout_window_seconds

    def login_succeeded(self, email: str) -> None:
        """A correct password gives its reservation back and forgets the account's earlier failures."""
        if self._client is None:
            return
        try:
            self._client.delete(f"{self.prefix}login-failures:{account_key(email)}")
        except redis.RedisError as exc:
            self._store_failed("account", exc)

    def _store_failed(self, action: str, exc: Exception) -> None:
        logger.warning("limit store unavailable", extra={"action": action, "error": repr(exc)})
        metrics.add_metric(name="LimitStoreUnavailable", unit=MetricUnit.Count, value=1)

    # ---- sessions that end before their access tokens expire ---------------------------------------
    #
    # Two kinds of mark, each kept as long as an access token lives (JWT_TTL_SECONDS, plus a margin):
    # a family (login) ended by a logout, and a user's cutoff (microseconds) before which every token
    # of theirs is ended (logout everywhere, a password reset, an admin changing the account). Every
    # authenticated request reads both in one MGET; the identity database stays the authority for
    # refresh tokens (a revoked family never refreshes again).

    def _mark_ttl(self) -> int:
        return get_settings().jwt_ttl_seconds + 60

    def end_family(self, family_id: uuid.UUID) -> bool:
        """End the access tokens of one login; False when the store could not be told."""
        if self._client is None:
            return False
        try:
            self._client.set(f"{self.prefix}ended-family:{family_id}", b"1", ex=self._mark_ttl())
            return True
        except redis.RedisError as exc:
            self._session_store_failed("end family", exc)
            return False

    def end_user_tokens(self, user_id: uuid.UUID, cutoff: float | None = None) -> bool:
        """End every access token of ``user_id`` issued before ``cutoff`` (now); False when the store could not be told."""
        if self._client is None:
            return False
        cutoff_us = int((cutoff if cutoff is not None else clock.now()) * 1_000_000)
        try:
            self._client.eval(
                _KEEP_MAX, 1, f"{self.prefix}tokens-valid-after:{user_id}", str(cutoff_us), str(self._mark_ttl())
            )
            return True
        except redis.RedisError as exc:
            self._session_store_failed("end user tokens", exc)
            return False

    def session_ended(self, user_id: uuid.UUID, session_id: uuid.UUID | None, issued_at_us: int) -> bool:
        """Whether a token's login was logged out or its user's tokens were ended after it was issued.

        The store down or unset: False (the token lives until its expiry, as it would without
        the store), logged and counted as SessionStoreUnavailable.
        """
        client = self._usable()
        if client is None:
            return False
        keys = [f"{self.prefix}tokens-valid-after:{user_id}"]
        if session_id is not None:
            keys.append(f"{self.prefix}ended-family:{session_id}")
        try:
            values: list[bytes | None] = client.mget(keys)  # type: ignore[assignment]
        except redis.RedisError as exc:
            self._skip_until = time.monotonic() + BACKOFF_SECONDS
            self._session_store_failed("check session", exc)
            return False
        cutoff = values[0]
        if cutoff is not None and issued_at_us <= int(cutoff):
            return True
        return len(values) > 1 and values[1] is not None

    def _session_store_failed(self, action: str, exc: Exception) -> None:
        logger.warning("session store unavailable", extra={"action": action, "error": repr(exc)})
        metrics.add_metric(name="SessionStoreUnavailable", unit=MetricUnit.Count, value=1)


# Set KEYS[1] to ARGV[1] unless it holds a larger value already; expire it after ARGV[2] seconds.
_KEEP_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1]: the account's failures (a sorted set scored by time); ARGV: now, window, maximum, a new
# member. {1} when the attempt is reserved, {0, oldest failure that keeps the lock} when refused.
_RESERVE = """
local now, window, maximum = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= maximum then
  local keeping = redis.call('ZRANGE', KEYS[1], count - maximum, count - maximum, 'WITHSCORES')
  return {0, keeping[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], window + 60)
return {1}
"""

_limits: Limits | None = None


def limits() -> Limits:
    """This instance's limit store: LIMITS_URL, else CACHE_URL (the stack's Redis); none when both are empty."""
    global _limits
    if _limits is None:
        settings = get_settings()
        url = settings.limits_url or settings.cache_url
        if not url:
            logger.warning("no limit store configured (LIMITS_URL / CACHE_URL): login and register limits are off")
        _limits = Limits(url, settings.cache_key_prefix)
    return _limits


def reset_limits() -> None:
    """Forget this instance's limit store (tests switch its URL)."""
    global _limits
    _limits = None


# SnapStart: a restored instance builds its own limit store client, never reusing a snapshot's connections.
snapstart.after_restore(reset_limits)
