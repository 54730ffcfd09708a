"""SQL of the enrollment domain: enrollments and lesson progress."""

from typing import Any
from uuid import UUID

from eduplatform.cursors import KeysetList, KeysetOrder
from eduplatform.db import Connection, Database, one

ENROLLMENT_COLUMNS = "id, student_id, course_id, payment_id, status::text AS status, enrolled_at"


# A new enrollment (the caller chooses its id); no row when the student is already enrolled in the course.
INSERT_ENROLLMENT = (
    "INSERT INTO enrollments (id, student_id, course_id, payment_id) "
    "VALUES (%(id)s, %(student_id)s, %(course_id)s, %(payment_id)s) "
    f"ON CONFLICT ON CONSTRAINT enrollments_student_course_key DO NOTHING RETURNING {ENROLLMENT_COLUMNS}"
)


def enrollment_of(
    conn: Connection, student_id: UUID, course_id: UUID, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(
        f"SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE student_id = %s AND course_id = %s{lock}",
        (student_id, course_id),
    ).fetchone()


def is_enrolled(db: Database, student_id: UUID, course_id: UUID) -> bool:
    return bool(
        db.statement("SELECT 1 FROM enrollments WHERE student_id = %s AND course_id = %s", (student_id, course_id))
    )


# A student's enrollments (GET /enrollments/me), newest first: enrollments_student_newest_idx (migration 004).
STUDENT_ENROLLMENTS = KeysetList(
    "enrollments", ENROLLMENT_COLUMNS, "student_id = %(student_id)s", KeysetOrder("enrolled_at", descending=True)
)


def count_for_course(conn: Connection, course_id: UUID) -> int:
    count: int = one(conn.execute("SELECT count(*) AS n FROM enrollments WHERE course_id = %s", (course_id,)))["n"]
    return count


def insert_completion(conn: Connection, enrollment: dict[str, Any], lesson_id: UUID) -> dict[str, Any] | None:
    """The new completion, or None when the lesson was already completed."""
    return conn.execute(
        "INSERT INTO lesson_progress (enrollment_id, student_id, course_id, lesson_id) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT ON CONSTRAINT lesson_progress_enrollment_lesson_key DO NOTHING "
        "RETURNING id, lesson_id, course_id, completed_at",
        (enrollment["id"], enrollment["student_id"], enrollment["course_id"], lesson_id),
    ).fetchone()


COMPLETED_COUNT = "SELECT count(*) AS n FROM lesson_progress WHERE student_id = %s AND course_id = %s"


def completed_count(conn: Connection, student_id: UUID, course_id: UUID) -> int:
    count: int = one(conn.execute(COMPLETED_COUNT, (student_id, course_id)))["n"]
    return count


def completed_count_read(db: Database, student_id: UUID, course_id: UUID) -> int:
    count: int = db.statement(COMPLETED_COUNT, (student_id, course_id))[0]["n"]
    return count


def completed_lesson_ids(conn: Connection, student_id: UUID, course_id: UUID) -> list[UUID]:
    rows = conn.execute(
        "SELECT lesson_id FROM lesson_progress WHERE student_id = %s AND course_id = %s ORDER BY completed_at, lesson_id",
        (student_id, course_id),
    ).fetchall()
    return [row["lesson_id"] for row in rows]


def set_status(conn: Connection, enrollment_id: UUID, status: str) -> None:
    conn.execute("UPDATE enrollments SET status = %s WHERE id = %s", (status, enrollment_id))
