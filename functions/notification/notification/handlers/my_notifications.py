from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import CurrentUser
from eduplatform.http import (
    BEARER_AUTH,
    Cursor,
    Limit,
    Offset,
    WithTotal,
    api_responses,
    create_app,
    cursor_page_response,
    lambda_handler,
)

from notification import service
from notification.schemas import NotificationPage

app = create_app()


@app.get(
    "/notifications/me",
    summary="The caller's notifications, newest first, and their unread count; pages by offset or by cursor",
    tags=["notification"],
    security=BEARER_AUTH,
    responses=api_responses(
        model=NotificationPage,
        description="A page and the unread count; total is left out of cursor pages unless with_total=true",
    ),
)
def my_notifications(
    user: CurrentUser, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None, with_total: WithTotal = False
) -> Response[str]:
    return cursor_page_response(service.my_notifications(user.user_id, limit, offset, cursor, with_total))


handler = lambda_handler(app)
