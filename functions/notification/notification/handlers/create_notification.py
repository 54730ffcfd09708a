from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import CurrentUser
from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler

from notification import service
from notification.schemas import NotificationOut, NotificationRequest

app = create_app()


@app.post(
    "/notifications",
    summary="Create a notification for oneself",
    tags=["notification"],
    security=BEARER_AUTH,
    responses=api_responses(success=201, model=NotificationOut, description="Notification created"),
)
def create_notification(body: NotificationRequest, user: CurrentUser) -> Response[str]:
    return created(service.create(user.user_id, body))


handler = lambda_handler(app)
