from eduplatform.http import BEARER_AUTH, CurrentUser, Limit, Offset, Page, create_app, lambda_handler

from notification import service
from notification.schemas import NotificationOut

app = create_app()


@app.get("/notifications/me", summary="The caller's notifications, newest first", tags=["notification"],
         security=BEARER_AUTH)
def my_notifications(user: CurrentUser, limit: Limit = 20, offset: Offset = 0) -> Page[NotificationOut]:
    items, total = service.my_notifications(user.user_id, limit, offset)
    return Page[NotificationOut](items=items, total=total)


handler = lambda_handler(app)
