from uuid import UUID

from eduplatform.http import create_app, lambda_handler

from enrollment import service
from enrollment.schemas import EnrollmentCount

app = create_app()


@app.get(
    "/enrollments/course/<course_id>/count", summary="How many students are enrolled in a course", tags=["enrollment"]
)
def enrollment_count(course_id: UUID) -> EnrollmentCount:
    return service.enrollment_count(course_id)


handler = lambda_handler(app)
