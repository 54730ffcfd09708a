from eduplatform.http import (
    BEARER_AUTH, CurrentUser, Cursor, CursorPage, Limit, Offset, WithTotal, api_responses, create_app,
    cursor_page_response, lambda_handler,
)

from enrollment import service
from enrollment.schemas import EnrollmentOut

app = create_app()


@app.get("/enrollments/me", summary="The caller's enrollments, newest first; pages by offset or by cursor",
         tags=["enrollment"], security=BEARER_AUTH,
         responses=api_responses(model=CursorPage[EnrollmentOut],
                                 description="A page; total is left out of cursor pages unless with_total=true"))
def my_enrollments(user: CurrentUser, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None,
                   with_total: WithTotal = False):
    return cursor_page_response(service.my_enrollments(user.user_id, limit, offset, cursor, with_total))


handler = lambda_handler(app)
