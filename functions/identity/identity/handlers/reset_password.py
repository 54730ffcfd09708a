from aws_lambda_powertools.event_handler import Response

from eduplatform.http import api_responses, create_app, lambda_handler, no_content

from identity import service
from identity.capacity import PASSWORD_HASHING_CONCURRENCY, PASSWORD_HASHING_GROUP
from identity.schemas import ResetPasswordRequest

# bcrypt: served with login and register (identity/capacity.py).
TEMPLATE_PROPERTIES = PASSWORD_HASHING_CONCURRENCY
FUNCTION_GROUP = PASSWORD_HASHING_GROUP

app = create_app()


@app.post(
    "/reset-password",
    summary="Choose a new password with the token of a reset link",
    tags=["identity"],
    responses=api_responses(
        (400, "Invalid, used or expired token"),
        success=204,
        description="Password changed; every session of the user is revoked",
    ),
)
def reset_password(body: ResetPasswordRequest) -> Response[str]:
    service.reset_password(body)
    return no_content()


handler = lambda_handler(app, no_store=True)
