from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler

from course import service
from course.access import CourseEditor
from course.schemas import ModuleCreate, ModuleOut

app = create_app()


@app.post(
    "/courses/<course_id>/modules",
    summary="Add a module to a course (its teacher)",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Not a verified teacher, or not the course's teacher"),
        (404, "Course not found"),
        success=201,
        model=ModuleOut,
        description="The new module",
    ),
)
def create_module(course_id: UUID, body: ModuleCreate, teacher: CourseEditor) -> Response[str]:
    return created(service.create_module(teacher, course_id, body))


handler = lambda_handler(app)
