from uuid import UUID

from eduplatform.auth import AdminUser
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from identity import service
from identity.schemas import UserOut

app = create_app()


@app.patch(
    "/admin/users/<user_id>/verify",
    summary="Verify a teacher",
    tags=["identity"],
    security=BEARER_AUTH,
    responses=api_responses(
        (403, "Admin access required"), (404, "User not found"), (409, "Not a teacher, or already verified")
    ),
)
def verify_teacher(user_id: UUID, admin: AdminUser) -> UserOut:
    return service.verify_teacher(user_id, admin.user_id)


handler = lambda_handler(app)
