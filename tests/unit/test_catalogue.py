"""The catalogue (docs/api.md): categories, filters, sorting: GET /categories, category_id on courses,
GET /courses filters and sorts (combinable with q, ties by id), enrollment counts kept from
EnrollmentCreated events (sort=popular), all through the handlers against real PostgreSQL."""

import uuid
from decimal import Decimal

import psycopg
import pytest

from tests.support.lambda_events import FakeLambdaContext, call, envelope, sqs_event
from tests.unit.test_course import CREATE, GET, LIST, MY, UPDATE, Teacher, new_course

CATEGORIES = "course.handlers.list_categories"


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


def add_categories(url: str, *names: str) -> dict[str, str]:
    """Insert categories as the seed does; name -> id."""
    ids = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            slug = name.lower().replace(" ", "-")
            ids[name] = str(
                conn.execute(
                    "INSERT INTO categories (slug, name) VALUES (%s, %s) RETURNING id", (slug, name)
                ).fetchone()[0]
            )
    return ids


def set_columns(url: str, course_id: str, **values) -> None:
    assignments = ", ".join(f"{name} = %s" for name in values)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE courses SET {assignments} WHERE id = %s", (*values.values(), course_id))


def listed(**query) -> list[str]:
    response = call(LIST, query={"limit": 100, **query})
    assert response.status == 200, response.text
    return [item["title"] for item in response.json()["items"]]


# ---- GET /categories -------------------------------------------------------------------------------------------


def test_categories_are_public_and_ordered_by_name(course_db):
    ids = add_categories(course_db, "Music", "Business", "Programming")
    response = call(CATEGORIES)
    assert response.status == 200
    assert response.json() == {
        "items": [
            {"id": ids["Business"], "slug": "business", "name": "Business"},
            {"id": ids["Music"], "slug": "music", "name": "Music"},
            {"id": ids["Programming"], "slug": "programming", "name": "Programming"},
        ]
    }


def test_no_categories_is_an_empty_list(course_db):
    assert call(CATEGORIES).json() == {"items": []}


# ---- category_id on courses ----------------------------------------------------------------------------------------


def test_a_course_has_a_category_everywhere_it_is_returned(course_db, token_for):
    ids = add_categories(course_db, "Music", "Business")
    teacher = Teacher(token_for)
    course = new_course(teacher.token, title="Guitar", category_id=ids["Music"])
    assert course["category_id"] == ids["Music"]
    assert call(GET, {"course_id": course["id"]}).json()["category_id"] == ids["Music"]
    assert call(LIST).json()["items"][0]["category_id"] == ids["Music"]
    assert call(MY, token=teacher.token).json()["items"][0]["category_id"] == ids["Music"]
    assert new_course(teacher.token, title="No category")["category_id"] is None

    moved = call(UPDATE, {"course_id": course["id"]}, body={"category_id": ids["Business"]}, token=teacher.token)
    assert moved.status == 200 and moved.json()["category_id"] == ids["Business"]
    untouched = call(UPDATE, {"course_id": course["id"]}, body={"title": "Guitar 2"}, token=teacher.token).json()
    assert untouched["category_id"] == ids["Business"]
    cleared = call(UPDATE, {"course_id": course["id"]}, body={"category_id": None}, token=teacher.token).json()
    assert cleared["category_id"] is None


def test_an_unknown_category_is_422_with_a_clear_detail(course_db, token_for):
    add_categories(course_db, "Music")
    teacher = Teacher(token_for)
    unknown = str(uuid.uuid4())
    response = call(CREATE, body={"title": "X", "is_free": True, "category_id": unknown}, token=teacher.token)
    assert response.status == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "category_id"] and "Unknown category" in error["msg"]

    course = new_course(teacher.token)
    response = call(UPDATE, {"course_id": course["id"]}, body={"category_id": unknown}, token=teacher.token)
    assert response.status == 422 and response.json()["detail"][0]["loc"] == ["body", "category_id"]
    assert call(GET, {"course_id": course["id"]}).json()["category_id"] is None  # nothing changed
    bad = call(CREATE, body={"title": "X", "is_free": True, "category_id": "music"}, token=teacher.token)
    assert bad.status == 422 and bad.json()["detail"][0]["loc"] == ["body", "category_id"]


# ---- filters and sorts -----------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(course_db, token_for):
    """Five courses with known categories, levels, prices, ratings and enrollment counts."""
    ids = add_categories(course_db, "Music", "Programming")
    teacher = Teacher(token_for)
    specs = [  # title, category, level, price (None: free), avg_rating, enrollments
        ("Guitar basics", "Music", "beginner", None, "4.50", 10),
        ("Piano jazz", "Music", "advanced", "49.99", "3.00", 30),
        ("Python intro", "Programming", "beginner", "9.99", None, 20),
        ("Rust deep dive", "Programming", "advanced", "79.99", "5.00", 5),
        ("Python for music", None, "intermediate", "19.99", "4.50", 20),
    ]
    courses = {}
    for title, category, level, price, rating, enrollments in specs:
        body = {"title": title, "is_free": price is None, "level": level}
        if price:
            body["price"] = price
        if category:
            body["category_id"] = ids[category]
        course = new_course(teacher.token, **body)
        courses[title] = course["id"]
        if rating:
            set_columns(
                course_db, course["id"], avg_rating=Decimal(rating), review_count=2, rating_sum=int(Decimal(rating) * 2)
            )
        set_columns(course_db, course["id"], enrollment_count=enrollments)
    return {"categories": ids, "courses": courses, "url": course_db}


def tie_order(catalogue, *titles, descending=True) -> list[str]:
    """Titles ordered by id (the tie break)."""
    return sorted(titles, key=lambda title: uuid.UUID(catalogue["courses"][title]), reverse=descending)


def test_each_filter(catalogue):
    music = catalogue["categories"]["Music"]
    assert set(listed(category_id=music)) == {"Guitar basics", "Piano jazz"}
    assert set(listed(level="advanced")) == {"Piano jazz", "Rust deep dive"}
    assert listed(is_free="true") == ["Guitar basics"]
    assert len(listed(is_free="false")) == 4
    assert set(listed(price_min="19.99")) == {"Piano jazz", "Rust deep dive", "Python for music"}
    assert set(listed(price_max="10")) == {"Guitar basics", "Python intro"}  # free counts as 0
    assert set(listed(price_min="10", price_max="50")) == {"Piano jazz", "Python for music"}
    assert set(listed(min_rating="4.5")) == {"Guitar basics", "Rust deep dive", "Python for music"}
    assert listed(min_rating=5) == ["Rust deep dive"]
    assert listed(min_rating=1, level="beginner") == ["Guitar basics"]  # unrated never matches


def test_filters_combine_with_each_other_and_with_q(catalogue):
    programming = catalogue["categories"]["Programming"]
    assert listed(q="python") == ["Python for music", "Python intro"]  # newest first
    assert listed(q="python", category_id=programming) == ["Python intro"]
    assert listed(q="python", level="intermediate") == ["Python for music"]
    assert listed(q="music", is_free="false", price_max="20") == ["Python for music"]
    assert listed(category_id=programming, level="advanced", min_rating=4) == ["Rust deep dive"]
    assert listed(q="python", min_rating=4, sort="price_desc") == ["Python for music"]
    body = call(LIST, query={"q": "python", "category_id": programming, "limit": 1}).json()
    assert body["total"] == 1
    assert call(LIST, query={"level": "advanced", "limit": 1}).json()["total"] == 2  # total counts the filter


@pytest.mark.parametrize("sort", ["newest", "rating", "price_asc", "price_desc", "popular"])
def test_a_page_past_the_end_or_of_no_match_keeps_its_total(catalogue, sort):
    """The page and its count are one statement: an empty page still carries the count."""
    body = call(LIST, query={"level": "advanced", "sort": sort, "offset": 5}).json()
    assert body["items"] == [] and body["total"] == 2 and body["next_cursor"] is None
    body = call(LIST, query={"q": "no course says this", "sort": sort}).json()
    assert body["items"] == [] and body["total"] == 0
    body = call(LIST, query={"sort": sort, "limit": 2, "offset": 3}).json()
    assert len(body["items"]) == 2 and body["total"] == 5 and body["next_cursor"] is None


def test_each_sort_with_ties_broken_by_id(catalogue):
    assert listed() == ["Python for music", "Rust deep dive", "Python intro", "Piano jazz", "Guitar basics"]
    assert listed(sort="newest") == listed()
    # rating: 5.00, then the two 4.50 by id (descending), then 3.00, then the unrated one last
    assert listed(sort="rating") == [
        "Rust deep dive",
        *tie_order(catalogue, "Guitar basics", "Python for music"),
        "Piano jazz",
        "Python intro",
    ]
    assert listed(sort="price_asc") == [
        "Guitar basics",
        "Python intro",
        "Python for music",
        "Piano jazz",
        "Rust deep dive",
    ]
    assert listed(sort="price_desc") == [
        "Rust deep dive",
        "Piano jazz",
        "Python for music",
        "Python intro",
        "Guitar basics",
    ]
    assert listed(sort="popular") == [
        "Piano jazz",
        *tie_order(catalogue, "Python intro", "Python for music"),
        "Guitar basics",
        "Rust deep dive",
    ]
    assert listed(sort="price_asc", category_id=catalogue["categories"]["Music"]) == ["Guitar basics", "Piano jazz"]


def test_equal_keys_page_without_duplicates_or_gaps(course_db, token_for):
    """Ties break by id, so an order is total: pages of one row each cover every course once."""
    teacher = Teacher(token_for)
    with psycopg.connect(course_db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO courses (teacher_id, title, is_free, created_at) "
            "SELECT %s, 'same ' || i, true, '2026-01-01T00:00:00Z' FROM generate_series(1, 12) i",
            (teacher.id,),
        )
    for sort in ("newest", "rating", "price_asc", "price_desc", "popular"):
        pages = [call(LIST, query={"sort": sort, "limit": 1, "offset": n}).json()["items"][0]["id"] for n in range(12)]
        assert len(set(pages)) == 12, sort
        descending = sort != "price_asc"
        assert pages == sorted(pages, key=uuid.UUID, reverse=descending), sort


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "cheapest"},
        {"level": "expert"},
        {"is_free": "maybe"},
        {"category_id": "music"},
        {"price_min": "-1"},
        {"price_max": "abc"},
        {"price_min": "1.234"},
        {"price_max": "100000000"},
        {"min_rating": "0"},
        {"min_rating": "6"},
        {"min_rating": "NaN"},
        {"price_min": "50", "price_max": "10"},
    ],
)
def test_bad_filters_and_sorts_are_422(course_db, query):
    response = call(LIST, query=query)
    assert response.status == 422, (query, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"][0] == "query"


# ---- enrollment counts from EnrollmentCreated (sort=popular) ------------------------------------------------------------


def consume(*bodies):
    from course import enrollment_consumer

    return enrollment_consumer.handler(
        sqs_event(*bodies), FakeLambdaContext(function_name="course-enrollment-consumer")
    )


def enrollment_created(course_id: str, event_id: str | None = None) -> dict:
    return envelope(
        "EnrollmentCreated",
        {
            "event_id": event_id or str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "enrollment_id": str(uuid.uuid4()),
            "course_id": course_id,
            "payment_id": None,
        },
    )


def enrollment_count(url: str, course_id: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT enrollment_count FROM courses WHERE id = %s", (course_id,)).fetchone()[0]


def test_enrollments_are_counted_once_per_event_and_order_popular(course_db, token_for):
    teacher = Teacher(token_for)
    first, second = new_course(teacher.token, title="First"), new_course(teacher.token, title="Second")
    repeated = enrollment_created(first["id"])
    answer = consume(repeated, enrollment_created(first["id"]), enrollment_created(second["id"]), repeated)
    assert answer == {"batchItemFailures": []}
    assert consume(repeated) == {"batchItemFailures": []}  # redelivered later: still once
    assert enrollment_count(course_db, first["id"]) == 2 and enrollment_count(course_db, second["id"]) == 1
    assert listed(sort="popular") == ["First", "Second"]
    consume(enrollment_created(second["id"]), enrollment_created(second["id"]))
    assert listed(sort="popular") == ["Second", "First"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "UNKNOWN_TYPE",
        "MISSING_COURSE",
    ],
)
def test_an_event_that_cannot_be_counted_is_reported_for_redelivery(course_db, token_for, body):
    course = new_course(Teacher(token_for).token)
    if body == "UNKNOWN_TYPE":
        body = envelope("UserRegistered", {"event_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())})
    elif body == "MISSING_COURSE":
        body = envelope("EnrollmentCreated", {"event_id": str(uuid.uuid4())})
    event = sqs_event(body, enrollment_created(course["id"]))
    from course import enrollment_consumer

    answer = enrollment_consumer.handler(event, FakeLambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert enrollment_count(course_db, course["id"]) == 1
