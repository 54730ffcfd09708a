from eduplatform.http import BEARER_AUTH, CurrentUser, Limit, Offset, Page, create_app, lambda_handler

from payment import service
from payment.schemas import PaymentOut

app = create_app()


@app.get("/payments/me", summary="The caller's payments, newest first", tags=["payment"], security=BEARER_AUTH)
def my_payments(user: CurrentUser, limit: Limit = 20, offset: Offset = 0) -> Page[PaymentOut]:
    items, total = service.my_payments(user.user_id, limit, offset)
    return Page[PaymentOut](items=items, total=total)


handler = lambda_handler(app)
