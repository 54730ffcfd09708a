from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from eduplatform.http import (
    Cursor, CursorPage, Limit, Offset, WithTotal, api_responses, create_app, cursor_page_response, lambda_handler,
)

from course import service
from course.schemas import ReviewOut

app = create_app()


@app.get("/reviews/course/<course_id>", summary="A course's reviews, newest first; pages by offset or by cursor",
         tags=["course"],
         responses=api_responses(model=CursorPage[ReviewOut],
                                 description="A page; total is left out of cursor pages unless with_total=true"))
def list_course_reviews(course_id: UUID, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None,
                        with_total: WithTotal = False) -> Response[str]:
    return cursor_page_response(service.course_reviews(course_id, limit, offset, cursor, with_total))


handler = lambda_handler(app)
