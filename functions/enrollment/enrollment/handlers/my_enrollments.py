from eduplatform.http import BEARER_AUTH, CurrentUser, Limit, Offset, Page, create_app, lambda_handler

from enrollment import service
from enrollment.schemas import EnrollmentOut

app = create_app()


@app.get("/enrollments/me", summary="The caller's enrollments, newest first", tags=["enrollment"], security=BEARER_AUTH)
def my_enrollments(user: CurrentUser, limit: Limit = 20, offset: Offset = 0) -> Page[EnrollmentOut]:
    items, total = service.my_enrollments(user.user_id, limit, offset)
    return Page[EnrollmentOut](items=items, total=total)


handler = lambda_handler(app)
