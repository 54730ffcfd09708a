from eduplatform.facts import template_properties
from eduplatform.http import api_responses, create_app, lambda_handler

from identity import service
from identity.capacity import PASSWORD_HASHING_CONCURRENCY, PASSWORD_HASHING_GROUP
from identity.schemas import RegisterRequest, TokenResponse

TEMPLATE_PROPERTIES = {**template_properties(publishes_events=True), **PASSWORD_HASHING_CONCURRENCY}
FUNCTION_GROUP = PASSWORD_HASHING_GROUP

app = create_app()


@app.post("/register", summary="Register a student or teacher account", tags=["identity"],
          responses=api_responses((409, "Email already registered")))
def register(body: RegisterRequest) -> TokenResponse:
    return service.register(body)


handler = lambda_handler(app)
