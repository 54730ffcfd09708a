from uuid import UUID

from eduplatform.http import api_responses, create_app, lambda_handler

from course import service
from course.schemas import LessonOut

app = create_app()


@app.get(
    "/lessons/<lesson_id>", summary="One lesson", tags=["course"], responses=api_responses((404, "Lesson not found"))
)
def get_lesson(lesson_id: UUID) -> LessonOut:
    return service.lesson(lesson_id)


handler = lambda_handler(app)
