"""Create the domain databases and their roles on the local PostgreSQL server."""

from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from infra.config import POSTGRES_ADMIN_URL


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
