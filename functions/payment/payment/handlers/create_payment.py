from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header

from eduplatform.facts import COURSE_FACTS, template_properties
from eduplatform.http import BEARER_AUTH, create_app, created, lambda_handler, role_required
from eduplatform.security import Role

from payment import service
from payment.schemas import PaymentOut, PaymentRequest

TEMPLATE_PROPERTIES = template_properties(
    COURSE_FACTS,
    publishes_events=True,
    variables={"IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"}},
    policies=[{"DynamoDBCrudPolicy": {"TableName": {"Ref": "IdempotencyTable"}}}],
)

app = create_app()

Student = role_required(Role.STUDENT, message="Only students can make payments")


@app.post("/payments", summary="Pay for a paid course (mock processor, idempotent with Idempotency-Key)",
          tags=["payment"], security=BEARER_AUTH,
          responses={201: {"description": "Payment completed"}, 404: {"description": "Unknown course"},
                     409: {"description": "Course is free"}, 422: {"description": "Amount differs from the price"}})
def create_payment(body: PaymentRequest, student: Student,
                   idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None):
    return created(service.create_payment(student.user_id, body, idempotency_key, app.lambda_context))


handler = lambda_handler(app)
