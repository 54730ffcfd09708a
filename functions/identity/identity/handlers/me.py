from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from identity import service
from identity.schemas import UserOut

app = create_app()


@app.get(
    "/me",
    summary="The caller's profile",
    tags=["identity"],
    security=BEARER_AUTH,
    responses=api_responses((404, "The token's user no longer exists")),
)
def me(user: CurrentUser) -> UserOut:
    return service.profile(user.user_id)


handler = lambda_handler(app)
