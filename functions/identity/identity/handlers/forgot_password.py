from aws_lambda_powertools.event_handler import Response

from eduplatform.facts import template_properties
from eduplatform.http import accepted, api_responses, create_app, lambda_handler

from identity import service
from identity.mailer import MAIL_RELAY_FUNCTION
from identity.schemas import Accepted, ForgotPasswordRequest

# The request pokes the mail relay (an asynchronous invoke) rather than calling SES itself.
TEMPLATE_PROPERTIES = template_properties(MAIL_RELAY_FUNCTION)

app = create_app()


@app.post(
    "/forgot-password",
    summary="Email a password reset link, if an account uses this email",
    tags=["identity"],
    responses=api_responses(
        success=202, model=Accepted, description="Always, in about the same time, whether or not the account exists"
    ),
)
def forgot_password(body: ForgotPasswordRequest) -> Response[str]:
    return accepted(service.forgot_password(body))


handler = lambda_handler(app, no_store=True)
