from aws_lambda_powertools.event_handler import Response

from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler

from course import service
from course.access import Student
from course.schemas import ReviewCreate, ReviewOut

app = create_app()


@app.post(
    "/reviews",
    summary="Review a course (students enrolled in it, once per course)",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Only students can review courses; Enroll in this course to review it"),
        (404, "Course not found"),
        (409, "You have already reviewed this course"),
        success=201,
        model=ReviewOut,
        description="The new review",
    ),
)
def create_review(body: ReviewCreate, student: Student) -> Response[str]:
    return created(service.create_review(student.user_id, body))


handler = lambda_handler(app)
