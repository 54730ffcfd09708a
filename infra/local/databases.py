"""Create the domain databases and their roles on the local PostgreSQL server."""

from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from infra.config import DOMAINS, POSTGRES_ADMIN_URL
from infra.local.processes import log


def ensure_database(url: str, admin_url: str = POSTGRES_ADMIN_URL) -> bool:
    """Make sure the database (and its owner role, with the URL's password) of ``url`` exists.

    Returns True when the database was created.
    """
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    role, password = parts.username, parts.password
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if role and role != "postgres":
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            statement = "ALTER ROLE {} LOGIN PASSWORD {}" if exists else "CREATE ROLE {} LOGIN PASSWORD {}"
            conn.execute(sql.SQL(statement).format(sql.Identifier(role), sql.Literal(password or role)))
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            return False
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role or "postgres"))
        )
        return True


def drop_database(url: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    database = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def autovacuum_warning(admin_url: str = POSTGRES_ADMIN_URL) -> str | None:
    """What to do when the server runs without autovacuum (some CI images turn it off), else None.

    Without it the load test's writes leave dead rows behind for good: over a few runs the
    course table carried a fifth of dead rows, search totals scanned them, and PostgreSQL's CPU
    per request doubled.
    """
    with psycopg.connect(admin_url, autocommit=True) as conn:
        setting = conn.execute("SELECT setting, sourcefile FROM pg_settings WHERE name = 'autovacuum'").fetchone()
    if setting is None or setting[0] == "on":
        return None
    return (
        f"WARNING: PostgreSQL runs with autovacuum off ({setting[1] or 'server setting'}): dead rows of the "
        "load test's writes pile up and slow the next runs. Turn it on, or run `make vacuum` between load runs."
    )


def vacuum(urls: dict[str, str]) -> None:
    """VACUUM (ANALYZE) every domain database: dead rows gone, statistics and visibility maps current."""
    for domain, url in urls.items():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
        print(f"{domain}: vacuumed and analyzed")


def prepare_databases(urls: dict[str, str]) -> None:
    """Create each domain's database when missing and apply its migrations (`make up`, the e2e tests)."""
    from infra.migrate import migrate

    for domain in DOMAINS:
        created = ensure_database(urls[domain])
        applied = migrate(domain, urls[domain])
        if created or applied:
            log(f"{domain} database: {'created, ' if created else ''}{', '.join(applied) or 'up to date'}")
    if warning := autovacuum_warning():
        log(warning)


if __name__ == "__main__":
    from infra.migrate import database_urls_from_env

    vacuum(database_urls_from_env())
