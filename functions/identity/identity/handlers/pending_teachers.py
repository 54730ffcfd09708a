from eduplatform.http import BEARER_AUTH, AdminUser, Limit, Offset, Page, api_responses, create_app, lambda_handler

from identity import service
from identity.schemas import PendingTeacher

app = create_app()


@app.get("/admin/teachers/pending", summary="Teachers awaiting verification, oldest first", tags=["identity"],
         security=BEARER_AUTH, responses=api_responses((403, "Admin access required")))
def pending_teachers(_admin: AdminUser, limit: Limit = 50, offset: Offset = 0) -> Page[PendingTeacher]:
    items, total = service.pending_teachers(limit, offset)
    return Page[PendingTeacher](items=items, total=total)


handler = lambda_handler(app)
