from uuid import UUID

from eduplatform.http import Limit, Offset, Page, create_app, lambda_handler

from course import service
from course.schemas import ReviewOut

app = create_app()


@app.get("/reviews/course/<course_id>", summary="A course's reviews, newest first", tags=["course"])
def list_course_reviews(course_id: UUID, limit: Limit = 20, offset: Offset = 0) -> Page[ReviewOut]:
    items, total = service.course_reviews(course_id, limit, offset)
    return Page[ReviewOut](items=items, total=total)


handler = lambda_handler(app)
