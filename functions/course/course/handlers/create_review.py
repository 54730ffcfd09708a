from eduplatform.http import BEARER_AUTH, create_app, created, lambda_handler

from course import service
from course.access import Student
from course.schemas import ReviewCreate, ReviewOut

app = create_app()


@app.post("/reviews", summary="Review a course (students, once per course)", tags=["course"], security=BEARER_AUTH,
          responses={201: {"description": "The new review", "content": {"application/json": {"model": ReviewOut}}},
                     409: {"description": "You have already reviewed this course"}})
def create_review(body: ReviewCreate, student: Student):
    return created(service.create_review(student.user_id, body))


handler = lambda_handler(app)
