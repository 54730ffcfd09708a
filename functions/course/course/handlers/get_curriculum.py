from uuid import UUID

from eduplatform.auth import OptionalUser
from eduplatform.http import OPTIONAL_BEARER_AUTH, api_responses, create_app, lambda_handler

from course import service
from course.schemas import Curriculum

app = create_app()


@app.get(
    "/courses/<course_id>/curriculum",
    summary="A course with its modules and lessons, in order; content and video_url of the lessons the caller may open",
    tags=["course"],
    security=OPTIONAL_BEARER_AUTH,
    responses=api_responses((401, "An invalid token"), (404, "Course not found")),
)
def get_curriculum(course_id: UUID, caller: OptionalUser) -> Curriculum:
    return service.curriculum(course_id, caller)


handler = lambda_handler(app)
