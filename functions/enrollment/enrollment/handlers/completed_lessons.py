from uuid import UUID

from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, create_app, lambda_handler

from enrollment import service
from enrollment.schemas import CompletedLessons

app = create_app()


@app.get(
    "/progress/courses/<course_id>/lessons",
    summary="Which lessons of a course the caller has completed",
    tags=["enrollment"],
    security=BEARER_AUTH,
)
def completed_lessons(course_id: UUID, user: CurrentUser) -> CompletedLessons:
    return service.completed_lessons(user.user_id, course_id)


handler = lambda_handler(app)
