"""The Redis the functions are configured with: a warning when it does not answer."""

from infra.local.processes import log


def check_cache(url: str) -> None:
    """Say what to do when the Redis the functions are configured with does not answer (they work without it, slower)."""
    if not url:
        return
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        log(
            f"WARNING: Redis at {url} does not answer ({exc}); the functions will read PostgreSQL only, slower. "
            "Start it (`apt-get install redis-server && redis-server --daemonize yes`), or set CacheUrl= "
            "(empty) in samconfig.toml to run without the cache."
        )
