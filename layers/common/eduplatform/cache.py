"""Redis as a cache of hot public reads: faster with it, never wrong and never failing without it.

Entries are versioned, so a write never leaves a stale entry behind, even one racing a reader.
A cached value lives under ``<prefix><name>:<key>@<versions>``, where each version is a counter
in Redis that the writes bump *after* their commit. A reader reads the versions first, then
the database, then stores what it read under those versions: a value read before a write is
stored under the old version, which no reader asks for again (it expires with its TTL).

Redis down, slow (the client's timeouts are a few milliseconds) or full costs speed, never an
error: the read goes to PostgreSQL, the failure is logged, and the instance leaves Redis alone
for a few seconds instead of paying the timeout on every request. Invalidations are always
tried; one that fails (Redis unreachable at that moment) is logged, and the entries it should
have removed live at most their TTL, which is why every TTL is short.
"""

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from pydantic import BaseModel, ValidationError

from eduplatform.observability import logger
from eduplatform.settings import get_settings

# Loopback Redis answers in well under a millisecond; waiting longer than this costs more
# than reading PostgreSQL.
CONNECT_TIMEOUT_SECONDS = 0.005
READ_TIMEOUT_SECONDS = 0.01
# After a failure, this instance reads PostgreSQL only for this long.
BACKOFF_SECONDS = 5.0

Model = TypeVar("Model", bound=BaseModel)


class Cache:
    def __init__(self, url: str | None, prefix: str = "") -> None:
        self.prefix = prefix
        # No retries: a failed call falls back to the database at once.
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=READ_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        ) if url else None
        self._skip_until = 0.0

    def _version_key(self, version: str) -> str:
        return f"{self.prefix}version:{version}"

    def _usable(self) -> redis.Redis | None:
        if self._client is None or time.monotonic() < self._skip_until:
            return None
        return self._client

    def _failed(self, action: str, exc: Exception) -> None:
        self._skip_until = time.monotonic() + BACKOFF_SECONDS
        logger.warning("cache unavailable, reading the database", extra={"action": action, "error": repr(exc)})

    def read_through(self, name: str, key: str, versions: Iterable[str], model: type[Model], load: Callable[[], Model],
                     ttl_seconds: int) -> Model:
        """The cached ``model`` for ``name``/``key`` under the current ``versions``, else ``load()`` (and cache it)."""
        client = self._usable()
        if client is None:
            return load()
        try:
            current = client.mget([self._version_key(version) for version in versions])
            entry_key = f"{self.prefix}{name}:{key}@" + ".".join((value or b"0").decode() for value in current)
            raw = client.get(entry_key)
        except redis.RedisError as exc:
            self._failed("read", exc)
            return load()
        if raw is not None:
            try:
                return model.model_validate_json(raw)
            except ValidationError:
                pass  # written by another version of the code: read the database and replace it
        value = load()
        try:
            client.set(entry_key, value.model_dump_json(), ex=ttl_seconds)
        except redis.RedisError as exc:
            self._failed("store", exc)
        return value

    def invalidate(self, *versions: str) -> None:
        """Bump ``versions`` after a commit: every entry read under their old values is unreachable."""
        if self._client is None or not versions:
            return
        try:
            with self._client.pipeline(transaction=False) as pipeline:
                for version in versions:
                    pipeline.incr(self._version_key(version))
                pipeline.execute()
        except redis.RedisError as exc:
            logger.error("cache invalidation failed; entries expire with their TTL",
                         extra={"versions": list(versions), "error": repr(exc)})
            self._skip_until = time.monotonic() + BACKOFF_SECONDS


def key_of(*parts: object) -> str:
    """A short key for a query's parameters (a search term may be 200 characters of anything)."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


_cache: Cache | None = None


def cache() -> Cache:
    """This instance's cache, from CACHE_URL (empty: no cache) and CACHE_KEY_PREFIX (the stack's name)."""
    global _cache
    if _cache is None:
        settings = get_settings()
        _cache = Cache(settings.cache_url, settings.cache_key_prefix)
    return _cache


def reset_cache() -> None:
    """Forget this instance's cache (tests switch CACHE_URL)."""
    global _cache
    _cache = None
