"""PERFORMANCE: every sort of GET /courses, with and without a filter, walks its index on the full seed.

The course tables of the seed (seed.generate at scale 1: 100,000 courses in 12 categories,
100,000 reviews, enrollment counts of 200,000 enrollments) are loaded into a database of their
own (``<TEST_DATABASE_PREFIX>seedplan_course``), VACUUMed and ANALYZEd as `make seed` does, and
the repository's own page and count statements are EXPLAINed. Takes ~20 s; the plans and timings it
prints are the figures of docs/performance.md ("Catalogue filters and sorts"). The assertions are
on the plans (which index, what each node reads), never on a time:

    .venv/bin/python -m pytest tests/unit/test_catalogue_plans.py -s -q
"""

import time
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from seed import generate
from tests.support import databases

from course import repository
from course.schemas import CatalogueQuery

SORT_INDEXES = {
    "newest": "Index Scan using courses_newest_idx",
    "rating": "Index Scan using courses_rating_idx",
    "price_asc": "Index Scan using courses_price_idx",
    "price_desc": "Index Scan Backward using courses_price_idx",
    "popular": "Index Scan using courses_popular_idx",
}
CATEGORY_INDEXES = {
    "newest": "courses_category_newest_idx",
    "rating": "courses_category_rating_idx",
    "price_asc": "courses_category_price_idx",
    "price_desc": "courses_category_price_idx",
    "popular": "courses_category_popular_idx",
}


@pytest.fixture(scope="module")
def seeded_catalogue():
    url = databases.prepare("seedplan", "course")
    data = generate.Generator(42, 1.0, datetime(2026, 11, 1, tzinfo=UTC), "not-a-hash").build()
    tables = ("categories", "courses", "reviews")
    with psycopg.connect(url) as conn:
        for table in tables:
            columns = generate.TABLES["course"][table]
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in data.rows[table]:
                    copy.write_row(row)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        categories = dict(conn.execute("SELECT slug, id FROM categories").fetchall())
    yield url, categories
    databases.drop_database(url)


def explain(url: str, query: CatalogueQuery, offset: int = 0) -> tuple[str, float]:
    """EXPLAIN ANALYZE of the repository's page statement; the plan and the statement's own time in ms."""
    page, _, params = repository.catalogue_queries(query)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            f"EXPLAIN (ANALYZE, COSTS OFF) {page}", {**params, "limit": 20, "offset": offset}, prepare=False
        ).fetchall()
        started = time.perf_counter()
        conn.execute(page, {**params, "limit": 20, "offset": offset}, prepare=False).fetchall()
        elapsed = (time.perf_counter() - started) * 1000
    return "\n".join(row[0] for row in rows), elapsed


def show(name: str, plan: str, elapsed: float) -> None:
    print(f"\n--- {name}: {elapsed:.1f} ms\n{plan}")


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_each_sort_without_a_filter_walks_its_index(seeded_catalogue, sort):
    url, _ = seeded_catalogue
    plan, elapsed = explain(url, CatalogueQuery(sort=sort))
    show(f"sort={sort}", plan, elapsed)
    assert SORT_INDEXES[sort] in plan and "Seq Scan" not in plan and "Sort" not in plan.split("->")[1]


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_each_sort_within_a_category_walks_the_category_index(seeded_catalogue, sort):
    """Music holds 4% of the courses: its own index (the sort's index would filter 25 rows per match)."""
    url, categories = seeded_catalogue
    plan, elapsed = explain(url, CatalogueQuery(sort=sort, category_id=categories["music"]))
    show(f"sort={sort}&category_id=music", plan, elapsed)
    assert CATEGORY_INDEXES[sort] in plan and "Seq Scan" not in plan
    assert "Sort Key" not in plan  # the index gives the order: no sort of the matches


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_each_sort_within_a_large_category_walks_an_index_in_its_order(seeded_catalogue, sort):
    """Programming holds 14%: the planner may walk the sort's index and skip other categories
    (a page of 20 after ~150 rows) or the category's; either way no sort and no table scan."""
    url, categories = seeded_catalogue
    plan, elapsed = explain(url, CatalogueQuery(sort=sort, category_id=categories["programming"]))
    show(f"sort={sort}&category_id=programming", plan, elapsed)
    assert CATEGORY_INDEXES[sort] in plan or SORT_INDEXES[sort] in plan
    assert "Seq Scan" not in plan and "Sort Key" not in plan


FILTERS = {
    "level": {"level": "advanced"},
    "is_free": {"is_free": False},
    "price range": {"price_min": Decimal("20"), "price_max": Decimal("60")},
    "min_rating": {"min_rating": Decimal("4")},
    "several": {"level": "beginner", "is_free": False, "min_rating": Decimal("3")},
}


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
@pytest.mark.parametrize("filter_name", list(FILTERS))
def test_each_sort_with_a_filter_walks_its_index(seeded_catalogue, sort, filter_name):
    """A filter keeping a large share of the catalogue is checked while walking the sort's index;
    a price range under a price sort and a minimum rating under the rating sort bound the scan."""
    url, _ = seeded_catalogue
    plan, elapsed = explain(url, CatalogueQuery(sort=sort, **FILTERS[filter_name]))
    show(f"sort={sort}, {filter_name}", plan, elapsed)
    assert SORT_INDEXES[sort] in plan and "Seq Scan" not in plan and "Sort Key" not in plan
    if filter_name == "price range" and sort.startswith("price"):
        assert "Index Cond: ((price_key >= " in plan
    if filter_name in ("is_free", "several") and sort.startswith("price"):
        assert "Index Cond: (price_key > '0'::numeric)" in plan
    if filter_name == "min_rating" and sort == "rating":
        assert "Index Cond: (rating_key >= " in plan


@pytest.mark.parametrize("filter_name", ["category", *FILTERS])
def test_the_total_of_a_filter_sums_catalogue_counts_without_reading_courses(seeded_catalogue, filter_name):
    """A filter's total (the count beside a first page) adds up the rows of catalogue_counts
    matching the filter (~4,300 rows for the seed): ~1 ms, where counting the matching courses
    read up to 50,000 of them (10-34 ms)."""
    url, categories = seeded_catalogue
    filters = {"category_id": categories["programming"]} if filter_name == "category" else FILTERS[filter_name]
    _, count, params = repository.catalogue_queries(CatalogueQuery(**filters))
    page, _, _ = repository.catalogue_queries(CatalogueQuery(**filters))
    conditions = page.split("WHERE ")[1].split(" ORDER BY")[0]
    with psycopg.connect(url, autocommit=True) as conn:
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {count}", params))
        total = conn.execute(count, params).fetchone()[0]
        counted = conn.execute(f"SELECT count(*) FROM courses WHERE {conditions}", params).fetchone()[0]
    print(f"\n--- total, {filter_name}: {total}\n{plan}")
    assert "on catalogue_counts" in plan and "on courses" not in plan
    assert total == counted > 0


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_search_with_a_filter_and_a_sort_uses_an_index(seeded_catalogue, sort):
    url, categories = seeded_catalogue
    plan, elapsed = explain(url, CatalogueQuery(q="python", category_id=categories["programming"], sort=sort))
    show(f"q=python&category_id=programming&sort={sort}", plan, elapsed)
    assert "Seq Scan" not in plan


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_a_deep_cursor_page_costs_what_the_first_page_costs(seeded_catalogue, sort):
    """The page after the 40,000th course, by cursor: an index condition on (key, id), no skipping;
    the same page by offset walks 40,000 index entries first."""
    url, _ = seeded_catalogue
    query = CatalogueQuery(sort=sort)
    page, _, params = repository.catalogue_queries(query)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(page, {**params, "limit": 1, "offset": 39_999}, prepare=False).fetchone()
    after = repository.SORTS[sort].parse(
        [row[-1].isoformat() if hasattr(row[-1], "isoformat") else str(row[-1]), str(row[0])]
    )
    by_cursor, _, params = repository.catalogue_queries(query, after)
    with psycopg.connect(url, autocommit=True) as conn:
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f"EXPLAIN (ANALYZE, COSTS OFF) {by_cursor}", {**params, "limit": 20, "offset": 0}, prepare=False
            )
        )
        timings = {}
        for name, statement, offset, statement_params in (
            ("cursor", by_cursor, 0, params),
            ("offset", page, 40_000, repository.catalogue_queries(query)[2]),
        ):
            started = time.perf_counter()
            for _ in range(5):
                conn.execute(statement, {**statement_params, "limit": 20, "offset": offset}, prepare=False).fetchall()
            timings[name] = (time.perf_counter() - started) * 1000 / 5
    _first_plan, first = explain(url, query)
    print(
        f"\n--- sort={sort}: first page {first:.1f} ms, after 40,000 by cursor {timings['cursor']:.1f} ms, "
        f"offset 40,000 {timings['offset']:.1f} ms\n{plan}"
    )
    assert SORT_INDEXES[sort] in plan and "Index Cond: (ROW(" in plan and "Sort Key" not in plan
    assert index_rows_read(plan) == 20  # the page and nothing before it
    offset_plan = "\n".join(
        r[0]
        for r in psycopg.connect(url, autocommit=True).execute(
            f"EXPLAIN (ANALYZE, COSTS OFF) {page}",
            {**repository.catalogue_queries(query)[2], "limit": 20, "offset": 40_000},
            prepare=False,
        )
    )
    assert index_rows_read(offset_plan) == 40_020


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_a_deep_offset_page_skips_in_the_index_and_reads_the_table_for_its_rows_only(seeded_catalogue, sort):
    """From DEEP_OFFSET on, the skipped rows are the sort index's entries alone (an index-only scan:
    key and id) and only the page's 20 courses are read from the table; same rows as the plain page."""
    url, _ = seeded_catalogue
    query = CatalogueQuery(sort=sort)
    offset = 40_000
    deep, _, params = repository.catalogue_queries(query, offset=offset)
    plain, _, _ = repository.catalogue_queries(query)
    assert deep != plain and repository.catalogue_queries(query, offset=repository.DEEP_OFFSET - 1)[0] == plain
    values = {**params, "limit": 20, "offset": offset}
    with psycopg.connect(url, autocommit=True) as conn:
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {deep}", values, prepare=False))
        timings, rows = {}, {}
        for name, statement in (("deep", deep), ("plain", plain)):
            started = time.perf_counter()
            for _ in range(5):
                rows[name] = conn.execute(statement, values, prepare=False).fetchall()
            timings[name] = (time.perf_counter() - started) * 1000 / 5
    print(f"\n--- sort={sort}, offset 40,000: {timings['deep']:.1f} ms, plain {timings['plain']:.1f} ms\n{plan}")
    assert rows["deep"] == rows["plain"] and len(rows["deep"]) == 20
    skipping = next(line for line in plan.splitlines() if "Index Only Scan" in line)
    assert SORT_INDEXES[sort].removeprefix("Index Scan").strip().split()[-1] in skipping
    assert int(skipping.split("rows=")[1].split()[0]) == 40_020
    table_reads = next(line for line in plan.splitlines() if "courses_pkey" in line)
    assert "loops=20" in table_reads


def index_rows_read(plan: str) -> int:
    """The rows the plan's index scan produced (EXPLAIN ANALYZE's ``actual ... rows=N`` of that node)."""
    scan = next(line for line in plan.splitlines() if "Index Scan" in line)
    return int(scan.split("rows=")[1].split()[0])
