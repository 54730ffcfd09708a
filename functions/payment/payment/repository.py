"""SQL of the payment domain."""

from decimal import Decimal
from typing import Any
from uuid import UUID

from eduplatform.cursors import KeysetList
from eduplatform.db import Connection, one

PAYMENT_COLUMNS = "id, student_id, course_id, amount, status::text AS status, created_at"


def insert_payment(conn: Connection, student_id: UUID, course_id: UUID, amount: Decimal, status: str) -> dict[str, Any]:
    return one(
        conn.execute(
            f"INSERT INTO payments (student_id, course_id, amount, status) VALUES (%s, %s, %s, %s) RETURNING {PAYMENT_COLUMNS}",
            (student_id, course_id, amount, status),
        )
    )


def payment_by_id(conn: Connection, payment_id: UUID) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = %s", (payment_id,)).fetchone()


# A student's payments (GET /payments/me), newest first: payments_student_newest_idx (migration 004).
STUDENT_PAYMENTS = KeysetList("payments", PAYMENT_COLUMNS, "student_id = %(student_id)s")


def completed_payments_page(conn: Connection, after: UUID | None, limit: int) -> list[dict[str, Any]]:
    after_condition = "AND id > %(after)s " if after else ""
    return conn.execute(
        f"SELECT id, student_id, course_id, amount FROM payments WHERE status = 'completed' {after_condition}"
        "ORDER BY id LIMIT %(limit)s",
        {"after": after, "limit": limit},
    ).fetchall()
