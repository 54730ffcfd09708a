"""Abuse limits counted in Redis, which every function instance shares: per-account failed-login
lockout and per-source-IP request limits (API.md v2, "Limits").

Why Redis and not DynamoDB: the stack already runs it for the cache (CACHE_URL; LIMITS_URL may
name another), a counter is one atomic INCR or one sorted-set pipeline answered in well under a
millisecond, and keys expire by themselves. DynamoDB with TTL would work too, but costs a
network round trip of several milliseconds on every login and register, and its TTL deletes
rows up to days late, so windows would need a second clock check anyway.

When the store is down or unset the limits are **not enforced** (fail open): a login or a
registration goes on, the failure is logged as a warning and counted (metric
``LimitStoreUnavailable``), and the instance leaves Redis alone for a few seconds. Refusing every
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

from eduplatform import clock
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


def _account_key(email: str) -> str:
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

    def login_lock(self, email: str) -> Verdict:
        """Refused while the account has ``login_failures_max`` failures within the window."""
        client = self._usable()
        if client is None:
            return ALLOWED
        settings = get_settings()
        now = clock.now()
        window = settings.login_lockout_window_seconds
        key = f"{self.prefix}login-failures:{_account_key(email)}"
        try:
            with client.pipeline(transaction=True) as pipeline:
                pipeline.zremrangebyscore(key, "-inf", now - window)
                pipeline.zrange(key, 0, -1, withscores=True)
                _, failures = pipeline.execute()
        except redis.RedisError as exc:
            return self._unavailable("account", exc)
        if len(failures) < settings.login_failures_max:
            return ALLOWED
        # Unlocked when enough of the failures have left the window for fewer than the maximum to remain.
        scores = sorted(score for _, score in failures)
        unlock_at = scores[len(scores) - settings.login_failures_max] + window
        return Verdict(False, max(1, math.ceil(unlock_at - now)))

    def login_failed(self, email: str) -> None:
        client = self._usable()
        if client is None:
            return
        settings = get_settings()
        now = clock.now()
        key = f"{self.prefix}login-failures:{_account_key(email)}"
        try:
            with client.pipeline(transaction=True) as pipeline:
                pipeline.zadd(key, {uuid.uuid4().hex: now})
                pipeline.zremrangebyscore(key, "-inf", now - settings.login_lockout_window_seconds)
                pipeline.expire(key, settings.login_lockout_window_seconds + 60)
                pipeline.execute()
        except redis.RedisError as exc:
            self._unavailable("account", exc)

    def login_succeeded(self, email: str) -> None:
        """A correct password (outside a lock) forgets the account's earlier failures."""
        client = self._usable()
        if client is None:
            return
        try:
            client.delete(f"{self.prefix}login-failures:{_account_key(email)}")
        except redis.RedisError as exc:
            self._unavailable("account", exc)

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
            self._client.eval(_KEEP_MAX, 1, f"{self.prefix}tokens-valid-after:{user_id}", cutoff_us, self._mark_ttl())
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
            values = client.mget(keys)
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
