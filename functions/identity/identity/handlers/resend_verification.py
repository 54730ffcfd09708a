from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, accepted, api_responses, create_app, lambda_handler

from identity import service
from identity.capacity import SEND_EMAIL_POLICY
from identity.schemas import Accepted

TEMPLATE_PROPERTIES = {"Policies": [SEND_EMAIL_POLICY]}

app = create_app()


@app.post(
    "/resend-verification",
    summary="Send a new verification email (earlier links stop working)",
    tags=["identity"],
    security=BEARER_AUTH,
    responses=api_responses(
        (404, "The token's user no longer exists"),
        (409, "Email is already verified"),
        (429, "More than 3 requests an hour; Retry-After says when to try again"),
        success=202,
        model=Accepted,
        description="The email is on its way",
    ),
)
def resend_verification(user: CurrentUser) -> Response[str]:
    return accepted(service.resend_verification(user.user_id))


handler = lambda_handler(app)
