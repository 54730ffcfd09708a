from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from eduplatform.http import (
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
from course.schemas import ReviewOut

app = create_app()


@app.get(
    "/reviews/course/<course_id>",
    summary="A course's reviews, newest first; pages by offset or by cursor",
    tags=["course"],
    responses=list_responses(ReviewOut),
)
def list_course_reviews(
    course_id: UUID, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None, with_total: WithTotal = False
) -> Response[str]:
    return cursor_page_response(service.course_reviews(course_id, limit, offset, cursor, with_total))


handler = lambda_handler(app)
