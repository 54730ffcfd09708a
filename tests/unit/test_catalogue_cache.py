"""The catalogue cache with filters and sorts: every parameter is part of the key, no page is
stale after a write that changes it, and writes leave the pages they cannot change cached
(a teacher's new course does not empty other categories' pages or unrelated searches)."""

import uuid

import pytest

from tests.support.lambda_events import call
from tests.unit.test_cache import behind_the_back, cached, redis_client  # noqa: F401 (fixtures)
from tests.unit.test_catalogue import CATEGORIES, add_categories, consume, enrollment_created
from tests.unit.test_course import (
    CURRICULUM,
    GET,
    LIST,
    UPDATE,
    Teacher,
    consume_registrations,
    new_course,
    review,
    user_registered,
)


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


def titles(**query) -> list[str]:
    response = call(LIST, query={"limit": 100, **query})
    assert response.status == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_every_parameter_is_part_of_the_key(cached, course_db, token_for):
    ids = add_categories(course_db, "Music", "Programming")
    teacher = Teacher(token_for)
    new_course(teacher.token, title="Guitar", category_id=ids["Music"], level="beginner")
    new_course(teacher.token, title="Rust", category_id=ids["Programming"], level="advanced", is_free=False, price="50")
    assert titles() == ["Rust", "Guitar"]
    assert titles(sort="price_asc") == ["Guitar", "Rust"]
    assert titles(category_id=ids["Music"]) == ["Guitar"]
    assert titles(category_id=ids["Programming"]) == ["Rust"]
    assert titles(level="advanced") == ["Rust"]
    assert titles(is_free="true") == ["Guitar"] and titles(is_free="false") == ["Rust"]
    assert titles(price_min="10") == ["Rust"] and titles(price_max="10") == ["Guitar"]
    assert titles(min_rating=1) == []
    assert titles(q="u", sort="price_desc") == ["Rust", "Guitar"] and titles(q="u") == ["Rust", "Guitar"]
    assert titles(q="  rust ") == titles(q="rust") == ["Rust"]  # the term is stripped before keying


def test_categories_are_cached(cached, course_db):
    add_categories(course_db, "Music")
    first = call(CATEGORIES).json()
    behind_the_back(course_db, "UPDATE categories SET name = 'Changed'")
    assert call(CATEGORIES).json() == first


def test_a_course_write_refreshes_the_pages_it_changes_and_only_those(cached, course_db, token_for):
    ids = add_categories(course_db, "Music", "Programming", "Cooking")
    teacher = Teacher(token_for)
    guitar = new_course(teacher.token, title="Guitar", category_id=ids["Music"])
    new_course(teacher.token, title="Rust", category_id=ids["Programming"])
    bread = new_course(teacher.token, title="Bread", category_id=ids["Cooking"])
    assert titles(category_id=ids["Music"]) == ["Guitar"]
    assert titles(category_id=ids["Programming"], sort="price_asc") == ["Rust"]
    assert titles(q="bread") == ["Bread"]
    assert titles() == ["Bread", "Rust", "Guitar"] and len(titles(sort="popular")) == 3  # all cached now

    # Behind the application's back: what still-cached pages would hide.
    behind_the_back(course_db, "UPDATE courses SET title = title || ' (changed)' WHERE title IN ('Rust', 'Bread')")

    new_course(teacher.token, title="Piano", category_id=ids["Music"])
    assert titles(category_id=ids["Music"]) == ["Piano", "Guitar"]  # its category: fresh
    assert titles() == ["Piano", "Bread (changed)", "Rust (changed)", "Guitar"]  # the unfiltered listing: fresh
    assert {"Piano", "Rust (changed)"} <= set(titles(sort="popular"))
    assert titles(category_id=ids["Programming"], sort="price_asc") == ["Rust"]  # another category: still cached
    assert titles(q="bread") == ["Bread"]  # an unrelated search: still cached

    # Moving a course refreshes both categories' pages.
    assert (
        call(UPDATE, {"course_id": guitar["id"]}, body={"category_id": ids["Cooking"]}, token=teacher.token).status
        == 200
    )
    assert titles(category_id=ids["Music"]) == ["Piano"]
    assert titles(category_id=ids["Cooking"]) == ["Bread (changed)", "Guitar"]
    # A price change re-orders the price sorts and the is_free filter.
    assert titles(is_free="false") == []
    call(UPDATE, {"course_id": bread["id"]}, body={"is_free": False, "price": "5"}, token=teacher.token)
    assert titles(is_free="false") == ["Bread (changed)"]
    assert titles(sort="price_desc")[0] == "Bread (changed)"


def test_a_searched_page_with_filters_is_refreshed_by_a_course_matching_the_term(cached, course_db, token_for):
    ids = add_categories(course_db, "Music")
    teacher = Teacher(token_for)
    new_course(teacher.token, title="Jazz guitar", category_id=ids["Music"])
    assert titles(q="jazz", category_id=ids["Music"], sort="rating") == ["Jazz guitar"]
    new_course(teacher.token, title="Jazz piano", category_id=ids["Music"])
    assert sorted(titles(q="jazz", category_id=ids["Music"], sort="rating")) == ["Jazz guitar", "Jazz piano"]


def test_an_enrollment_counted_refreshes_popular_pages_only(cached, course_db, token_for):
    teacher = Teacher(token_for)
    first, second = new_course(teacher.token, title="First"), new_course(teacher.token, title="Second")
    consume(enrollment_created(first["id"]))
    assert titles(sort="popular") == ["First", "Second"]
    assert titles() == ["Second", "First"]
    behind_the_back(course_db, "UPDATE courses SET title = 'Renamed' WHERE title = 'First'")
    consume(enrollment_created(second["id"]), enrollment_created(second["id"]))
    assert titles(sort="popular") == ["Second", "Renamed"]  # re-read: popularity changed
    assert titles() == ["Second", "First"]  # newest-first pages stay cached: nothing they show changed


def test_a_review_refreshes_rating_sorts_and_filters(cached, course_db, token_for):
    teacher = Teacher(token_for)
    first = new_course(teacher.token, title="First")
    new_course(teacher.token, title="Second")
    assert len(titles(sort="rating")) == 2
    assert titles(min_rating=4) == []
    assert review(token_for("student"), first["id"], rating=5).status == 201
    assert titles(sort="rating")[0] == "First"
    assert titles(min_rating=4) == ["First"]


def test_a_teacher_named_after_their_courses_were_cached_is_named_in_every_cached_answer(cached, course_db, token_for):
    ids = add_categories(course_db, "Music")
    teacher, other = Teacher(token_for), Teacher(token_for)
    course = new_course(teacher.token, title="Guitar", category_id=ids["Music"])
    other_course = new_course(other.token, title="Piano")

    def names() -> list:
        return [
            call(GET, {"course_id": course["id"]}).json()["teacher_name"],
            call(CURRICULUM, {"course_id": course["id"]}).json()["course"]["teacher_name"],
            *(item["teacher_name"] for item in call(LIST, query={"q": "guitar"}).json()["items"]),
            *(item["teacher_name"] for item in call(LIST, query={"category_id": ids["Music"]}).json()["items"]),
            {item["title"]: item["teacher_name"] for item in call(LIST, query={"sort": "popular"}).json()["items"]},
        ]

    assert names() == [None, None, None, None, {"Guitar": None, "Piano": None}]  # all cached now
    consume_registrations(user_registered(teacher.id, "Ada"))
    assert names() == ["Ada", "Ada", "Ada", "Ada", {"Guitar": "Ada", "Piano": None}]
    assert call(GET, {"course_id": other_course["id"]}).json()["title"] == "Piano"  # cached now
    behind_the_back(course_db, "UPDATE courses SET title = 'Changed' WHERE id = %s", other_course["id"])
    consume_registrations(user_registered(uuid.uuid4(), "A teacher without courses"))
    assert call(GET, {"course_id": other_course["id"]}).json()["title"] == "Piano"  # nothing invalidated
    consume_registrations(user_registered(teacher.id, "Ada"))  # redelivered: nothing invalidated either
    assert call(GET, {"course_id": other_course["id"]}).json()["title"] == "Piano"
