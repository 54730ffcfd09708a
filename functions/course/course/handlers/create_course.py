from aws_lambda_powertools.event_handler import Response

from eduplatform.events import outbox_relay
from eduplatform.facts import template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler

from course import service
from course.access import CourseCreator
from course.schemas import CourseCreate, CourseOut

# Its commits record the course's fact events.
TEMPLATE_PROPERTIES = template_properties(outbox_relay("course"))

app = create_app()


@app.post(
    "/courses",
    summary="Publish a course (verified teachers)",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Not a verified teacher"), success=201, model=CourseOut, description="The new course"
    ),
)
def create_course(body: CourseCreate, teacher: CourseCreator) -> Response[str]:
    return created(service.create_course(teacher, body))


handler = lambda_handler(app)
