from eduplatform.events import outbox_relay
from eduplatform.facts import template_properties
from eduplatform.http import api_responses, create_app, lambda_handler, source_ip

from identity import service
from identity.capacity import PASSWORD_HASHING_CONCURRENCY, PASSWORD_HASHING_GROUP, SEND_EMAIL_POLICY
from identity.schemas import RegisterRequest, TokenResponse

TEMPLATE_PROPERTIES = {
    **template_properties(outbox_relay("identity"), policies=[SEND_EMAIL_POLICY]),
    **PASSWORD_HASHING_CONCURRENCY,
}
FUNCTION_GROUP = PASSWORD_HASHING_GROUP

app = create_app()


@app.post(
    "/register",
    summary="Register a student or teacher account",
    tags=["identity"],
    responses=api_responses(
        (409, "Email already registered"),
        (429, "5 registrations a minute from this address; Retry-After says when to try again"),
    ),
)
def register(body: RegisterRequest) -> TokenResponse:
    """Also sends the address a verification email (its link is valid 24 hours)."""
    return service.register(body, source_ip(app))


handler = lambda_handler(app, no_store=True)
