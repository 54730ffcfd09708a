from uuid import UUID

from eduplatform.events import outbox_relay
from eduplatform.facts import template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from course import service
from course.access import CourseEditor
from course.schemas import CourseOut, CourseUpdate

# Its commits record the course's fact events.
TEMPLATE_PROPERTIES = template_properties(outbox_relay("course"))

app = create_app()


@app.put(
    "/courses/<course_id>",
    summary="Edit a course (its teacher); omitted fields stay as they are",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses((403, "Not a verified teacher, or not the course's teacher"), (404, "Course not found")),
)
def update_course(course_id: UUID, body: CourseUpdate, teacher: CourseEditor) -> CourseOut:
    return service.update_course(teacher, course_id, body)


handler = lambda_handler(app)
