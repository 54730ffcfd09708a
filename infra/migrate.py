"""Forward-only SQL migrations, one folder per domain database.

``python -m infra.migrate`` applies, in order, every ``infra/migrations/<domain>/NNN_name.sql``
not yet recorded in that database's ``schema_migrations`` table, each in its own
transaction. Database URLs come from IDENTITY_DB_URL ... NOTIFICATION_DB_URL, or from the
local stack's configuration when those are not set.
"""

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

import psycopg

from infra.config import DOMAINS, local_database_urls

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
FILE_PATTERN = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Serialises concurrent runs against the same database (any constant works; it names the lock).
LOCK_KEY = 74_210_001


def migration_files(domain: str) -> list[Path]:
    files = sorted((MIGRATIONS_DIR / domain).glob("*.sql"))
    for path in files:
        if not FILE_PATTERN.match(path.name):
            raise ValueError(f"Migration file name must look like 001_name.sql: {path}")
    return files


class AppliedMigrationChanged(Exception):
    """A migration file differs from the one applied: migrations are forward-only."""


CHECKSUM_FORM = "statements-sha256:"


def checksum(path: Path) -> str:
    """What a migration does, not how it is annotated: whole-line ``--`` comments and blank lines
    are left out, so a comment can be reworded in an applied migration; any other change is caught."""
    statements = [
        line.rstrip() for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("--")
    ]
    return CHECKSUM_FORM + hashlib.sha256("\n".join(statements).encode()).hexdigest()


def recorded_before_statement_checksums(recorded: str) -> bool:
    # Databases migrated when the checksum covered the whole file, comments included. Those files
    # have since had only comments reworded, so such a row is re-recorded in today's form, once.
    return not recorded.startswith(CHECKSUM_FORM)


def migrate(domain: str, url: str) -> list[str]:
    """Apply the pending migrations of one domain; return the names applied."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
            for path in migration_files(domain):
                if path.name in done:
                    if recorded_before_statement_checksums(done[path.name]):
                        conn.execute(
                            "UPDATE schema_migrations SET checksum = %s WHERE version = %s", (checksum(path), path.name)
                        )
                    elif done[path.name] != checksum(path):
                        raise AppliedMigrationChanged(
                            f"{domain}: {path.name} changed after it was applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)", (path.name, checksum(path))
                    )
                applied_now.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now


def database_urls_from_env() -> dict[str, str]:
    configured = local_database_urls()
    return {domain: os.environ.get(f"{domain.upper()}_DB_URL") or configured[domain] for domain in DOMAINS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "domains", nargs="*", metavar="DOMAIN", help=f"domains to migrate (default: all of {', '.join(DOMAINS)})"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.domains) - set(DOMAINS))
    if unknown:
        parser.error(f"unknown domain(s): {', '.join(unknown)}")
    urls = database_urls_from_env()
    for domain in args.domains or DOMAINS:
        applied = migrate(domain, urls[domain])
        print(f"{domain}: {', '.join(applied) if applied else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
