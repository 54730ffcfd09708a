"""Redis as a cache of hot public reads: faster with it, never wrong and never failing without it.

Entries are versioned, so a write never leaves a stale entry behind, even one racing a reader.
A cached value lives under ``<prefix>cache:<name>:<key>@<versions>``, where each version is a value
in Redis that the writes replace *after* their commit. A reader reads the versions first, then
the database, then stores what it read under those versions: a value read before a write is
stored under the old version, which no reader asks for again (it expires with its TTL).
A write sets a version to a value never used before and lets it expire after
VERSION_TTL_SECONDS, longer than any entry lives: versions of things nobody writes any more
do not pile up, and a version that expired and is set again cannot revive an old entry.

A reader may also register what it read in a registry (a sorted set of members by time,
``read_through(..., registry=(name, member))``), before it reads the versions; a writer asks
``registered(name)`` after its commit which members were read recently, to find the
versions its write changed among many (the searched terms of the catalogue).

A bulk load that replaces the data under the entries (the seed) removes them all with
``forget_everything``.

Redis down, slow (the client's timeouts are a few milliseconds) or full costs speed, never an
error: the read goes to PostgreSQL, the failure is logged, and after a few failures in a row the
instance leaves Redis alone for a few seconds instead of paying the timeout on every request.
Invalidations are always tried; one that fails (Redis unreachable at that moment) is logged, the
instance backs off at once, and the entries it should have removed live at most their TTL, which
is why every TTL is short.
"""

import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

import redis
from pydantic import BaseModel, ValidationError
from redis.backoff import NoBackoff
from redis.retry import Retry

from eduplatform import snapstart
from eduplatform.observability import logger
from eduplatform.settings import get_settings

# Loopback Redis answers in well under a millisecond; waiting longer than this costs more
# than reading PostgreSQL.
CONNECT_TIMEOUT_SECONDS = 0.005
READ_TIMEOUT_SECONDS = 0.01
# After this many failures in a row, this instance reads PostgreSQL only for BACKOFF_SECONDS. One
# slow answer (Redis descheduled for 10 ms on a busy machine) costs only its own request: backing
# off for it sent a whole instance's hot reads to PostgreSQL for seconds.
FAILURES_BEFORE_BACKOFF = 3
BACKOFF_SECONDS = 5.0
# Keys asked for and removed per round trip by forget_everything.
FORGET_BATCH = 1000
# How long a version outlives its last write; every entry's TTL must be shorter.
VERSION_TTL_SECONDS = 3600

Model = TypeVar("Model", bound=BaseModel)

# KEYS: the registry (empty: none), then the versions. ARGV: the entry key's prefix, the registry
# member, the time. Answers the entry's key (the prefix, then the versions' values, 0 for one never
# set) and its value (nil when absent).
READ_ENTRY_SCRIPT = """
if KEYS[1] ~= '' then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) end
local versions = {}
for index = 2, #KEYS do versions[#versions + 1] = redis.call('GET', KEYS[index]) or '0' end
local entry_key = ARGV[1] .. table.concat(versions, '.')
return {entry_key, redis.call('GET', entry_key)}
"""


class Cache:
    def __init__(
        self,
        url: str | None,
        prefix: str = "",
        connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
        timeout_seconds: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        """The timeouts are a request's; a tool's bulk work (``forget_everything``) gives longer ones."""
        # The stack's prefix, then this cache's: apart from the other keys of the stack (limits).
        self.prefix = f"{prefix}cache:"
        # No retries: a failed call falls back to the database at once.
        self._client = (
            redis.Redis.from_url(
                url,
                socket_connect_timeout=connect_timeout_seconds,
                socket_timeout=timeout_seconds,
                retry=Retry(NoBackoff(), 0),
            )
            if url
            else None
        )
        self._skip_until = 0.0
        self._failures_in_a_row = 0
        # One round trip for a read: note the registry member, read the versions, read the entry.
        self._read_entry = self._client.register_script(READ_ENTRY_SCRIPT) if self._client else None

    def _version_key(self, version: str) -> str:
        return f"{self.prefix}version:{version}"

    def _usable(self) -> redis.Redis | None:
        if self._client is None or time.monotonic() < self._skip_until:
            return None
        return self._client

    def _back_off(self) -> None:
        self._skip_until = time.monotonic() + BACKOFF_SECONDS

    def _failed(self, action: str, exc: Exception) -> None:
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= FAILURES_BEFORE_BACKOFF:
            self._failures_in_a_row = 0
            self._back_off()
        logger.warning("cache unavailable, reading the database", extra={"action": action, "error": repr(exc)})

    def _registry_key(self, registry: str) -> str:
        return f"{self.prefix}registry:{registry}"

    def read_through(
        self,
        name: str,
        key: str,
        versions: Iterable[str],
        model: type[Model],
        load: Callable[[], Model],
        ttl_seconds: int,
        registry: tuple[str, str] | None = None,
    ) -> Model:
        """The cached ``model`` for ``name``/``key`` under the current ``versions``, else ``load()`` (and cache it).

        ``registry`` (name, member): note the member as read now, before the versions are read.
        """
        if ttl_seconds >= VERSION_TTL_SECONDS:
            raise ValueError(f"an entry's TTL must be shorter than VERSION_TTL_SECONDS ({VERSION_TTL_SECONDS} s)")
        client = self._usable()
        if client is None or self._read_entry is None:
            return load()
        registry_key, member = (self._registry_key(registry[0]), registry[1]) if registry else ("", "")
        try:
            entry_key, raw = self._read_entry(
                keys=[registry_key, *(self._version_key(version) for version in versions)],
                args=[f"{self.prefix}{name}:{key}@", member, time.time()],
                client=client,
            )
        except redis.RedisError as exc:
            self._failed("read", exc)
            return load()
        self._failures_in_a_row = 0
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
        """Replace ``versions`` after a commit: every entry read under their old values is unreachable."""
        if self._client is None or not versions:
            return
        try:
            with self._client.pipeline(transaction=False) as pipeline:
                for version in versions:
                    pipeline.set(self._version_key(version), uuid.uuid4().hex[:16], ex=VERSION_TTL_SECONDS)
                pipeline.execute()
        except redis.RedisError as exc:
            logger.error(
                "cache invalidation failed; entries expire with their TTL",
                extra={"versions": list(versions), "error": repr(exc)},
            )
            self._back_off()

    def forget_everything(self) -> int:
        """Remove every entry, version and registry of this cache: the data they were read from
        was replaced in bulk, not by writes that invalidate. How many keys were removed."""
        if self._client is None:
            return 0
        removed = 0
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in self.prefix) + "*"
        keys = self._client.scan_iter(match=pattern, count=FORGET_BATCH)
        while batch := list(itertools.islice(keys, FORGET_BATCH)):
            removed += self._client.unlink(*batch)  # type: ignore[operator]
        return removed

    def registered(self, registry: str, within_seconds: float) -> list[str] | None:
        """Members of ``registry`` read in the last ``within_seconds`` (older ones are dropped).

        None when Redis cannot say: the caller then invalidates as if every member matched.
        """
        if self._client is None:
            return []
        key, now = self._registry_key(registry), time.time()
        try:
            with self._client.pipeline(transaction=False) as pipeline:
                pipeline.zremrangebyscore(key, "-inf", now - within_seconds)
                pipeline.zrange(key, 0, -1)
                members = pipeline.execute()[-1]
        except redis.RedisError as exc:
            logger.error("cache registry unreadable", extra={"registry": registry, "error": repr(exc)})
            self._back_off()
            return None
        return [member.decode() for member in members]


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


# SnapStart: a restored instance builds its own cache client, never reusing a snapshot's connections.
snapstart.after_restore(reset_cache)
