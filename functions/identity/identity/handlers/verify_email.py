from eduplatform.http import api_responses, create_app, lambda_handler

from identity import service
from identity.schemas import EmailTokenRequest, EmailVerified

app = create_app()


@app.post(
    "/verify-email",
    summary="Confirm an email address with the token of its verification link",
    tags=["identity"],
    responses=api_responses((400, "Invalid, used or expired token")),
)
def verify_email(body: EmailTokenRequest) -> EmailVerified:
    return service.verify_email(body.token)


handler = lambda_handler(app, no_store=True)
