from uuid import UUID

from eduplatform.http import BEARER_AUTH, create_app, lambda_handler, no_content

from course import service
from course.access import CourseEditor

app = create_app()


@app.delete("/lessons/<lesson_id>", summary="Delete a lesson (its course's teacher)", tags=["course"],
            security=BEARER_AUTH, responses={204: {"description": "Deleted"}})
def delete_lesson(lesson_id: UUID, teacher: CourseEditor):
    service.delete_lesson(teacher, lesson_id)
    return no_content()


handler = lambda_handler(app)
