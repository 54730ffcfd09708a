"""Peak PostgreSQL server connections per domain database while a load run goes on.

    .venv/bin/python -m loadtest.db_connections --seconds 200 &   # then start the load run

Samples pg_stat_activity once a second (the pooler's server connections are what the
functions hold on PostgreSQL) and prints the peak per database at the end.
"""

import argparse
import sys
import time
from urllib.parse import urlsplit

import psycopg

from infra.config import POSTGRES_ADMIN_URL, local_database_urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=200)
    args = parser.parse_args(argv)
    databases = {urlsplit(url).path.lstrip("/"): domain for domain, url in local_database_urls().items()}
    peak = dict.fromkeys(databases, 0)
    peak_total = 0
    deadline = time.monotonic() + args.seconds
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        while time.monotonic() < deadline:
            counts = dict(
                conn.execute(
                    "SELECT datname, count(*) FROM pg_stat_activity WHERE datname = ANY(%s) AND pid <> pg_backend_pid() GROUP BY datname",
                    (list(databases),),
                ).fetchall()
            )
            for name in databases:
                peak[name] = max(peak[name], counts.get(name, 0))
            peak_total = max(peak_total, sum(counts.values()))
            time.sleep(1)
        max_connections = conn.execute("SHOW max_connections").fetchone()[0]
    print(
        " ".join(f"{databases[name]}={count}" for name, count in peak.items()),
        f"all={peak_total} (max_connections {max_connections})",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
