from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import AdminUser
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

from identity import service
from identity.schemas import PendingTeacher

app = create_app()


@app.get(
    "/admin/teachers/pending",
    summary="Teachers awaiting verification, oldest first; pages by offset or by cursor",
    tags=["identity"],
    security=BEARER_AUTH,
    responses=list_responses(PendingTeacher, (403, "Admin access required")),
)
def pending_teachers(
    _admin: AdminUser, limit: Limit = 50, offset: Offset = 0, cursor: Cursor = None, with_total: WithTotal = False
) -> Response[str]:
    return cursor_page_response(service.pending_teachers(limit, offset, cursor, with_total))


handler = lambda_handler(app)
