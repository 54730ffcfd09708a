"""Request and response models of the enrollment and progress API."""

from typing import Literal
from uuid import UUID

from eduplatform.types import ApiModel, Timestamp

EnrollmentStatus = Literal["enrolled", "in_progress", "completed"]


class EnrollmentRequest(ApiModel):
    course_id: UUID
    payment_id: UUID | None = None


class EnrollmentOut(ApiModel):
    id: UUID
    student_id: UUID
    course_id: UUID
    payment_id: UUID | None
    status: EnrollmentStatus
    enrolled_at: Timestamp


class EnrolledCourse(ApiModel):
    """What a "my learning" page shows of the course (enrollment's read model of course facts)."""

    id: UUID
    title: str
    level: str
    is_free: bool


class Progress(ApiModel):
    """The caller's progress in a course, as GET /progress/courses/{course_id} gives it."""

    completed_lessons: int
    total_lessons: int
    percentage: float


class MyEnrollment(EnrollmentOut):
    course: EnrolledCourse
    progress: Progress


class EnrollmentCount(ApiModel):
    course_id: UUID
    count: int


class CompleteLessonRequest(ApiModel):
    course_id: UUID


class LessonCompletionOut(ApiModel):
    id: UUID
    lesson_id: UUID
    course_id: UUID
    completed_at: Timestamp


class CourseProgress(ApiModel):
    course_id: UUID
    completed_lessons: int
    total_lessons: int
    percentage: float


class CompletedLessons(ApiModel):
    course_id: UUID
    completed_lesson_ids: list[UUID]
