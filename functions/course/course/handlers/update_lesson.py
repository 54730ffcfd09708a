from uuid import UUID

from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from course import service
from course.access import CourseEditor
from course.schemas import LessonOut, LessonUpdate

app = create_app()


@app.put(
    "/lessons/<lesson_id>",
    summary="Edit a lesson (its course's teacher); omitted fields stay as they are",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses((403, "Not a verified teacher, or not the course's teacher"), (404, "Lesson not found")),
)
def update_lesson(lesson_id: UUID, body: LessonUpdate, teacher: CourseEditor) -> LessonOut:
    return service.update_lesson(teacher, lesson_id, body)


handler = lambda_handler(app)
