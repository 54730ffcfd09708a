from eduplatform.http import api_responses, create_app, lambda_handler

from identity import service
from identity.schemas import RefreshRequest, TokenResponse

app = create_app()


@app.post(
    "/refresh",
    summary="Exchange a refresh token for new tokens of the same session",
    tags=["identity"],
    responses=api_responses((401, "Unknown, expired or revoked refresh token; a spent one revokes its session")),
)
def refresh(body: RefreshRequest) -> TokenResponse:
    """The token sent is spent. Presenting a spent token again revokes every token of its login."""
    return service.refresh(body.refresh_token)


handler = lambda_handler(app, no_store=True)
