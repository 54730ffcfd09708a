"""catalogue_counts (course migration 005): the totals of GET /courses without a search term are
sums of its rows, so after any sequence of writes to courses (by the endpoints or by SQL: COPY,
several rows in one statement, deletes, TRUNCATE) it must hold exactly the courses' counts per
level, category, price key and rating key (hypothesis), and every filter's total must equal the
number of courses the filter lists."""

import uuid
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.lambda_events import call
from tests.unit.test_catalogue import add_categories, set_columns
from tests.unit.test_course import LIST, UPDATE, Teacher, new_course

LEVELS = ["beginner", "intermediate", "advanced"]
PRICES = [None, Decimal("9.99"), Decimal("49.99")]
RATINGS = [None, Decimal("3.50"), Decimal("5.00")]


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


def drift(conn: psycopg.Connection) -> list[tuple]:
    """Combinations whose kept count differs from the courses' (none when catalogue_counts is right)."""

    def by_combination(statement: str) -> dict[tuple, int]:
        return {(level, category, price, rating): n for level, category, price, rating, n in conn.execute(statement)}

    counted = by_combination(
        "SELECT level, category_id, price_key, rating_key, count(*) FROM courses GROUP BY 1, 2, 3, 4"
    )
    kept = by_combination(
        "SELECT level, category_id, price_key, rating_key, courses FROM catalogue_counts WHERE courses <> 0"
    )
    return sorted(
        (key, counted.get(key), kept.get(key))
        for key in counted.keys() | kept.keys()
        if counted.get(key) != kept.get(key)
    )


course_values = st.fixed_dictionaries(
    {
        "level": st.sampled_from(LEVELS),
        "category": st.sampled_from([None, 0, 1]),
        "price": st.sampled_from(PRICES),
        "rating": st.sampled_from(RATINGS),
    }
)
writes = st.one_of(
    st.tuples(st.just("insert"), st.lists(course_values, min_size=1, max_size=4)),
    st.tuples(st.just("update"), st.integers(0, 20), course_values),
    st.tuples(st.just("update level of a category"), st.sampled_from([None, 0, 1]), st.sampled_from(LEVELS)),
    st.tuples(st.just("count an enrollment"), st.integers(0, 20)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("truncate")),
)


def apply(conn: psycopg.Connection, write: tuple, categories: list[uuid.UUID]) -> None:
    def category(index: int | None) -> uuid.UUID | None:
        return None if index is None else categories[index]

    def columns(values: dict) -> tuple:
        rating = values["rating"]
        return (
            values["level"],
            category(values["category"]),
            values["price"] is None,
            values["price"],
            rating,
            1 if rating else 0,
            int(rating or 0),
        )

    def nth(index: int) -> uuid.UUID | None:
        row = conn.execute("SELECT id FROM courses ORDER BY id OFFSET %s LIMIT 1", (index,)).fetchone()
        return row[0] if row else None

    kind = write[0]
    if kind == "insert":  # one statement for all: a COPY-like multi-row insert
        rows = [columns(values) for values in write[1]]
        placeholders = ", ".join(["(%s, 'Course', %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        conn.execute(
            "INSERT INTO courses (teacher_id, title, level, category_id, is_free, price, avg_rating, review_count, "
            f"rating_sum) VALUES {placeholders}",
            [value for row in rows for value in (uuid.uuid4(), *row)],
        )
    elif kind == "update" and (course_id := nth(write[1])):
        conn.execute(
            "UPDATE courses SET level = %s, category_id = %s, is_free = %s, price = %s, avg_rating = %s, "
            "review_count = %s, rating_sum = %s WHERE id = %s",
            (*columns(write[2]), course_id),
        )
    elif kind == "update level of a category":
        conn.execute(
            "UPDATE courses SET level = %s WHERE category_id IS NOT DISTINCT FROM %s", (write[2], category(write[1]))
        )
    elif kind == "count an enrollment" and (course_id := nth(write[1])):
        conn.execute("UPDATE courses SET enrollment_count = enrollment_count + 1 WHERE id = %s", (course_id,))
    elif kind == "delete" and (course_id := nth(write[1])):
        conn.execute("DELETE FROM courses WHERE id = %s", (course_id,))
    elif kind == "truncate":
        conn.execute("TRUNCATE courses CASCADE")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(writes, min_size=1, max_size=12))
def test_catalogue_counts_follow_every_write_to_courses(course_db, sequence):
    categories = [uuid.UUID(category) for category in add_categories(course_db, "Music", "Programming").values()]
    try:
        with psycopg.connect(course_db, autocommit=True) as conn:
            for write in sequence:
                apply(conn, write, categories)
                assert drift(conn) == [], write
    finally:
        with psycopg.connect(course_db, autocommit=True) as conn:
            conn.execute("TRUNCATE courses, categories CASCADE")


def total(**query) -> int:
    response = call(LIST, query={"limit": 1, **query})
    assert response.status == 200, response.text
    return response.json()["total"]


def listed_count(**query) -> int:
    response = call(LIST, query={"limit": 100, **query})
    assert response.status == 200, response.text
    return len(response.json()["items"])


FILTER_QUERIES = [
    {},
    {"level": "beginner"},
    {"level": "advanced"},
    {"is_free": "true"},
    {"is_free": "false"},
    {"price_min": "10", "price_max": "60"},
    {"price_max": "0"},
    {"min_rating": "4"},
    {"min_rating": "1", "level": "beginner"},
]


def test_every_filters_total_is_the_number_of_courses_it_lists_after_writes_by_the_endpoints(course_db, token_for):
    ids = add_categories(course_db, "Music", "Programming")
    teacher = Teacher(token_for)
    queries = [*FILTER_QUERIES, {"category_id": ids["Music"]}, {"category_id": ids["Programming"], "is_free": "false"}]
    created = [
        new_course(teacher.token, title="Guitar", is_free=True, level="beginner", category_id=ids["Music"]),
        new_course(teacher.token, title="Rust", is_free=False, price="49.99", level="advanced"),
        new_course(teacher.token, title="Python", is_free=False, price="9.99", level="beginner"),
    ]
    set_columns(course_db, created[0]["id"], avg_rating=Decimal("4.50"), review_count=2, rating_sum=9)

    def check() -> None:
        for query in queries:
            assert total(**query) == listed_count(**query), query

    check()
    changes = [
        (created[1]["id"], {"category_id": ids["Programming"], "level": "intermediate"}),
        (created[2]["id"], {"is_free": True}),
        (created[0]["id"], {"is_free": False, "price": "19.99", "category_id": None}),
    ]
    for course_id, body in changes:
        response = call(UPDATE, {"course_id": course_id}, body=body, token=teacher.token)
        assert response.status == 200, response.text
        check()
    assert total() == 3 and total(is_free="true") == 1 and total(category_id=ids["Programming"]) == 1
