"""SQL of the identity domain."""

from typing import Any
from uuid import UUID

import psycopg

USER_COLUMNS = "id, email, name, role::text AS role, is_verified, created_at"


class EmailTaken(Exception):
    pass


def insert_user(conn: psycopg.Connection, email: str, password_hash: str, name: str, role: str, is_verified: bool) -> dict[str, Any]:
    try:
        with conn.transaction():
            return conn.execute(
                f"INSERT INTO users (email, password_hash, name, role, is_verified) VALUES (%s, %s, %s, %s, %s) RETURNING {USER_COLUMNS}",
                (email, password_hash, name, role, is_verified),
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise EmailTaken(email) from exc


def credentials_by_email(conn: psycopg.Connection, email: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower(%s)", (email,)
    ).fetchone()


def user_by_id(conn: psycopg.Connection, user_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s{lock}", (user_id,)).fetchone()


def pending_teachers(conn: psycopg.Connection, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = conn.execute(
        "SELECT id, email, name, created_at FROM users WHERE role = 'teacher' AND NOT is_verified "
        "ORDER BY created_at, id LIMIT %s OFFSET %s",
        (limit, offset),
    ).fetchall()
    total = conn.execute("SELECT count(*) AS n FROM users WHERE role = 'teacher' AND NOT is_verified").fetchone()["n"]
    return rows, total


def mark_verified(conn: psycopg.Connection, user_id: UUID) -> dict[str, Any]:
    return conn.execute(f"UPDATE users SET is_verified = true WHERE id = %s RETURNING {USER_COLUMNS}", (user_id,)).fetchone()


def upsert_admin(conn: psycopg.Connection, email: str, password_hash: str) -> bool:
    """Create the admin account unless one with that email exists; True when created."""
    row = conn.execute(
        "INSERT INTO users (email, password_hash, name, role, is_verified) VALUES (%s, %s, 'Administrator', 'admin', true) "
        "ON CONFLICT (lower(email)) DO NOTHING RETURNING id",
        (email, password_hash),
    ).fetchone()
    return row is not None
