"""SQL of the notification domain."""

from typing import Any
from uuid import UUID

from eduplatform.cursors import KeysetList
from eduplatform.db import Connection, Database

NOTIFICATION_COLUMNS = "id, user_id, type::text AS type, title, body, is_read, created_at"


def insert_notification(
    conn: Connection, user_id: UUID, type_: str, title: str, body: str | None, source_event_id: UUID | None = None
) -> dict[str, Any] | None:
    """The new notification, or None when one was already made from ``source_event_id``."""
    return conn.execute(
        "INSERT INTO notifications (user_id, type, title, body, source_event_id) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT (source_event_id) DO NOTHING RETURNING {NOTIFICATION_COLUMNS}",
        (user_id, type_, title, body, source_event_id),
    ).fetchone()


# A user's notifications (GET /notifications/me), newest first: notifications_user_newest_idx (migration 002).
USER_NOTIFICATIONS = KeysetList("notifications", NOTIFICATION_COLUMNS, "user_id = %(user_id)s")


def mark_read(conn: Connection, notification_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"UPDATE notifications SET is_read = true WHERE id = %s AND user_id = %s RETURNING {NOTIFICATION_COLUMNS}",
        (notification_id, user_id),
    ).fetchone()


def unread_count(db: Database, user_id: UUID) -> int:
    """The user's unread notifications: notifications_user_unread_idx (migration 003)."""
    count: int = db.statement("SELECT count(*) AS n FROM notifications WHERE user_id = %s AND NOT is_read", (user_id,))[
        0
    ]["n"]
    return count
