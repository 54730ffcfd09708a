"""Cursors (docs/api.md) on GET /courses: next_cursor on every page but the last, cursor instead of
offset, total only with with_total=true, a modified or foreign cursor is 422, and paging while
courses are inserted returns every course that existed at the start exactly once (hypothesis)."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.lambda_events import call
from tests.unit.test_course import LIST

from eduplatform import cursors

SORTS = ["newest", "rating", "price_asc", "price_desc", "popular"]


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


def insert_courses(url: str, rows: list[tuple]) -> list[str]:
    """rows of (price or None, avg_rating or None, enrollment_count, created_at, level); their ids."""
    teacher = uuid.uuid4()
    ids = []
    with psycopg.connect(url, autocommit=True) as conn:
        for price, rating, enrollments, created_at, level in rows:
            ids.append(
                str(
                    conn.execute(
                        "INSERT INTO courses (teacher_id, title, is_free, price, avg_rating, review_count, rating_sum, "
                        "enrollment_count, created_at, level) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                        (
                            teacher,
                            "Course",
                            price is None,
                            price,
                            rating,
                            1 if rating else 0,
                            int(rating or 0),
                            enrollments,
                            created_at,
                            level,
                        ),
                    ).fetchone()[0]
                )
            )
    return ids


def varied(count: int, start: datetime) -> list[tuple]:
    """Courses with many equal keys (so ties by id matter)."""
    return [
        (
            None if i % 3 == 0 else Decimal(("9.99", "19.99")[i % 2]),
            None if i % 4 == 0 else Decimal(1 + i % 3),
            i % 2,
            start - timedelta(seconds=i // 2),
            ("beginner", "advanced")[i % 2],
        )
        for i in range(count)
    ]


def page(**query):
    response = call(LIST, query=query)
    assert response.status == 200, response.text
    return response.json()


def by_cursor(limit: int, **query) -> list[str]:
    seen, body = [], page(limit=limit, **query)
    for _ in range(500):  # a cursor that does not advance fails instead of looping
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            return seen
        assert "total" not in body or "with_total" in query or len(seen) == len(body["items"])
        body = page(limit=limit, cursor=body["next_cursor"], **query)
    pytest.fail("paging by cursor never reached the last page")


@pytest.mark.parametrize("sort", SORTS)
def test_cursor_pages_follow_the_same_order_as_offset_pages(course_db, sort):
    insert_courses(course_db, varied(23, datetime(2026, 6, 1, tzinfo=UTC)))
    everything = [item["id"] for item in page(sort=sort, limit=100)["items"]]
    assert len(everything) == 23
    assert by_cursor(5, sort=sort) == everything
    assert by_cursor(5, sort=sort, level="advanced", q="course") == [
        item["id"] for item in page(sort=sort, level="advanced", q="course", limit=100)["items"]
    ]


def test_total_only_when_asked_and_next_cursor_null_on_the_last_page(course_db):
    insert_courses(course_db, varied(5, datetime(2026, 6, 1, tzinfo=UTC)))
    first = page(limit=2)
    assert first["total"] == 5 and first["next_cursor"]
    second = page(limit=2, cursor=first["next_cursor"])
    assert "total" not in second and len(second["items"]) == 2
    counted = page(limit=2, cursor=first["next_cursor"], with_total="true")
    assert counted["total"] == 5 and counted["items"] == second["items"]
    last = page(limit=2, cursor=second["next_cursor"])
    assert len(last["items"]) == 1 and last["next_cursor"] is None
    assert page(limit=5)["next_cursor"] is None  # exactly one full page: no next


def _tamper(cursor: str) -> str:
    payload, signature = cursor.split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    content["k"][0] = "2000-01-01T00:00:00+00:00"
    forged = base64.urlsafe_b64encode(json.dumps(content).encode()).rstrip(b"=").decode()
    return f"{forged}.{signature}"


def test_a_modified_foreign_or_malformed_cursor_is_422(course_db, monkeypatch):
    insert_courses(course_db, varied(6, datetime(2026, 6, 1, tzinfo=UTC)))
    cursor = page(limit=2)["next_cursor"]
    flipped = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    foreign_key = cursors._b64(b"x" * 16)
    bad = {
        "tampered payload": {"cursor": _tamper(cursor)},
        "tampered signature": {"cursor": flipped},
        "another sort": {"cursor": cursor, "sort": "rating"},
        "another filter": {"cursor": cursor, "level": "beginner"},
        "another search": {"cursor": cursor, "q": "python"},
        "unsigned": {"cursor": cursor.split(".")[0] + "." + foreign_key},
        "not a cursor": {"cursor": "hello"},
        "with an offset": {"cursor": cursor, "offset": 2},
        "too long": {"cursor": "a" * 600 + ".b"},
    }
    for name, query in bad.items():
        response = call(LIST, query={"limit": 2, **query})
        assert response.status == 422, (name, response.text)
        loc = response.json()["detail"][0]["loc"]
        assert loc[0] == "query" and loc[1] in ("cursor", "offset"), (name, loc)
    assert "modified" in call(LIST, query={"cursor": flipped}).json()["detail"][0]["msg"]

    # Signed with another deployment's key: refused too.
    from eduplatform import settings as settings_module

    monkeypatch.setenv("CURSOR_SIGNING_KEY", "another-deployment-cursor-key-0123456789")
    settings_module.get_settings.cache_clear()
    try:
        assert call(LIST, query={"limit": 2, "cursor": cursor}).status == 422
    finally:
        monkeypatch.undo()
        settings_module.get_settings.cache_clear()
    assert call(LIST, query={"limit": 2, "cursor": cursor}).status == 200


# ---- property: inserts while paging -------------------------------------------------------------------------------

NEW_COURSE = st.tuples(
    st.one_of(st.none(), st.sampled_from([Decimal("9.99"), Decimal("19.99"), Decimal("49.99")])),
    st.one_of(st.none(), st.sampled_from([Decimal(1), Decimal(3), Decimal("4.5"), Decimal(5)])),
    st.integers(0, 3),
    st.integers(-5, 5),  # seconds around the existing courses: new ones land before, among and after them
    st.sampled_from(["beginner", "advanced"]),
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sort=st.sampled_from(SORTS),
    existing=st.lists(NEW_COURSE, min_size=1, max_size=25),
    inserted=st.lists(st.lists(NEW_COURSE, max_size=4), max_size=8),
    limit=st.integers(1, 6),
    filtered=st.booleans(),
)
def test_paging_while_courses_are_inserted_returns_every_existing_course_once(
    domain_database, sort, existing, inserted, limit, filtered
):
    url = domain_database("course")
    base = datetime(2026, 6, 1, tzinfo=UTC)

    def rows(specs):
        return [(p, r, e, base + timedelta(seconds=s), lv) for p, r, e, s, lv in specs]

    insert_courses(url, rows(existing))
    query = {"sort": sort, "limit": limit, **({"level": "advanced"} if filtered else {})}
    at_start = {item["id"] for item in page(**{**query, "limit": 100})["items"]}
    seen, body, batches = [], page(**query), iter(inserted)
    for _ in range(500):
        seen += [item["id"] for item in body["items"]]
        insert_courses(url, rows(next(batches, [])))  # courses written between two pages
        if body["next_cursor"] is None:
            break
        body = page(**query, cursor=body["next_cursor"])
    else:
        pytest.fail("paging by cursor never reached the last page")
    assert len(seen) == len(set(seen)), "a course came twice"
    assert at_start <= set(seen), "a course that existed at the start was skipped"


# ---- the course domain's other lists: a teacher's courses, a course's reviews ------------------------------------------

MY = "course.handlers.my_courses"
REVIEWS = "course.handlers.list_course_reviews"


def paged(module: str, path: dict | None = None, token: str | None = None, limit: int = 2, **query) -> list[dict]:
    pages, body = [], call(module, path, query={"limit": limit, **query}, token=token).json()
    for _ in range(100):
        pages.append(body)
        if body["next_cursor"] is None:
            return pages
        response = call(module, path, query={"limit": limit, "cursor": body["next_cursor"], **query}, token=token)
        assert response.status == 200, response.text
        body = response.json()
    pytest.fail("paging by cursor never reached the last page")


def test_my_courses_and_reviews_page_by_cursor(course_db, token_for):
    from tests.unit.test_course import Teacher, new_course, review

    teacher, other = Teacher(token_for), Teacher(token_for)
    mine = [new_course(teacher.token, title=f"Mine {i}")["id"] for i in range(5)]
    new_course(other.token, title="Not mine")
    pages = paged(MY, token=teacher.token)
    assert [item["id"] for p in pages for item in p["items"]] == list(reversed(mine))
    assert pages[0]["total"] == 5 and all("total" not in p for p in pages[1:])
    counted = call(MY, query={"limit": 2, "cursor": pages[0]["next_cursor"], "with_total": "true"}, token=teacher.token)
    assert counted.json()["total"] == 5
    # Bound to the teacher's own list: another teacher cannot continue it.
    foreign = call(MY, query={"cursor": pages[0]["next_cursor"]}, token=other.token)
    assert foreign.status == 422 and foreign.json()["detail"][0]["loc"] == ["query", "cursor"]

    course, second = mine[0], mine[1]
    written = [review(token_for("student"), course, rating=r).json()["id"] for r in (1, 2, 3, 4, 5)]
    pages = paged(REVIEWS, {"course_id": course})
    assert [item["id"] for p in pages for item in p["items"]] == list(reversed(written))
    # A cursor of one course's reviews is refused for another course's, and for the catalogue.
    assert call(REVIEWS, {"course_id": second}, query={"cursor": pages[0]["next_cursor"]}).status == 422
    assert call(LIST, query={"cursor": pages[0]["next_cursor"]}).status == 422
    assert call(REVIEWS, {"course_id": course}, query={"cursor": pages[0]["next_cursor"], "offset": 1}).status == 422


def test_reviews_written_while_paging_never_repeat_or_skip_older_ones(course_db, token_for):
    from tests.unit.test_course import Teacher, new_course, review

    course = new_course(Teacher(token_for).token)["id"]
    existing = {review(token_for("student"), course).json()["id"] for _ in range(7)}
    seen, body = [], call(REVIEWS, {"course_id": course}, query={"limit": 2}).json()
    for _ in range(100):
        seen += [item["id"] for item in body["items"]]
        review(token_for("student"), course)  # a newer review arrives between two pages
        if body["next_cursor"] is None:
            break
        body = call(REVIEWS, {"course_id": course}, query={"limit": 2, "cursor": body["next_cursor"]}).json()
    assert len(seen) == len(set(seen)) and set(seen) == existing
