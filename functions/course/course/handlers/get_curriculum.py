from uuid import UUID

from eduplatform.http import api_responses, create_app, lambda_handler

from course import service
from course.schemas import Curriculum

app = create_app()


@app.get(
    "/courses/<course_id>/curriculum",
    summary="A course with its modules and lessons, in order",
    tags=["course"],
    responses=api_responses((404, "Course not found")),
)
def get_curriculum(course_id: UUID) -> Curriculum:
    return service.curriculum(course_id)


handler = lambda_handler(app)
