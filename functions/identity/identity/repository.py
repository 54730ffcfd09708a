"""SQL of the identity domain."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from eduplatform.cursors import OLDEST_FIRST, KeysetList
from eduplatform.db import Connection, one

USER_COLUMNS = "id, email, name, role::text AS role, is_verified, email_verified, created_at"


class EmailTaken(Exception):
    pass


def insert_user(
    conn: Connection, email: str, password_hash: str, name: str, role: str, is_verified: bool
) -> dict[str, Any]:
    try:
        with conn.transaction():
            return one(
                conn.execute(
                    f"INSERT INTO users (email, password_hash, name, role, is_verified) VALUES (%s, %s, %s, %s, %s) RETURNING {USER_COLUMNS}",
                    (email, password_hash, name, role, is_verified),
                )
            )
    except psycopg.errors.UniqueViolation as exc:
        raise EmailTaken(email) from exc


def credentials_by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower(%s)", (email,)
    ).fetchone()


def login_state(conn: Connection, email: str, account_key: str, now: datetime) -> dict[str, Any]:
    """The account's credentials (``user``, None when unknown) and the end of its lock (``locked_until``), in one statement."""
    row = one(
        conn.execute(
            "SELECT l.locked_until, u.id, u.email, u.name, u.role::text AS role, u.is_verified, u.email_verified, "
            "u.created_at, u.password_hash FROM (VALUES (1)) AS v "
            "LEFT JOIN users AS u ON lower(u.email) = lower(%(email)s) "
            "LEFT JOIN account_locks AS l ON l.account_key = %(key)s AND l.locked_until > %(now)s",
            {"email": email, "key": account_key, "now": now},
        )
    )
    locked_until = row.pop("locked_until")
    return {"user": row if row["id"] is not None else None, "locked_until": locked_until}


def lock_account(conn: Connection, account_key: str, until: datetime) -> None:
    conn.execute(
        "INSERT INTO account_locks (account_key, locked_until) VALUES (%s, %s) "
        "ON CONFLICT (account_key) DO UPDATE SET locked_until = GREATEST(account_locks.locked_until, EXCLUDED.locked_until)",
        (account_key, until),
    )


def purge_account_locks(conn: Connection, now: datetime) -> int:
    return conn.execute("DELETE FROM account_locks WHERE locked_until <= %s", (now,)).rowcount


def user_by_id(conn: Connection, user_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s{lock}", (user_id,)).fetchone()


# The admin's queue of teachers awaiting verification (GET /admin/teachers/pending), oldest first:
# the partial index users_pending_teachers_idx (created_at, id).
PENDING_TEACHERS = KeysetList(
    "users", "id, email, name, created_at", "role = 'teacher' AND NOT is_verified", OLDEST_FIRST
)


def mark_verified(conn: Connection, user_id: UUID) -> dict[str, Any]:
    return one(conn.execute(f"UPDATE users SET is_verified = true WHERE id = %s RETURNING {USER_COLUMNS}", (user_id,)))


def upsert_admin(conn: Connection, email: str, password_hash: str) -> bool:
    """Create the admin account unless one with that email exists; True when created."""
    row = conn.execute(
        "INSERT INTO users (email, password_hash, name, role, is_verified, email_verified) "
        "VALUES (%s, %s, 'Administrator', 'admin', true, true) "
        "ON CONFLICT (lower(email)) DO NOTHING RETURNING id",
        (email, password_hash),
    ).fetchone()
    return row is not None


def set_password(conn: Connection, user_id: UUID, password_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))


def mark_email_verified(conn: Connection, user_id: UUID) -> dict[str, Any]:
    return one(
        conn.execute(f"UPDATE users SET email_verified = true WHERE id = %s RETURNING {USER_COLUMNS}", (user_id,))
    )


# ---- refresh tokens ------------------------------------------------------------------------------


def insert_family(conn: Connection, family_id: UUID, user_id: UUID, now: datetime) -> None:
    conn.execute(
        "INSERT INTO refresh_families (id, user_id, created_at) VALUES (%s, %s, %s)", (family_id, user_id, now)
    )


def insert_refresh_token(
    conn: Connection, token_hash: bytes, family_id: UUID, user_id: UUID, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) VALUES (%s, %s, %s, %s, %s)",
        (token_hash, family_id, user_id, now, expires_at),
    )


def spend_refresh_token(
    conn: Connection, token_hash: bytes, now: datetime, started_after: datetime
) -> dict[str, Any] | None:
    """Mark a live token spent and return it with its user; None when it is not live (spent,
    expired, its family revoked or started before ``started_after``: the family's absolute end).

    The condition ``spent_at IS NULL`` is re-checked after a concurrent spender's commit
    (READ COMMITTED re-evaluates an updated row), so of simultaneous refreshes one wins.
    """
    return conn.execute(
        "UPDATE refresh_tokens AS t SET spent_at = %(now)s FROM refresh_families AS f, users AS u "
        "WHERE t.token_hash = %(hash)s AND t.spent_at IS NULL AND t.expires_at > %(now)s "
        "AND f.id = t.family_id AND f.revoked_at IS NULL AND f.created_at > %(started_after)s AND u.id = t.user_id "
        "RETURNING t.family_id, f.created_at AS family_started_at, u.id, u.role::text AS role, u.is_verified, "
        "u.email_verified",
        {"hash": token_hash, "now": now, "started_after": started_after},
    ).fetchone()


def refresh_token_state(conn: Connection, token_hash: bytes) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT t.family_id, t.user_id, t.spent_at, t.expires_at, f.revoked_at FROM refresh_tokens AS t "
        "JOIN refresh_families AS f ON f.id = t.family_id WHERE t.token_hash = %s",
        (token_hash,),
    ).fetchone()


def revoke_family(conn: Connection, family_id: UUID, now: datetime) -> None:
    conn.execute("UPDATE refresh_families SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL", (now, family_id))


def revoke_user_families(conn: Connection, user_id: UUID, now: datetime) -> int:
    return conn.execute(
        "UPDATE refresh_families SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL", (now, user_id)
    ).rowcount


def purge_sessions(conn: Connection, now: datetime, revoked_before: datetime) -> dict[str, int]:
    """Delete expired refresh tokens, then families with no token left or revoked before ``revoked_before``."""
    tokens = conn.execute("DELETE FROM refresh_tokens WHERE expires_at <= %s", (now,)).rowcount
    families = conn.execute(
        "DELETE FROM refresh_families AS f WHERE (f.revoked_at IS NOT NULL AND f.revoked_at <= %s) "
        "OR NOT EXISTS (SELECT 1 FROM refresh_tokens AS t WHERE t.family_id = f.id)",
        (revoked_before,),
    ).rowcount
    return {"refresh_tokens": tokens, "refresh_families": families}


def purge_email_tokens(conn: Connection, now: datetime) -> int:
    """Expired or used email tokens whose email has been sent (an unsent one keeps its outbox row)."""
    return conn.execute(
        "DELETE FROM email_tokens AS e WHERE (e.expires_at <= %s OR e.used_at IS NOT NULL) "
        "AND NOT EXISTS (SELECT 1 FROM mail_outbox AS m WHERE m.token_id = e.id AND m.sent_at IS NULL)",
        (now,),
    ).rowcount


# ---- email tokens and the mail outbox -----------------------------------------------------------


def insert_email_token(
    conn: Connection,
    token_id: UUID,
    token_hash: bytes,
    user_id: UUID,
    purpose: str,
    requested: bool,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        "INSERT INTO email_tokens (id, token_hash, user_id, purpose, requested, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (token_id, token_hash, user_id, purpose, requested, now, expires_at),
    )


def count_email_tokens_since(
    conn: Connection, user_id: UUID, purpose: str, since: datetime, requested_only: bool
) -> int:
    only = " AND requested" if requested_only else ""
    count: int = one(
        conn.execute(
            f"SELECT count(*) AS n FROM email_tokens WHERE user_id = %s AND purpose = %s AND created_at > %s{only}",
            (user_id, purpose, since),
        )
    )["n"]
    return count


def retire_email_tokens(conn: Connection, user_id: UUID, purpose: str, now: datetime) -> None:
    """Earlier links of that purpose stop working."""
    conn.execute(
        "UPDATE email_tokens SET used_at = %s WHERE user_id = %s AND purpose = %s AND used_at IS NULL",
        (now, user_id, purpose),
    )


def use_email_token(conn: Connection, token_hash: bytes, purpose: str, now: datetime) -> UUID | None:
    """Spend a live token of that purpose; its user's id, or None (unknown, used, expired)."""
    row = conn.execute(
        "UPDATE email_tokens SET used_at = %(now)s WHERE token_hash = %(hash)s AND purpose = %(purpose)s "
        "AND used_at IS NULL AND expires_at > %(now)s RETURNING user_id",
        {"hash": token_hash, "purpose": purpose, "now": now},
    ).fetchone()
    return row["user_id"] if row else None


def insert_mail(conn: Connection, mail_id: UUID, token_id: UUID, recipient: str, name: str) -> None:
    conn.execute(
        "INSERT INTO mail_outbox (id, token_id, recipient, name) VALUES (%s, %s, %s, %s)",
        (mail_id, token_id, recipient, name),
    )


def lock_pending_mail(conn: Connection, mail_ids: list[UUID] | None, limit: int) -> list[dict[str, Any]]:
    only_these = " AND m.id = ANY(%(ids)s)" if mail_ids is not None else ""
    return conn.execute(
        "SELECT m.id, m.token_id, m.recipient, m.name, e.purpose::text AS purpose, e.token_hash, e.used_at, e.expires_at "
        "FROM mail_outbox AS m "
        f"JOIN email_tokens AS e ON e.id = m.token_id WHERE m.sent_at IS NULL{only_these} "
        "ORDER BY m.created_at LIMIT %(limit)s FOR UPDATE OF m SKIP LOCKED",
        {"ids": mail_ids, "limit": limit},
    ).fetchall()


def mark_mail_sent(conn: Connection, mail_id: UUID) -> None:
    conn.execute(
        "UPDATE mail_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = %s", (mail_id,)
    )


def mark_mail_dropped(conn: Connection, mail_id: UUID, reason: str) -> None:
    """Never to be sent: its link no longer works (used, replaced or expired while the email waited)."""
    conn.execute(
        "UPDATE mail_outbox SET sent_at = now(), last_error = %s WHERE id = %s", (f"not sent: {reason}", mail_id)
    )


def mark_mail_failed(conn: Connection, mail_id: UUID, error: str) -> None:
    conn.execute(
        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s", (error[:1000], mail_id)
    )


def oldest_email_token_since(
    conn: Connection, user_id: UUID, purpose: str, since: datetime, requested_only: bool
) -> datetime:
    only = " AND requested" if requested_only else ""
    oldest: datetime = one(
        conn.execute(
            f"SELECT min(created_at) AS oldest FROM email_tokens WHERE user_id = %s AND purpose = %s AND created_at > %s{only}",
            (user_id, purpose, since),
        )
    )["oldest"]
    return oldest
