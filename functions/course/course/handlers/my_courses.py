from aws_lambda_powertools.event_handler import Response

from eduplatform.http import (
    BEARER_AUTH,
    Cursor,
    Limit,
    Offset,
    WithTotal,
    create_app,
    cursor_page_response,
    lambda_handler,
    list_responses,
)

from course import service
from course.access import Teacher
from course.schemas import CourseOut

app = create_app()


@app.get(
    "/courses/my",
    summary="The calling teacher's courses, newest first; pages by offset or by cursor",
    tags=["course"],
    security=BEARER_AUTH,
    responses=list_responses(CourseOut, (403, "Only teachers have courses of their own")),
)
def my_courses(
    teacher: Teacher, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None, with_total: WithTotal = False
) -> Response[str]:
    return cursor_page_response(service.teacher_courses(teacher.user_id, limit, offset, cursor, with_total))


handler = lambda_handler(app)
