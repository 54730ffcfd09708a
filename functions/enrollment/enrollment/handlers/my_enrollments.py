from aws_lambda_powertools.event_handler import Response

from eduplatform.http import (
    BEARER_AUTH,
    CurrentUser,
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
    summary="The caller's enrollments, newest first, each with its course (id, title, level, is_free); pages by offset or by cursor",
    tags=["enrollment"],
    security=BEARER_AUTH,
    responses=list_responses(MyEnrollment),
)
def my_enrollments(
    user: CurrentUser, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None, with_total: WithTotal = False
) -> Response[str]:
    return cursor_page_response(service.my_enrollments(user.user_id, limit, offset, cursor, with_total))


handler = lambda_handler(app)
