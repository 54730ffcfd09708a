from uuid import UUID

from eduplatform.auth import OptionalUser
from eduplatform.http import OPTIONAL_BEARER_AUTH, api_responses, create_app, lambda_handler

from course import service
from course.schemas import LessonOut

app = create_app()


@app.get(
    "/lessons/<lesson_id>",
    summary="One lesson: public in a free course or marked is_preview; else its course's students, teacher, admins",
    tags=["course"],
    security=OPTIONAL_BEARER_AUTH,
    responses=api_responses(
        (401, "A lesson of a paid course, asked without a token"),
        (403, "Enroll in this course to open its lessons"),
        (404, "Lesson not found"),
    ),
)
def get_lesson(lesson_id: UUID, caller: OptionalUser) -> LessonOut:
    return service.lesson(lesson_id, caller)


handler = lambda_handler(app)
