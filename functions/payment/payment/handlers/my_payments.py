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

from payment import service
from payment.schemas import PaymentOut

app = create_app()


@app.get(
    "/payments/me",
    summary="The caller's payments, newest first; only those for course_id when given; pages by offset or by cursor",
    tags=["payment"],
    security=BEARER_AUTH,
    responses=list_responses(PaymentOut),
)
def my_payments(
    user: CurrentUser,
    limit: Limit = 20,
    offset: Offset = 0,
    cursor: Cursor = None,
    with_total: WithTotal = False,
    course_id: Annotated[UUID | None, Query(description="Only the caller's payments for this course")] = None,
) -> Response[str]:
    return cursor_page_response(service.my_payments(user.user_id, limit, offset, cursor, with_total, course_id))


handler = lambda_handler(app)
