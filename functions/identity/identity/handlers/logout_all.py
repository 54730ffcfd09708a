from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler, no_content

from identity import service

app = create_app()


@app.post(
    "/logout/all",
    summary="End every session of the caller",
    tags=["identity"],
    security=BEARER_AUTH,
    responses=api_responses(success=204, description="Every refresh token of the caller is revoked"),
)
def logout_all(user: CurrentUser) -> Response[str]:
    service.logout_all(user.user_id)
    return no_content()


handler = lambda_handler(app)
