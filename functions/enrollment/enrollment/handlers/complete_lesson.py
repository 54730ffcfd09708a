from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import role_required
from eduplatform.facts import COURSE_FACTS, template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler
from eduplatform.principal import Principal, Role

from enrollment import service
from enrollment.schemas import CompleteLessonRequest, LessonCompletionOut

TEMPLATE_PROPERTIES = template_properties(COURSE_FACTS)

app = create_app()

Student = Annotated[Principal, role_required(Role.STUDENT, message="Only students can complete lessons")]


@app.post(
    "/progress/lessons/<lesson_id>/complete",
    summary="Mark a lesson of an enrolled course as completed",
    tags=["enrollment"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Not a student, or not enrolled in the course"),
        (404, "Lesson not in that course"),
        (409, "Already completed"),
        success=201,
        model=LessonCompletionOut,
        description="Lesson completed",
    ),
)
def complete_lesson(lesson_id: UUID, body: CompleteLessonRequest, student: Student) -> Response[str]:
    return created(service.complete_lesson(student.user_id, lesson_id, body.course_id))


handler = lambda_handler(app)
