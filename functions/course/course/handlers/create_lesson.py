from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from eduplatform.events import outbox_relay
from eduplatform.facts import template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler

from course import service
from course.access import CourseEditor
from course.schemas import LessonCreate, LessonOut

# Its commits record the course's fact events.
TEMPLATE_PROPERTIES = template_properties(outbox_relay("course"))

app = create_app()


@app.post(
    "/modules/<module_id>/lessons",
    summary="Add a lesson to a module (its course's teacher)",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Not a verified teacher, or not the course's teacher"),
        (404, "Module not found"),
        success=201,
        model=LessonOut,
        description="The new lesson",
    ),
)
def create_lesson(module_id: UUID, body: LessonCreate, teacher: CourseEditor) -> Response[str]:
    return created(service.create_lesson(teacher, module_id, body))


handler = lambda_handler(app)
