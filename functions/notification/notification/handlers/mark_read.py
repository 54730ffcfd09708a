from uuid import UUID

from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from notification import service
from notification.schemas import NotificationOut

app = create_app()


@app.patch(
    "/notifications/<notification_id>/read",
    summary="Mark one of the caller's notifications as read",
    tags=["notification"],
    security=BEARER_AUTH,
    responses=api_responses((404, "Notification not found (also when it is someone else's)")),
)
def mark_read(notification_id: UUID, user: CurrentUser) -> NotificationOut:
    return service.mark_read(user.user_id, notification_id)


handler = lambda_handler(app)
