"""SQL of the payment domain."""

from typing import Any
from uuid import UUID

from eduplatform.cursors import KeysetList
from eduplatform.db import Connection

PAYMENT_COLUMNS = "id, student_id, course_id, amount, status::text AS status, created_at"


# A new payment (the caller chooses its id); no row when the student already has a completed
# payment for the course (payments_one_completed_per_course, migration 005).
INSERT_PAYMENT = (
    "INSERT INTO payments (id, student_id, course_id, amount, status) "
    "VALUES (%(id)s, %(student_id)s, %(course_id)s, %(amount)s, %(status)s) "
    "ON CONFLICT (student_id, course_id) WHERE status = 'completed' DO NOTHING "
    f"RETURNING {PAYMENT_COLUMNS}"
)


def payment_by_id(conn: Connection, payment_id: UUID) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = %s", (payment_id,)).fetchone()


# A student's payments (GET /payments/me), newest first: payments_student_newest_idx (migration 004).
STUDENT_PAYMENTS = KeysetList("payments", PAYMENT_COLUMNS, "student_id = %(student_id)s")
# A student's payments for one course (GET /payments/me?course_id=), newest first:
# payments_student_course_newest_idx (migration 007).
STUDENT_PAYMENTS_FOR_COURSE = KeysetList(
    "payments", PAYMENT_COLUMNS, "student_id = %(student_id)s AND course_id = %(course_id)s"
)


def completed_payments_page(conn: Connection, after: UUID | None, limit: int) -> list[dict[str, Any]]:
    after_condition = "AND id > %(after)s " if after else ""
    return conn.execute(
        f"SELECT id, student_id, course_id, amount FROM payments WHERE status = 'completed' {after_condition}"
        "ORDER BY id LIMIT %(limit)s",
        {"after": after, "limit": limit},
    ).fetchall()
