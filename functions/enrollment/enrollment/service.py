"""Enrollment and progress rules.

What the course and payment domains know (does the course exist, is it free, its lessons,
whose completed payment this is) comes from this domain's read models, kept from their
events (eduplatform.read_models); only something the read models have not seen yet is
asked of the owning domain, once.

Price changes: an enrollment needs a completed payment of the caller for the course, whatever
the course costs now; the amount was checked against the price when the payment was made.
"""

import uuid
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, NotFoundError

from eduplatform import events, read_models
from eduplatform.db import database
from eduplatform.http import Conflict, CursorPage, PaymentRequired, keyset_list

from enrollment import repository
from enrollment.schemas import (
    CompletedLessons,
    CourseProgress,
    EnrolledCourse,
    EnrollmentCount,
    EnrollmentOut,
    LessonCompletionOut,
    MyEnrollment,
    Progress,
)

EVENT_SOURCE = events.domain_source("enrollment")
NOT_ENROLLED = "You are not enrolled in this course"


def enroll(student_id: UUID, course_id: UUID, payment_id: UUID | None) -> EnrollmentOut:
    course = read_models.known_course(course_id, keep_lessons=True)
    if course is None:
        raise NotFoundError("Course not found")
    if course.is_free:
        # Nothing was paid, so nothing is recorded even if the client sent a payment id.
        payment_id = None
    else:
        _require_completed_payment(student_id, course_id, payment_id)
    enrollment_id = uuid.uuid4()
    row = events.write_recording(
        database(),
        repository.INSERT_ENROLLMENT,
        {"id": enrollment_id, "student_id": student_id, "course_id": course_id, "payment_id": payment_id},
        EVENT_SOURCE,
        events.ENROLLMENT_CREATED,
        {
            "user_id": str(student_id),
            "enrollment_id": str(enrollment_id),
            "course_id": str(course_id),
            "payment_id": str(payment_id) if payment_id else None,
        },
    )
    if row is None:
        raise Conflict("Already enrolled in this course")
    return EnrollmentOut(**row)


def _require_completed_payment(student_id: UUID, course_id: UUID, payment_id: UUID | None) -> None:
    if payment_id is None:
        raise PaymentRequired("This course is paid: pay for it first and enroll with the payment_id")
    payment = read_models.known_completed_payment(payment_id)
    if payment is None or payment.student_id != student_id or payment.course_id != course_id:
        raise PaymentRequired("No completed payment of yours for this course has that payment_id")


def my_enrollments(
    student_id: UUID,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    with_total: bool = False,
    course_id: UUID | None = None,
) -> CursorPage[MyEnrollment]:
    """The caller's enrollments (only the one in ``course_id`` when given), newest first, by offset or
    cursor (bound to the caller's list and its filter), each with its course's facts from the read
    model and the caller's progress in it: one statement for the page; a course the read model has
    not seen yet (or kept without its title) is asked of the course domain once."""
    listing, params = repository.STUDENT_ENROLLMENTS, {"student_id": student_id}
    if course_id is not None:
        listing, params = repository.STUDENT_ENROLLMENT_IN_COURSE, {**params, "course_id": course_id}
    page = keyset_list(_ListedEnrollment, "GET /enrollments/me", listing, params, limit, offset, cursor, with_total)
    missing = {item.course_id for item in page.items if item.course is None or item.total_lessons is None}
    found = {course_id: _course_summary(course_id) for course_id in missing}
    items = [_my_enrollment(item, found.get(item.course_id)) for item in page.items]
    return CursorPage[MyEnrollment](items=items, total=page.total, next_cursor=page.next_cursor)


class _ListedEnrollment(EnrollmentOut):
    course: EnrolledCourse | None
    total_lessons: int | None
    completed_lessons: int


def _my_enrollment(item: _ListedEnrollment, found: tuple[EnrolledCourse, int] | None) -> MyEnrollment:
    course, total = found if found is not None else (item.course, item.total_lessons)
    assert course is not None and total is not None
    return MyEnrollment(
        **item.model_dump(exclude={"course", "total_lessons", "completed_lessons"}),
        course=course,
        progress=_progress(item.completed_lessons, total),
    )


def _course_summary(course_id: UUID) -> tuple[EnrolledCourse, int]:
    course, _ = read_models.refreshed_course(course_id, keep_lessons=True)
    if course is None or course.title is None or course.level is None:
        raise LookupError(f"the course domain does not know course {course_id} of an enrollment")
    summary = EnrolledCourse(id=course.course_id, title=course.title, level=course.level, is_free=course.is_free)
    return summary, course.total_lessons


def _progress(done: int, total: int) -> Progress:
    # Lessons deleted after being completed can leave done > total; progress stops at 100 %.
    percentage = round(min(done / total, 1.0) * 100, 1) if total else 0.0
    return Progress(completed_lessons=done, total_lessons=total, percentage=percentage)


def enrollment_count(course_id: UUID) -> EnrollmentCount:
    with database().transaction() as conn:
        return EnrollmentCount(course_id=course_id, count=repository.count_for_course(conn, course_id))


def complete_lesson(student_id: UUID, lesson_id: UUID, course_id: UUID) -> LessonCompletionOut:
    if not repository.is_enrolled(database(), student_id, course_id):
        raise ForbiddenError(NOT_ENROLLED)
    course, in_course = read_models.stored_course(course_id, lesson_id)
    if not in_course:
        # A lesson the read model does not place in this course may be one added a moment ago.
        course, in_course = read_models.refreshed_course(course_id, keep_lessons=True, lesson_id=lesson_id)
    if course is None or not in_course:
        raise NotFoundError("Lesson not found in this course")
    with database().transaction() as conn:
        # The row lock serialises completions of one enrollment, so two lessons finished at
        # the same moment cannot both miss the "every lesson done" transition.
        completed = repository.complete_lesson(conn, student_id, course_id, lesson_id)
        if completed is None:
            raise ForbiddenError(NOT_ENROLLED)
        if completed["id"] is None:
            raise Conflict("Lesson already completed")
        repository.update_status(conn, completed["enrollment_id"], course.total_lessons)
    return LessonCompletionOut(**completed)


def course_progress(student_id: UUID, course_id: UUID) -> CourseProgress:
    course = read_models.known_course(course_id, keep_lessons=True)
    if course is None:
        raise NotFoundError("Course not found")
    done = repository.completed_count_read(database(), student_id, course_id)
    return CourseProgress(course_id=course_id, **_progress(done, course.total_lessons).model_dump())


def completed_lessons(student_id: UUID, course_id: UUID) -> CompletedLessons:
    with database().transaction() as conn:
        ids = repository.completed_lesson_ids(conn, student_id, course_id)
    return CompletedLessons(course_id=course_id, completed_lesson_ids=ids)
