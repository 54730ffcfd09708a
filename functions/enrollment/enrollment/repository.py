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


def is_enrolled(db: Database, student_id: UUID, course_id: UUID) -> bool:
    return bool(
        db.statement("SELECT 1 FROM enrollments WHERE student_id = %s AND course_id = %s", (student_id, course_id))
    )


# A student's enrollments (GET /enrollments/me), newest first: enrollments_student_newest_idx (migration 004);
# each with its course's facts from the read model (course_facts' primary key) and the student's completed
# lessons of the course (COMPLETED_COUNT, lesson_progress_student_course_idx), in the same statement.
STUDENT_ENROLLMENT_COLUMNS = (
    f"{ENROLLMENT_COLUMNS}, (SELECT json_build_object('id', f.course_id, 'title', f.title, 'level', f.level, "
    "'is_free', f.is_free) FROM course_facts f WHERE f.course_id = enrollments.course_id AND f.title IS NOT NULL) "
    "AS course, "
    "(SELECT f.total_lessons FROM course_facts f WHERE f.course_id = enrollments.course_id) AS total_lessons, "
    "(SELECT count(*) FROM lesson_progress p WHERE p.student_id = enrollments.student_id "
    "AND p.course_id = enrollments.course_id) AS completed_lessons"
)
STUDENT_ENROLLMENTS = KeysetList(
    "enrollments",
    STUDENT_ENROLLMENT_COLUMNS,
    "student_id = %(student_id)s",
    KeysetOrder("enrolled_at", descending=True),
)
# The student's enrollment in one course (GET /enrollments/me?course_id=): enrollments_student_course_key.
STUDENT_ENROLLMENT_IN_COURSE = KeysetList(
    "enrollments",
    STUDENT_ENROLLMENT_COLUMNS,
    "student_id = %(student_id)s AND course_id = %(course_id)s",
    KeysetOrder("enrolled_at", descending=True),
)


def count_for_course(conn: Connection, course_id: UUID) -> int:
    count: int = one(conn.execute("SELECT count(*) AS n FROM enrollments WHERE course_id = %s", (course_id,)))["n"]
    return count


def complete_lesson(conn: Connection, student_id: UUID, course_id: UUID, lesson_id: UUID) -> dict[str, Any] | None:
    """Lock the student's enrollment in the course and record the lesson completed, in one statement.

    None when the student is not enrolled; else the enrollment's ``enrollment_id`` and the new
    completion's columns, which are None when the lesson was already completed. The lock is held
    until the transaction ends, so two completions of one enrollment take turns.
    """
    return conn.execute(
        "WITH enrollment AS (SELECT id, student_id, course_id FROM enrollments "
        "WHERE student_id = %(student_id)s AND course_id = %(course_id)s FOR UPDATE), "
        "completion AS (INSERT INTO lesson_progress (enrollment_id, student_id, course_id, lesson_id) "
        "SELECT id, student_id, course_id, %(lesson_id)s FROM enrollment "
        "ON CONFLICT ON CONSTRAINT lesson_progress_enrollment_lesson_key DO NOTHING "
        "RETURNING id, lesson_id, course_id, completed_at) "
        "SELECT enrollment.id AS enrollment_id, completion.* FROM enrollment LEFT JOIN completion ON true",
        {"student_id": student_id, "course_id": course_id, "lesson_id": lesson_id},
    ).fetchone()


def update_status(conn: Connection, enrollment_id: UUID, total_lessons: int) -> None:
    """Set the enrollment's status from its completions counted now (the caller holds its row lock):
    completed once they reach ``total_lessons``, in progress before; written only when it changes."""
    conn.execute(
        "WITH progress AS (SELECT CASE WHEN count(*) >= %(total)s THEN 'completed' ELSE 'in_progress' END"
        "::enrollment_status AS status FROM lesson_progress WHERE enrollment_id = %(id)s) "
        "UPDATE enrollments SET status = progress.status FROM progress "
        "WHERE enrollments.id = %(id)s AND enrollments.status <> progress.status",
        {"id": enrollment_id, "total": total_lessons},
    )


COMPLETED_COUNT = "SELECT count(*) AS n FROM lesson_progress WHERE student_id = %s AND course_id = %s"


def completed_count_read(db: Database, student_id: UUID, course_id: UUID) -> int:
    count: int = db.statement(COMPLETED_COUNT, (student_id, course_id))[0]["n"]
    return count


def completed_lesson_ids(conn: Connection, student_id: UUID, course_id: UUID) -> list[UUID]:
    rows = conn.execute(
        "SELECT lesson_id FROM lesson_progress WHERE student_id = %s AND course_id = %s ORDER BY completed_at, lesson_id",
        (student_id, course_id),
    ).fetchall()
    return [row["lesson_id"] for row in rows]
