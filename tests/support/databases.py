"""Isolated PostgreSQL databases for tests, on the same server as the local stack.

Unit tests use ``test_<domain>``, end-to-end tests ``e2e_<domain>``; neither is ever a
database of a running `make up` stack. A second checkout testing on the same server at the
same time sets ``TEST_DATABASE_PREFIX`` (e.g. ``wt2_``) so its databases are its own.
"""

import contextlib
import os
from collections.abc import Iterator

import psycopg

from infra.config import POSTGRES_ADMIN_URL, with_database
from infra.local.databases import drop_database, ensure_database
from infra.migrate import migrate


def isolated_database_url(prefix: str, domain: str) -> str:
    return with_database(
        POSTGRES_ADMIN_URL, f"{os.environ.get('TEST_DATABASE_PREFIX', '')}{prefix}_{domain}", user="postgres"
    )


def prepare(prefix: str, domain: str) -> str:
    """Create the test database anew and migrate it; return its URL.

    Recreated on every test session so the schema is always exactly what the
    migrations in the working tree produce.
    """
    url = isolated_database_url(prefix, domain)
    drop_database(url)
    ensure_database(url)
    migrate(domain, url)
    return url


def truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


@contextlib.contextmanager
def recorded_statements(monkeypatch) -> Iterator[list[str]]:
    """Every statement psycopg sends while the block runs, in order (to count round trips)."""
    executed: list[str] = []
    original = psycopg.Cursor.execute

    def recording(self, query, *args, **kwargs):
        executed.append(str(query))
        return original(self, query, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", recording)
        yield executed
