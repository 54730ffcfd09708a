from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from eduplatform.http import Limit, Offset, Page, create_app, lambda_handler

from course import service
from course.schemas import SEARCH_TERM_MAX_LENGTH, CourseOut, SearchTerm

app = create_app()


@app.get("/courses", summary="The catalogue, newest first; q searches titles and descriptions", tags=["course"])
def list_courses(
    q: Annotated[SearchTerm | None, Query(max_length=SEARCH_TERM_MAX_LENGTH,
                                          description="Case-insensitive substring of the title or description")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[CourseOut]:
    items, total = service.catalogue(q, limit, offset)
    return Page[CourseOut](items=items, total=total)


handler = lambda_handler(app)
