from eduplatform.http import api_responses, create_app, lambda_handler, source_ip

from identity import service
from identity.capacity import PASSWORD_HASHING_CONCURRENCY, PASSWORD_HASHING_GROUP
from identity.schemas import LoginRequest, TokenResponse

TEMPLATE_PROPERTIES = PASSWORD_HASHING_CONCURRENCY
FUNCTION_GROUP = PASSWORD_HASHING_GROUP

app = create_app()


@app.post(
    "/login",
    summary="Exchange email and password for an access token",
    tags=["identity"],
    responses=api_responses(
        (400, "Incorrect email or password"),
        (
            429,
            (
                "5 failed attempts for this account within 15 minutes, or 20 logins a minute "
                "from this address; Retry-After says when to try again"
            ),
        ),
    ),
)
def login(body: LoginRequest) -> TokenResponse:
    return service.login(body, source_ip(app))


handler = lambda_handler(app, no_store=True)
