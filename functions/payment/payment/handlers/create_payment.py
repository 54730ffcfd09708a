from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from eduplatform.auth import role_required
from eduplatform.events import outbox_relay
from eduplatform.facts import COURSE_FACTS, template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler
from eduplatform.principal import Principal, Role
from eduplatform.types import single_line_text

from payment import charges
from payment.schemas import PaymentOut, PaymentRequest

TEMPLATE_PROPERTIES = template_properties(
    COURSE_FACTS,
    outbox_relay("payment"),
    variables={"IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"}},
    policies=[{"DynamoDBCrudPolicy": {"TableName": {"Ref": "IdempotencyTable"}}}],
)

app = create_app()

IdempotencyKey = Annotated[str, *single_line_text(max_length=charges.IDEMPOTENCY_KEY_MAX_LENGTH, strip=False)]
Student = Annotated[Principal, role_required(Role.STUDENT, message="Only students can make payments")]


@app.post(
    "/payments",
    summary="Pay for a paid course (mock processor, idempotent with Idempotency-Key)",
    tags=["payment"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Only students can make payments"),
        (404, "Unknown course"),
        (409, "Course is free, Already paid for this course, or a request with this Idempotency-Key is in progress"),
        (422, "Invalid request, or the amount differs from the price"),
        success=201,
        model=PaymentOut,
        description="Payment completed",
    ),
)
def create_payment(
    body: PaymentRequest,
    student: Student,
    idempotency_key: Annotated[
        IdempotencyKey | None, Header(alias="Idempotency-Key", max_length=charges.IDEMPOTENCY_KEY_MAX_LENGTH)
    ] = None,
) -> Response[str]:
    return created(charges.create_payment(student.user_id, body, idempotency_key, app.lambda_context))


handler = lambda_handler(app)
