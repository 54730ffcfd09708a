from uuid import UUID

from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from payment import service
from payment.schemas import PaymentOut

app = create_app()


@app.get(
    "/payments/<payment_id>",
    summary="One payment (the paying student or an admin)",
    tags=["payment"],
    security=BEARER_AUTH,
    responses=api_responses((404, "Payment not found (also when it is someone else's)")),
)
def get_payment(payment_id: UUID, user: CurrentUser) -> PaymentOut:
    return service.get_payment(user, payment_id)


handler = lambda_handler(app)
