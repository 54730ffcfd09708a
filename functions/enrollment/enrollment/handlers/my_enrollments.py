from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from eduplatform.auth import CurrentUser
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

from enrollment import service
from enrollment.schemas import MyEnrollment

app = create_app()


@app.get(
    "/enrollments/me",
    summary="The caller's enrollments, newest first, each with its course (id, title, level, is_free) and the caller's "
    "progress in it (as GET /progress/courses/{course_id}); only the one in course_id when given; pages by offset or by cursor",
    tags=["enrollment"],
    security=BEARER_AUTH,
    responses=list_responses(MyEnrollment),
)
def my_enrollments(
    user: CurrentUser,
    limit: Limit = 20,
    offset: Offset = 0,
    cursor: Cursor = None,
    with_total: WithTotal = False,
    course_id: Annotated[
        UUID | None, Query(description="Only the caller's enrollment in this course (0 or 1 item)")
    ] = None,
) -> Response[str]:
    return cursor_page_response(service.my_enrollments(user.user_id, limit, offset, cursor, with_total, course_id))


handler = lambda_handler(app)
