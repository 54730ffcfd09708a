from eduplatform.http import BEARER_AUTH, CurrentUser, create_app, created, lambda_handler

from notification import service
from notification.schemas import NotificationRequest

app = create_app()


@app.post("/notifications", summary="Create a notification for oneself", tags=["notification"], security=BEARER_AUTH,
          responses={201: {"description": "Notification created"}})
def create_notification(body: NotificationRequest, user: CurrentUser):
    return created(service.create(user.user_id, body))


handler = lambda_handler(app)
