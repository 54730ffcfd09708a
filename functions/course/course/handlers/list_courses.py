from decimal import Decimal
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from eduplatform.http import (
    Cursor,
    Limit,
    Offset,
    WithTotal,
    api_responses,
    create_app,
    cursor_page_response,
    lambda_handler,
)
from eduplatform.types import MONEY_MAX

from course import service
from course.schemas import SEARCH_TERM_MAX_LENGTH, CatalogueQuery, Level, SearchTerm, Sort

app = create_app()


@app.get(
    "/courses",
    summary="The catalogue: search, filters and sorts (newest first by default; ties by id); "
    "pages by offset or by cursor",
    tags=["course"],
    responses=api_responses(
        model=service.CataloguePage,
        description="A page; total is left out of cursor pages unless with_total=true, "
        "next_cursor is null on the last page",
    ),
)
def list_courses(
    q: Annotated[
        SearchTerm | None,
        Query(max_length=SEARCH_TERM_MAX_LENGTH, description="Case-insensitive substring of the title or description"),
    ] = None,
    category_id: Annotated[UUID | None, Query(description="Only courses of this category (GET /categories)")] = None,
    level: Annotated[Level | None, Query(description="Only courses of this level")] = None,
    is_free: Annotated[bool | None, Query(description="Only free (true) or only paid (false) courses")] = None,
    price_min: Annotated[
        Decimal | None, Query(ge=0, le=MONEY_MAX, decimal_places=2, description="Lowest price (a free course costs 0)")
    ] = None,
    price_max: Annotated[
        Decimal | None, Query(ge=0, le=MONEY_MAX, decimal_places=2, description="Highest price (a free course costs 0)")
    ] = None,
    min_rating: Annotated[
        Decimal | None,
        Query(ge=1, le=5, decimal_places=2, description="Lowest average rating, 1 to 5 (unrated courses never match)"),
    ] = None,
    sort: Annotated[
        Sort,
        Query(
            description="newest (default), rating, price_asc, price_desc or popular "
            "(most enrolled first); ties break by id"
        ),
    ] = "newest",
    limit: Limit = 20,
    offset: Offset = 0,
    cursor: Cursor = None,
    with_total: WithTotal = False,
) -> Response[str]:
    query = CatalogueQuery(
        q=q,
        category_id=category_id,
        level=level,
        is_free=is_free,
        price_min=price_min,
        price_max=price_max,
        min_rating=min_rating,
        sort=sort,
    )
    return cursor_page_response(service.catalogue(query, limit, offset, cursor, with_total))


handler = lambda_handler(app)
