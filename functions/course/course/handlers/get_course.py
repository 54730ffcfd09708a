from uuid import UUID

from eduplatform.http import api_responses, create_app, lambda_handler

from course import service
from course.schemas import CourseOut

app = create_app()


@app.get(
    "/courses/<course_id>", summary="One course", tags=["course"], responses=api_responses((404, "Course not found"))
)
def get_course(course_id: UUID) -> CourseOut:
    return service.course(course_id)


handler = lambda_handler(app)
