from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from eduplatform.events import outbox_relay
from eduplatform.facts import template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler, no_content

from course import service
from course.access import CourseEditor

# Its commits record the course's fact events.
TEMPLATE_PROPERTIES = template_properties(outbox_relay("course"))

app = create_app()


@app.delete(
    "/lessons/<lesson_id>",
    summary="Delete a lesson (its course's teacher)",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Not a verified teacher, or not the course's teacher"),
        (404, "Lesson not found"),
        success=204,
        description="Deleted",
    ),
)
def delete_lesson(lesson_id: UUID, teacher: CourseEditor) -> Response[str]:
    service.delete_lesson(teacher, lesson_id)
    return no_content()


handler = lambda_handler(app)
