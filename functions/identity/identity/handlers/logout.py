from aws_lambda_powertools.event_handler import Response

from eduplatform.http import api_responses, create_app, lambda_handler, no_content

from identity import service
from identity.schemas import RefreshRequest

app = create_app()


@app.post(
    "/logout",
    summary="End the session a refresh token belongs to",
    tags=["identity"],
    responses=api_responses(success=204, description="The session is revoked (an unknown token too)"),
)
def logout(body: RefreshRequest) -> Response[str]:
    service.logout(body.refresh_token)
    return no_content()


handler = lambda_handler(app, no_store=True)
