"""Every row of docs/api.md's course table, errors included, through the handlers; plus the internal functions."""

import threading
import uuid
from decimal import ROUND_HALF_UP, Decimal

import jwt
import psycopg
import pytest

from tests.support.databases import recorded_statements
from tests.support.lambda_events import FakeLambdaContext, call, envelope, sqs_event

from eduplatform.db import Database

LIST = "course.handlers.list_courses"
MY = "course.handlers.my_courses"
GET = "course.handlers.get_course"
CREATE = "course.handlers.create_course"
UPDATE = "course.handlers.update_course"
CURRICULUM = "course.handlers.get_curriculum"
CREATE_MODULE = "course.handlers.create_module"
UPDATE_MODULE = "course.handlers.update_module"
DELETE_MODULE = "course.handlers.delete_module"
CREATE_LESSON = "course.handlers.create_lesson"
GET_LESSON = "course.handlers.get_lesson"
UPDATE_LESSON = "course.handlers.update_lesson"
DELETE_LESSON = "course.handlers.delete_lesson"
CREATE_REVIEW = "course.handlers.create_review"
LIST_REVIEWS = "course.handlers.list_course_reviews"

COURSE_FIELDS = {
    "id",
    "teacher_id",
    "teacher_name",
    "title",
    "description",
    "is_free",
    "price",
    "duration_minutes",
    "level",
    "avg_rating",
    "review_count",
    "created_at",
    "category_id",
}
MODULE_FIELDS = {"id", "course_id", "title", "order", "created_at"}
LESSON_FIELDS = {
    "id",
    "module_id",
    "title",
    "content",
    "video_url",
    "duration_minutes",
    "order",
    "is_preview",
    "created_at",
}
REVIEW_FIELDS = {"id", "student_id", "course_id", "rating", "comment", "created_at"}


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


class Teacher:
    def __init__(self, token_for, verified: bool = True) -> None:
        self.id = uuid.uuid4()
        self.token = token_for("teacher", user_id=self.id, is_verified=verified)


@pytest.fixture
def teacher(token_for):
    return Teacher(token_for)


@pytest.fixture
def other_teacher(token_for):
    return Teacher(token_for)


@pytest.fixture
def student_token(token_for):
    return token_for("student")


def new_course(token: str, **fields) -> dict:
    body = {"title": "Python from scratch", "is_free": True, **fields}
    response = call(CREATE, body=body, token=token)
    assert response.status == 201, response.text
    return response.json()


def new_module(token: str, course_id: str, **fields) -> dict:
    response = call(CREATE_MODULE, {"course_id": course_id}, body={"title": "Basics", **fields}, token=token)
    assert response.status == 201, response.text
    return response.json()


def new_lesson(token: str, module_id: str, **fields) -> dict:
    response = call(CREATE_LESSON, {"module_id": module_id}, body={"title": "Variables", **fields}, token=token)
    assert response.status == 201, response.text
    return response.json()


def review(token: str, course_id: str, rating: int = 5, enrolled: bool = True, **fields):
    """POST /reviews; ``enrolled``: the token's user enrolled in the course first (as its event would say)."""
    if enrolled:
        enroll(student_of(token), str(course_id))
    return call(CREATE_REVIEW, body={"course_id": course_id, "rating": rating, **fields}, token=token)


def student_of(token: str) -> uuid.UUID:
    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sub"])


def role_tokens(token_for) -> dict[str, str]:
    return {
        "student": token_for("student"),
        "unverified teacher": token_for("teacher", is_verified=False),
        "admin": token_for("admin"),
    }


# ---- GET /courses ----------------------------------------------------------------------------------------------


def test_list_courses_is_public_newest_first_with_total(course_db, teacher):
    titles = [new_course(teacher.token, title=f"Course {index}")["title"] for index in range(3)]
    response = call(LIST)
    assert response.status == 200
    body = response.json()
    assert body["total"] == 3
    assert [item["title"] for item in body["items"]] == list(reversed(titles))
    assert set(body["items"][0]) == COURSE_FIELDS

    page = call(LIST, query={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [item["title"] for item in page["items"]] == ["Course 1"]


def test_list_courses_default_limit_is_20(course_db, teacher):
    with psycopg.connect(course_db) as conn:
        conn.execute(
            "INSERT INTO courses (teacher_id, title, is_free) SELECT %s, 'c' || i, true FROM generate_series(1, 25) i",
            (teacher.id,),
        )
    body = call(LIST).json()
    assert body["total"] == 25 and len(body["items"]) == 20


def test_search_matches_title_or_description_case_insensitively(course_db, teacher):
    new_course(teacher.token, title="Advanced PostgreSQL")
    new_course(teacher.token, title="Cooking", description="Sourdough and postgres-free recipes")
    new_course(teacher.token, title="Gardening", description="Tomatoes")
    body = call(LIST, query={"q": "POSTGRES"}).json()
    assert body["total"] == 2
    assert {item["title"] for item in body["items"]} == {"Advanced PostgreSQL", "Cooking"}
    assert call(LIST, query={"q": "grESql"}).json()["total"] == 1


def test_search_does_not_match_across_title_and_description(course_db, teacher):
    new_course(teacher.token, title="Python", description="Basics")
    assert call(LIST, query={"q": "on Ba"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("100%", {"100% pure"}),
        ("a_b", {"a_b"}),
        ("back\\slash", {"back\\slash"}),
        ("it's", {"it's"}),
        ("%", {"100% pure"}),
        ("_", {"a_b"}),
    ],
)
def test_search_treats_wildcards_and_quotes_literally(course_db, teacher, term, expected):
    for title in ["100% pure", "1000 pure", "a_b", "axb", "back\\slash", "backslash", "it's", "its"]:
        new_course(teacher.token, title=title)
    body = call(LIST, query={"q": term}).json()
    assert {item["title"] for item in body["items"]} == expected
    assert body["total"] == len(expected)


def test_blank_search_lists_everything(course_db, teacher):
    new_course(teacher.token)
    new_course(teacher.token, title="Other")
    assert call(LIST, query={"q": "   "}).json()["total"] == 2


@pytest.mark.parametrize(
    "query",
    [
        {"q": "x" * 201},
        {"q": "nul\x00byte"},
        {"q": "tab\tbed"},
        {"q": "unit\x1fsep"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"limit": "ten"},
    ],
)
def test_list_courses_bad_query_is_422(course_db, query):
    response = call(LIST, query=query)
    assert response.status == 422
    assert isinstance(response.json()["detail"], list)


def test_search_does_not_match_across_title_and_description(course_db, teacher):
    new_course(teacher.token, title="Deep Python", description="Basics first")
    assert call(LIST, query={"q": "python"}).json()["total"] == 1
    assert call(LIST, query={"q": "python basics"}).json()["total"] == 0


def test_catalogue_total_follows_inserts_deletes_and_truncation(course_db, teacher):
    for index in range(3):
        new_course(teacher.token, title=f"Course {index}")
    assert call(LIST).json()["total"] == 3
    with psycopg.connect(course_db, autocommit=True) as conn:
        conn.execute("DELETE FROM courses WHERE title = 'Course 1'")
        assert call(LIST).json()["total"] == 2
        conn.execute("TRUNCATE courses CASCADE")
        assert call(LIST).json()["total"] == 0
    new_course(teacher.token)
    assert call(LIST).json() | {"items": None} == {"items": None, "total": 1, "next_cursor": None}


# ---- GET /courses/my ---------------------------------------------------------------------------------------------


def test_my_courses_lists_only_the_callers_courses_newest_first(course_db, teacher, other_teacher):
    first = new_course(teacher.token, title="Mine 1")
    second = new_course(teacher.token, title="Mine 2")
    new_course(other_teacher.token, title="Theirs")
    body = call(MY, token=teacher.token).json()
    assert body["total"] == 2
    assert [item["id"] for item in body["items"]] == [second["id"], first["id"]]
    page = call(MY, token=teacher.token, query={"limit": 1, "offset": 1}).json()
    assert page == {"items": [first], "total": 2, "next_cursor": None}


def test_my_courses_of_an_unverified_teacher_is_an_empty_list(course_db, token_for):
    response = call(MY, token=token_for("teacher", is_verified=False))
    assert response.status == 200 and response.json() == {"items": [], "total": 0, "next_cursor": None}


def test_my_courses_needs_a_token(course_db):
    assert call(MY).status == 401


@pytest.mark.parametrize("role", ["student", "admin"])
def test_my_courses_is_for_teachers(course_db, token_for, role):
    response = call(MY, token=token_for(role))
    assert response.status == 403 and isinstance(response.json()["detail"], str)


def test_my_courses_bad_paging_is_422(course_db, teacher):
    assert call(MY, token=teacher.token, query={"limit": 500}).status == 422


# ---- GET /courses/{course_id} ----------------------------------------------------------------------------------------


def test_get_course_is_public(course_db, teacher):
    created = new_course(teacher.token, is_free=False, price="49.99", description="All of it")
    response = call(GET, {"course_id": created["id"]})
    assert response.status == 200 and response.json() == created


def test_get_unknown_course_is_404(course_db):
    response = call(GET, {"course_id": uuid.uuid4()})
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


def test_get_course_with_non_uuid_id_is_422(course_db):
    assert call(GET, {"course_id": "not-a-uuid"}).status == 422


# ---- POST /courses ---------------------------------------------------------------------------------------------------


def test_create_paid_course(course_db, teacher):
    response = call(
        CREATE,
        token=teacher.token,
        body={
            "title": "  Rust  ",
            "description": "Ownership",
            "is_free": False,
            "price": 49.99,
            "duration_minutes": 90,
            "level": "advanced",
            "unknown_field": "ignored",
        },
    )
    assert response.status == 201
    body = response.json()
    assert set(body) == COURSE_FIELDS
    assert body["teacher_id"] == str(teacher.id)
    assert body["title"] == "Rust" and body["description"] == "Ownership"
    assert body["is_free"] is False and body["price"] == "49.99"
    assert body["duration_minutes"] == 90 and body["level"] == "advanced"
    assert body["avg_rating"] is None and body["review_count"] == 0
    assert body["created_at"].endswith("+00:00")


def test_create_course_defaults(course_db, teacher):
    body = new_course(teacher.token)
    assert body["is_free"] is True and body["price"] is None and body["description"] is None
    assert body["duration_minutes"] == 0 and body["level"] == "beginner"


@pytest.mark.parametrize(("price", "expected"), [("19.5", "19.50"), (20, "20.00"), ("0.01", "0.01")])
def test_create_course_accepts_price_as_number_or_string(course_db, teacher, price, expected):
    assert new_course(teacher.token, is_free=False, price=price)["price"] == expected


def test_create_course_needs_a_token(course_db):
    assert call(CREATE, body={"title": "T", "is_free": True}).status == 401


@pytest.mark.parametrize(
    ("role", "verified", "detail"),
    [
        ("student", True, "Only teachers can create courses"),
        ("admin", True, "Only teachers can create courses"),
        ("teacher", False, "Only verified teachers can create courses"),
    ],
)
def test_create_course_is_for_verified_teachers(course_db, token_for, role, verified, detail):
    response = call(CREATE, body={"title": "T", "is_free": True}, token=token_for(role, is_verified=verified))
    assert response.status == 403 and response.json() == {"detail": detail}


@pytest.mark.parametrize(
    "body",
    [
        {"is_free": True},
        {"title": "", "is_free": True},
        {"title": "   ", "is_free": True},
        {"title": "x" * 501, "is_free": True},
        {"title": "T"},
        {"title": "T", "is_free": "yes"},
        {"title": "T", "is_free": False},
        {"title": "T", "is_free": False, "price": None},
        {"title": "T", "is_free": False, "price": 0},
        {"title": "T", "is_free": False, "price": "-5"},
        {"title": "T", "is_free": False, "price": "9.999"},
        {"title": "T", "is_free": False, "price": "a lot"},
        {"title": "T", "is_free": False, "price": "100000000.00"},
        {"title": "T", "is_free": True, "price": "10.00"},
        {"title": "T", "is_free": True, "duration_minutes": -1},
        {"title": "T", "is_free": True, "duration_minutes": 10**12},
        {"title": "T", "is_free": True, "duration_minutes": "ten"},
        {"title": "T", "is_free": True, "level": "expert"},
        {"title": "T", "is_free": True, "description": "x" * 10_001},
        {"title": "nul\x00", "is_free": True},
    ],
)
def test_create_course_invalid_body_is_422(course_db, teacher, body):
    response = call(CREATE, body=body, token=teacher.token)
    assert response.status == 422, response.text
    assert all({"loc", "msg", "type"} <= set(error) for error in response.json()["detail"])


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "null"])
def test_create_course_malformed_body_is_422(course_db, teacher, raw):
    assert call(CREATE, body=raw, token=teacher.token).status == 422


def test_title_of_500_characters_is_accepted(course_db, teacher):
    assert len(new_course(teacher.token, title="x" * 500)["title"]) == 500


# ---- PUT /courses/{course_id} --------------------------------------------------------------------------------------------


def test_update_course_changes_only_the_given_fields(course_db, teacher):
    created = new_course(teacher.token, description="Old", level="intermediate")
    response = call(
        UPDATE, {"course_id": created["id"]}, body={"title": "New title", "duration_minutes": 30}, token=teacher.token
    )
    assert response.status == 200
    body = response.json()
    assert body["title"] == "New title" and body["duration_minutes"] == 30
    assert (
        body["description"] == "Old" and body["level"] == "intermediate" and body["created_at"] == created["created_at"]
    )
    assert call(GET, {"course_id": created["id"]}).json() == body


def test_update_course_null_description_clears_it(course_db, teacher):
    created = new_course(teacher.token, description="Old")
    body = call(UPDATE, {"course_id": created["id"]}, body={"description": None}, token=teacher.token).json()
    assert body["description"] is None


def test_update_course_making_it_free_clears_the_price(course_db, teacher):
    created = new_course(teacher.token, is_free=False, price="10.00")
    body = call(UPDATE, {"course_id": created["id"]}, body={"is_free": True}, token=teacher.token).json()
    assert body["is_free"] is True and body["price"] is None


def test_update_course_making_it_paid_with_a_price(course_db, teacher):
    created = new_course(teacher.token)
    body = call(
        UPDATE, {"course_id": created["id"]}, body={"is_free": False, "price": "15"}, token=teacher.token
    ).json()
    assert body["is_free"] is False and body["price"] == "15.00"


def test_update_course_price_alone_on_a_paid_course(course_db, teacher):
    created = new_course(teacher.token, is_free=False, price="10.00")
    body = call(UPDATE, {"course_id": created["id"]}, body={"price": 12.5}, token=teacher.token).json()
    assert body["price"] == "12.50"


@pytest.mark.parametrize(
    ("initial", "change"),
    [
        ({}, {"is_free": False}),  # paid without a price
        ({}, {"price": "10.00"}),  # price on a free course
        ({"is_free": False, "price": "10.00"}, {"price": None}),  # paid course loses its price
        ({"is_free": False, "price": "10.00"}, {"is_free": True, "price": "10.00"}),
        ({}, {"title": None}),
        ({}, {"title": ""}),
        ({}, {"is_free": None}),
        ({}, {"level": "expert"}),
        ({}, {"duration_minutes": -1}),
    ],
)
def test_update_course_inconsistent_or_invalid_result_is_422(course_db, teacher, initial, change):
    created = new_course(teacher.token, **initial)
    response = call(UPDATE, {"course_id": created["id"]}, body=change, token=teacher.token)
    assert response.status == 422, response.text
    assert isinstance(response.json()["detail"], list)
    assert call(GET, {"course_id": created["id"]}).json() == created


def test_update_course_needs_a_token(course_db, teacher):
    created = new_course(teacher.token)
    assert call(UPDATE, {"course_id": created["id"]}, body={"title": "X"}).status == 401


def test_update_course_of_another_teacher_is_403(course_db, teacher, other_teacher):
    created = new_course(teacher.token)
    response = call(UPDATE, {"course_id": created["id"]}, body={"title": "Mine now"}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}
    assert call(GET, {"course_id": created["id"]}).json()["title"] == created["title"]


@pytest.mark.parametrize("who", ["student", "unverified teacher", "admin"])
def test_update_course_by_a_non_teacher_is_403(course_db, teacher, token_for, who):
    created = new_course(teacher.token)
    response = call(UPDATE, {"course_id": created["id"]}, body={"title": "X"}, token=role_tokens(token_for)[who])
    assert response.status == 403


def test_update_unknown_course_is_404(course_db, teacher):
    response = call(UPDATE, {"course_id": uuid.uuid4()}, body={"title": "X"}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


def test_update_course_with_non_uuid_id_is_422(course_db, teacher):
    assert call(UPDATE, {"course_id": "12"}, body={"title": "X"}, token=teacher.token).status == 422


# ---- GET /courses/{course_id}/curriculum -------------------------------------------------------------------------------------


def test_curriculum_orders_modules_and_lessons_by_order(course_db, teacher):
    course = new_course(teacher.token)
    second = new_module(teacher.token, course["id"], title="Second", order=5)
    first = new_module(teacher.token, course["id"], title="First", order=1)
    empty = new_module(teacher.token, course["id"], title="Last")  # default: after the last one
    assert empty["order"] == 6
    late = new_lesson(teacher.token, first["id"], title="Late", order=9)
    early = new_lesson(teacher.token, first["id"], title="Early", order=0)
    only = new_lesson(teacher.token, second["id"], title="Only")

    response = call(CURRICULUM, {"course_id": course["id"]})
    assert response.status == 200
    body = response.json()
    assert set(body) == {"course", "modules", "total_lessons"}
    assert body["course"] == course
    assert [module["title"] for module in body["modules"]] == ["First", "Second", "Last"]
    assert set(body["modules"][0]) == MODULE_FIELDS | {"lessons"}
    assert body["modules"][0]["lessons"] == [early, late]
    assert body["modules"][1]["lessons"] == [only]
    assert body["modules"][2]["lessons"] == []
    assert body["total_lessons"] == 3


def test_curriculum_of_a_course_without_modules(course_db, teacher):
    course = new_course(teacher.token)
    assert call(CURRICULUM, {"course_id": course["id"]}).json() == {"course": course, "modules": [], "total_lessons": 0}


def test_curriculum_of_unknown_course_is_404(course_db):
    response = call(CURRICULUM, {"course_id": uuid.uuid4()})
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


def test_curriculum_with_non_uuid_id_is_422(course_db):
    assert call(CURRICULUM, {"course_id": "x"}).status == 422


def _count_statements(monkeypatch, action) -> int:
    with recorded_statements(monkeypatch) as executed:
        action()
    return len(executed)


def test_curriculum_query_count_does_not_grow_with_modules_and_lessons(course_db, teacher, monkeypatch):
    small = new_course(teacher.token, title="Small")
    new_lesson(teacher.token, new_module(teacher.token, small["id"])["id"])
    large = new_course(teacher.token, title="Large")
    with psycopg.connect(course_db) as conn:
        conn.execute(
            "INSERT INTO modules (course_id, title, position) SELECT %s, 'm' || i, i FROM generate_series(1, 20) i",
            (large["id"],),
        )
        conn.execute(
            "INSERT INTO lessons (module_id, title, position) "
            "SELECT modules.id, 'l' || i, i FROM modules, generate_series(1, 5) i WHERE course_id = %s",
            (large["id"],),
        )
    assert call(CURRICULUM, {"course_id": large["id"]}).json()["total_lessons"] == 100  # warm connection

    small_count = _count_statements(monkeypatch, lambda: call(CURRICULUM, {"course_id": small["id"]}))
    large_count = _count_statements(monkeypatch, lambda: call(CURRICULUM, {"course_id": large["id"]}))
    assert small_count == large_count == 1


# ---- POST /courses/{course_id}/modules --------------------------------------------------------------------------------------------


def test_create_module_takes_the_next_position_by_default(course_db, teacher):
    course = new_course(teacher.token)
    response = call(CREATE_MODULE, {"course_id": course["id"]}, body={"title": "Intro"}, token=teacher.token)
    assert response.status == 201
    body = response.json()
    assert set(body) == MODULE_FIELDS
    assert body["course_id"] == course["id"] and body["title"] == "Intro" and body["order"] == 0
    assert new_module(teacher.token, course["id"])["order"] == 1
    assert new_module(teacher.token, course["id"], order=10)["order"] == 10
    assert new_module(teacher.token, course["id"])["order"] == 11


def test_create_module_needs_a_token(course_db, teacher):
    course = new_course(teacher.token)
    assert call(CREATE_MODULE, {"course_id": course["id"]}, body={"title": "M"}).status == 401


def test_create_module_in_another_teachers_course_is_403(course_db, teacher, other_teacher):
    course = new_course(teacher.token)
    response = call(CREATE_MODULE, {"course_id": course["id"]}, body={"title": "M"}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}


@pytest.mark.parametrize("who", ["student", "unverified teacher", "admin"])
def test_create_module_by_a_non_teacher_is_403(course_db, teacher, token_for, who):
    course = new_course(teacher.token)
    assert (
        call(CREATE_MODULE, {"course_id": course["id"]}, body={"title": "M"}, token=role_tokens(token_for)[who]).status
        == 403
    )


def test_create_module_in_unknown_course_is_404(course_db, teacher):
    response = call(CREATE_MODULE, {"course_id": uuid.uuid4()}, body={"title": "M"}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 501},
        {"title": "M", "order": -1},
        {"title": "M", "order": "first"},
        {"title": "M", "order": 1.5},
    ],
)
def test_create_module_invalid_body_is_422(course_db, teacher, body):
    course = new_course(teacher.token)
    assert call(CREATE_MODULE, {"course_id": course["id"]}, body=body, token=teacher.token).status == 422


# ---- PUT /modules/{module_id} ----------------------------------------------------------------------------------------------------


def test_update_module(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    response = call(UPDATE_MODULE, {"module_id": module["id"]}, body={"order": 7}, token=teacher.token)
    assert response.status == 200
    assert response.json() == {**module, "order": 7}
    renamed = call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": "Renamed"}, token=teacher.token).json()
    assert renamed == {**module, "order": 7, "title": "Renamed"}


def test_update_module_needs_a_token(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": "X"}).status == 401


def test_update_module_of_another_teacher_is_403(course_db, teacher, other_teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    response = call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": "X"}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}


def test_update_module_by_a_student_is_403(course_db, teacher, student_token):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": "X"}, token=student_token).status == 403


def test_update_unknown_module_is_404(course_db, teacher):
    response = call(UPDATE_MODULE, {"module_id": uuid.uuid4()}, body={"title": "X"}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Module not found"}


@pytest.mark.parametrize("body", [{"title": ""}, {"title": None}, {"order": None}, {"order": -3}])
def test_update_module_invalid_body_is_422(course_db, teacher, body):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(UPDATE_MODULE, {"module_id": module["id"]}, body=body, token=teacher.token).status == 422


def test_update_module_with_non_uuid_id_is_422(course_db, teacher):
    assert call(UPDATE_MODULE, {"module_id": "m1"}, body={"title": "X"}, token=teacher.token).status == 422


# ---- DELETE /modules/{module_id} ---------------------------------------------------------------------------------------------------


def test_delete_module_removes_its_lessons(course_db, teacher):
    course = new_course(teacher.token)
    doomed = new_module(teacher.token, course["id"])
    kept = new_module(teacher.token, course["id"], title="Kept")
    doomed_lessons = [new_lesson(teacher.token, doomed["id"], title=f"L{index}") for index in range(3)]
    kept_lesson = new_lesson(teacher.token, kept["id"])

    response = call(DELETE_MODULE, {"module_id": doomed["id"]}, token=teacher.token)
    assert response.status == 204 and response.text == ""

    for lesson in doomed_lessons:
        assert call(GET_LESSON, {"lesson_id": lesson["id"]}).status == 404
    curriculum = call(CURRICULUM, {"course_id": course["id"]}).json()
    assert [module["id"] for module in curriculum["modules"]] == [kept["id"]]
    assert curriculum["modules"][0]["lessons"] == [kept_lesson] and curriculum["total_lessons"] == 1
    with psycopg.connect(course_db) as conn:
        assert conn.execute("SELECT count(*) FROM lessons WHERE module_id = %s", (doomed["id"],)).fetchone()[0] == 0


def test_delete_module_needs_a_token(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(DELETE_MODULE, {"module_id": module["id"]}).status == 401


def test_delete_module_of_another_teacher_is_403(course_db, teacher, other_teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    response = call(DELETE_MODULE, {"module_id": module["id"]}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}
    assert call(DELETE_MODULE, {"module_id": module["id"]}, token=teacher.token).status == 204


def test_delete_module_by_a_student_is_403(course_db, teacher, student_token):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(DELETE_MODULE, {"module_id": module["id"]}, token=student_token).status == 403


def test_delete_unknown_module_is_404(course_db, teacher):
    response = call(DELETE_MODULE, {"module_id": uuid.uuid4()}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Module not found"}


# ---- POST /modules/{module_id}/lessons ------------------------------------------------------------------------------------------------


def test_create_lesson(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    response = call(
        CREATE_LESSON,
        {"module_id": module["id"]},
        token=teacher.token,
        body={
            "title": "Loops",
            "content": "for and while",
            "video_url": "https://videos.example.com/loops.mp4",
            "duration_minutes": 12,
        },
    )
    assert response.status == 201
    body = response.json()
    assert set(body) == LESSON_FIELDS
    assert body["module_id"] == module["id"] and body["title"] == "Loops" and body["content"] == "for and while"
    assert body["video_url"] == "https://videos.example.com/loops.mp4"
    assert body["duration_minutes"] == 12 and body["order"] == 0


def test_create_lesson_defaults_and_next_position(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    first = new_lesson(teacher.token, module["id"])
    assert first["content"] is None and first["video_url"] is None and first["duration_minutes"] == 0
    assert first["order"] == 0
    assert new_lesson(teacher.token, module["id"], order=4)["order"] == 4
    assert new_lesson(teacher.token, module["id"])["order"] == 5


def test_create_lesson_needs_a_token(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(CREATE_LESSON, {"module_id": module["id"]}, body={"title": "L"}).status == 401


def test_create_lesson_in_another_teachers_module_is_403(course_db, teacher, other_teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    response = call(CREATE_LESSON, {"module_id": module["id"]}, body={"title": "L"}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}


@pytest.mark.parametrize("who", ["student", "unverified teacher"])
def test_create_lesson_by_a_non_teacher_is_403(course_db, teacher, token_for, who):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert (
        call(CREATE_LESSON, {"module_id": module["id"]}, body={"title": "L"}, token=role_tokens(token_for)[who]).status
        == 403
    )


def test_create_lesson_in_unknown_module_is_404(course_db, teacher):
    response = call(CREATE_LESSON, {"module_id": uuid.uuid4()}, body={"title": "L"}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Module not found"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "L", "video_url": "not a url"},
        {"title": "L", "video_url": "ftp://example.com/v.mp4"},
        {"title": "L", "video_url": "javascript:alert(1)"},
        {"title": "L", "duration_minutes": -1},
        {"title": "L", "order": -1},
        {"title": "L", "content": 5},
    ],
)
def test_create_lesson_invalid_body_is_422(course_db, teacher, body):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    assert call(CREATE_LESSON, {"module_id": module["id"]}, body=body, token=teacher.token).status == 422


# ---- GET /lessons/{lesson_id} -----------------------------------------------------------------------------------------------------------


def test_get_lesson_is_public(course_db, teacher):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"], content="Text")
    response = call(GET_LESSON, {"lesson_id": lesson["id"]})
    assert response.status == 200 and response.json() == lesson


def enroll(student_id: uuid.UUID, course_id: str, event_id: str | None = None) -> None:
    """The course domain learns of an enrollment as enrollment publishes it: an EnrollmentCreated
    event (by default the one event of this student and course: enrolling again changes nothing)."""
    from course import enrollment_consumer

    body = envelope(
        "EnrollmentCreated",
        {
            "event_id": event_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{student_id}/{course_id}")),
            "user_id": str(student_id),
            "enrollment_id": str(uuid.uuid4()),
            "course_id": course_id,
            "payment_id": None,
        },
    )
    answer = enrollment_consumer.handler(sqs_event(body), FakeLambdaContext(function_name="course-enrollment-consumer"))
    assert answer == {"batchItemFailures": []}


class PaidCourse:
    """A paid course with a gated lesson and a preview lesson, and callers of every kind."""

    def __init__(self, teacher: Teacher, token_for) -> None:
        self.course = new_course(teacher.token, is_free=False, price="19.99")
        module = new_module(teacher.token, self.course["id"])
        self.gated = new_lesson(
            teacher.token, module["id"], title="Gated", content="Paid text", video_url="https://v.example.com/1"
        )
        self.preview = new_lesson(
            teacher.token,
            module["id"],
            title="Preview",
            content="Free text",
            video_url="https://v.example.com/2",
            is_preview=True,
        )
        self.student_id = uuid.uuid4()
        self.student = token_for("student", user_id=self.student_id)
        self.teacher = teacher.token


@pytest.fixture
def paid(course_db, teacher, token_for):
    return PaidCourse(teacher, token_for)


def test_create_lesson_is_not_a_preview_unless_asked(paid):
    assert paid.gated["is_preview"] is False and paid.preview["is_preview"] is True


def test_a_paid_lesson_is_401_anonymous_and_403_to_a_student_not_enrolled(paid, token_for):
    response = call(GET_LESSON, {"lesson_id": paid.gated["id"]})
    assert response.status == 401 and response.json() == {"detail": "Not authenticated"}
    response = call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=paid.student)
    assert response.status == 403 and response.json() == {"detail": "Enroll in this course to open its lessons"}
    other = token_for("teacher")
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=other).status == 403


def test_a_paid_lesson_opens_to_its_enrolled_student_teacher_and_admins(paid, token_for):
    enroll(paid.student_id, paid.course["id"])
    for token in (paid.student, paid.teacher, token_for("admin")):
        response = call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=token)
        assert response.status == 200 and response.json() == paid.gated
        assert response.headers["Cache-Control"] == "no-store"


def test_an_enrollment_in_another_course_opens_nothing(paid, teacher):
    enroll(paid.student_id, new_course(teacher.token, is_free=False, price="5.00")["id"])
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=paid.student).status == 403


def test_a_redelivered_enrollment_event_is_applied_once(paid, course_db):
    event_id = str(uuid.uuid4())
    enroll(paid.student_id, paid.course["id"], event_id)
    enroll(paid.student_id, paid.course["id"], event_id)
    with psycopg.connect(course_db) as conn:
        assert conn.execute("SELECT count(*) FROM course_enrollments").fetchone()[0] == 1
        assert conn.execute("SELECT enrollment_count FROM courses").fetchone()[0] == 1
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=paid.student).status == 200


def test_a_preview_lesson_of_a_paid_course_is_public(paid):
    response = call(GET_LESSON, {"lesson_id": paid.preview["id"]})
    assert response.status == 200 and response.json() == paid.preview
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_an_invalid_token_is_401_even_where_a_token_is_optional(paid):
    response = call(GET_LESSON, {"lesson_id": paid.preview["id"]}, token="not-a-token")
    assert response.status == 401


def test_making_a_course_free_opens_its_lessons_and_paid_again_closes_them(paid, teacher):
    assert call(UPDATE, {"course_id": paid.course["id"]}, body={"is_free": True}, token=teacher.token).status == 200
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}).status == 200
    body = {"is_free": False, "price": "9.00"}
    assert call(UPDATE, {"course_id": paid.course["id"]}, body=body, token=teacher.token).status == 200
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}).status == 401


def test_unmarking_a_preview_closes_it(paid, teacher):
    body = {"is_preview": False}
    response = call(UPDATE_LESSON, {"lesson_id": paid.preview["id"]}, body=body, token=teacher.token)
    assert response.status == 200 and response.json()["is_preview"] is False
    assert call(GET_LESSON, {"lesson_id": paid.preview["id"]}).status == 401


def _curriculum_lessons(token: str | None, course_id: str) -> dict[str, dict]:
    response = call(CURRICULUM, {"course_id": course_id}, token=token)
    assert response.status == 200
    return {lesson["title"]: lesson for module in response.json()["modules"] for lesson in module["lessons"]}


def test_curriculum_of_a_paid_course_is_the_outline_with_content_of_previews_only(paid):
    for token in (None, paid.student):
        lessons = _curriculum_lessons(token, paid.course["id"])
        assert lessons["Gated"] == {**paid.gated, "content": None, "video_url": None}
        assert lessons["Preview"] == paid.preview


def test_curriculum_of_a_paid_course_has_every_content_for_who_may_open_it(paid, token_for):
    enroll(paid.student_id, paid.course["id"])
    for token in (paid.student, paid.teacher, token_for("admin")):
        assert _curriculum_lessons(token, paid.course["id"]) == {"Gated": paid.gated, "Preview": paid.preview}
    assert _curriculum_lessons(None, paid.course["id"])["Gated"]["content"] is None  # still cut for anonymous


@pytest.mark.parametrize("body", [{"is_preview": "yes"}, {"is_preview": None}, {"is_preview": 1}])
def test_is_preview_must_be_a_boolean(paid, teacher, body):
    assert call(UPDATE_LESSON, {"lesson_id": paid.gated["id"]}, body=body, token=teacher.token).status == 422
    module_id = paid.gated["module_id"]
    if body["is_preview"] is not None:
        response = call(CREATE_LESSON, {"module_id": module_id}, body={"title": "X", **body}, token=teacher.token)
        assert response.status == 422


def test_get_unknown_lesson_is_404(course_db):
    response = call(GET_LESSON, {"lesson_id": uuid.uuid4()})
    assert response.status == 404 and response.json() == {"detail": "Lesson not found"}


def test_get_lesson_with_non_uuid_id_is_422(course_db):
    assert call(GET_LESSON, {"lesson_id": "lesson-1"}).status == 422


# ---- PUT /lessons/{lesson_id} ------------------------------------------------------------------------------------------------------------


def test_update_lesson_changes_only_the_given_fields(course_db, teacher):
    lesson = new_lesson(
        teacher.token,
        new_module(teacher.token, new_course(teacher.token)["id"])["id"],
        content="Old",
        video_url="http://example.com/v",
    )
    response = call(
        UPDATE_LESSON,
        {"lesson_id": lesson["id"]},
        token=teacher.token,
        body={"title": "New", "content": None, "duration_minutes": 3, "order": 2},
    )
    assert response.status == 200
    assert response.json() == {**lesson, "title": "New", "content": None, "duration_minutes": 3, "order": 2}
    assert call(GET_LESSON, {"lesson_id": lesson["id"]}).json() == response.json()


def test_update_lesson_needs_a_token(course_db, teacher):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    assert call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body={"title": "X"}).status == 401


def test_update_lesson_of_another_teacher_is_403(course_db, teacher, other_teacher):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    response = call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body={"title": "X"}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}


def test_update_lesson_by_a_student_is_403(course_db, teacher, student_token):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    assert call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body={"title": "X"}, token=student_token).status == 403


def test_update_unknown_lesson_is_404(course_db, teacher):
    response = call(UPDATE_LESSON, {"lesson_id": uuid.uuid4()}, body={"title": "X"}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Lesson not found"}


@pytest.mark.parametrize("body", [{"title": None}, {"video_url": "nope"}, {"duration_minutes": None}, {"order": -1}])
def test_update_lesson_invalid_body_is_422(course_db, teacher, body):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    assert call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body=body, token=teacher.token).status == 422


# ---- DELETE /lessons/{lesson_id} -----------------------------------------------------------------------------------------------------------


def test_delete_lesson(course_db, teacher):
    module = new_module(teacher.token, new_course(teacher.token)["id"])
    doomed = new_lesson(teacher.token, module["id"])
    kept = new_lesson(teacher.token, module["id"], title="Kept")
    response = call(DELETE_LESSON, {"lesson_id": doomed["id"]}, token=teacher.token)
    assert response.status == 204 and response.text == ""
    assert call(GET_LESSON, {"lesson_id": doomed["id"]}).status == 404
    assert call(GET_LESSON, {"lesson_id": kept["id"]}).status == 200


def test_delete_lesson_needs_a_token(course_db, teacher):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    assert call(DELETE_LESSON, {"lesson_id": lesson["id"]}).status == 401


def test_delete_lesson_of_another_teacher_is_403(course_db, teacher, other_teacher):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    response = call(DELETE_LESSON, {"lesson_id": lesson["id"]}, token=other_teacher.token)
    assert response.status == 403 and response.json() == {"detail": "Not the owner of this course"}
    assert call(GET_LESSON, {"lesson_id": lesson["id"]}).status == 200


def test_delete_lesson_by_a_student_is_403(course_db, teacher, student_token):
    lesson = new_lesson(teacher.token, new_module(teacher.token, new_course(teacher.token)["id"])["id"])
    assert call(DELETE_LESSON, {"lesson_id": lesson["id"]}, token=student_token).status == 403


def test_delete_unknown_lesson_is_404(course_db, teacher):
    response = call(DELETE_LESSON, {"lesson_id": uuid.uuid4()}, token=teacher.token)
    assert response.status == 404 and response.json() == {"detail": "Lesson not found"}


# ---- POST /reviews ------------------------------------------------------------------------------------------------------------------------


def test_create_review_updates_the_course_rating(course_db, teacher, token_for):
    course = new_course(teacher.token)
    student_id = uuid.uuid4()
    response = review(token_for("student", user_id=student_id), course["id"], rating=4, comment="Good")
    assert response.status == 201
    body = response.json()
    assert set(body) == REVIEW_FIELDS
    assert body["student_id"] == str(student_id) and body["course_id"] == course["id"]
    assert body["rating"] == 4 and body["comment"] == "Good" and body["created_at"].endswith("+00:00")
    after_one = call(GET, {"course_id": course["id"]}).json()
    assert after_one["avg_rating"] == 4 and after_one["review_count"] == 1

    assert review(token_for("student"), course["id"], rating=5).status == 201
    assert review(token_for("student"), course["id"], rating=5).status == 201
    after_three = call(GET, {"course_id": course["id"]}).json()
    assert after_three["avg_rating"] == 4.67 and after_three["review_count"] == 3


def test_create_review_needs_a_token(course_db, teacher):
    course = new_course(teacher.token)
    assert call(CREATE_REVIEW, body={"course_id": course["id"], "rating": 5}).status == 401


@pytest.mark.parametrize("role", ["teacher", "admin"])
def test_create_review_is_for_students(course_db, teacher, token_for, role):
    course = new_course(teacher.token)
    response = review(token_for(role), course["id"])
    assert response.status == 403 and response.json() == {"detail": "Only students can review courses"}


def test_create_review_by_a_student_not_enrolled_is_403_and_changes_nothing(course_db, teacher, token_for):
    course = new_course(teacher.token)
    other = new_course(teacher.token, title="Other")
    student = token_for("student")
    enroll(student_of(student), other["id"])  # enrolled elsewhere only
    response = review(student, course["id"], enrolled=False)
    assert response.status == 403 and response.json() == {"detail": "Enroll in this course to review it"}
    stored = call(GET, {"course_id": course["id"]}).json()
    assert stored["review_count"] == 0 and stored["avg_rating"] is None
    assert call(LIST_REVIEWS, {"course_id": course["id"]}).json()["items"] == []
    assert review(student, course["id"]).status == 201  # once enrolled


def test_create_review_of_unknown_course_is_404(course_db, student_token):
    response = review(student_token, str(uuid.uuid4()))
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


def test_second_review_by_the_same_student_is_409_and_changes_nothing(course_db, teacher, student_token):
    course = new_course(teacher.token)
    assert review(student_token, course["id"], rating=2).status == 201
    response = review(student_token, course["id"], rating=5)
    assert response.status == 409 and response.json() == {"detail": "You have already reviewed this course"}
    stored = call(GET, {"course_id": course["id"]}).json()
    assert stored["avg_rating"] == 2 and stored["review_count"] == 1
    assert call(LIST_REVIEWS, {"course_id": course["id"]}).json()["total"] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"course_id": None},
        {"course_id": "not-a-uuid"},
        {"rating": None},
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": 4.5},
        {"comment": "x" * 5_001},
    ],
)
def test_create_review_invalid_body_is_422(course_db, teacher, student_token, change):
    course = new_course(teacher.token)
    body = {
        key: value for key, value in {"course_id": course["id"], "rating": 5, **change}.items() if value is not None
    }
    response = call(CREATE_REVIEW, body=body, token=student_token)
    assert response.status == 422, response.text
    assert call(GET, {"course_id": course["id"]}).json()["review_count"] == 0


def test_concurrent_reviews_of_one_course_keep_count_and_average_exact(course_db, teacher, monkeypatch):
    """Reviews written at the same moment from separate connections, as separate Lambda instances would."""
    from course import service
    from course.schemas import ReviewCreate

    connections = threading.local()
    opened: list[Database] = []

    def per_thread_database() -> Database:
        if not hasattr(connections, "db"):
            connections.db = Database(course_db, name="course-thread")
            opened.append(connections.db)
        return connections.db

    monkeypatch.setattr(service, "database", per_thread_database)

    def write_review(start: threading.Barrier, course_id: uuid.UUID, rating: int, errors: list[BaseException]) -> None:
        try:
            start.wait()
            student_id = uuid.uuid4()
            with psycopg.connect(course_db, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO course_enrollments (student_id, course_id) VALUES (%s, %s)", (student_id, course_id)
                )
            service.create_review(student_id, ReviewCreate(course_id=course_id, rating=rating))
        except BaseException as exc:  # surfaced below, a thread cannot fail the test itself
            errors.append(exc)

    ratings = [5, 4, 1, 3, 5, 2, 4, 5]
    rounds = 3
    try:
        for _ in range(rounds):
            with psycopg.connect(course_db) as conn:
                course_id = conn.execute(
                    "INSERT INTO courses (teacher_id, title, is_free) VALUES (%s, 'Race', true) RETURNING id",
                    (teacher.id,),
                ).fetchone()[0]
            start = threading.Barrier(len(ratings))
            errors: list[BaseException] = []
            threads = [
                threading.Thread(target=write_review, args=(start, course_id, rating, errors)) for rating in ratings
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert not errors, errors
            with psycopg.connect(course_db) as conn:
                count, average = conn.execute(
                    "SELECT review_count, avg_rating FROM courses WHERE id = %s", (course_id,)
                ).fetchone()
            assert count == len(ratings)
            assert average == (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    finally:
        for database in opened:
            database.close()
    assert len(opened) == len(ratings) * rounds  # every thread really used its own connection


# ---- GET /reviews/course/{course_id} ---------------------------------------------------------------------------------------------------


def test_list_course_reviews_newest_first(course_db, teacher, token_for):
    course = new_course(teacher.token)
    other = new_course(teacher.token, title="Other")
    written = [
        review(token_for("student"), course["id"], rating=rating, comment=f"c{rating}").json() for rating in (3, 4, 5)
    ]
    review(token_for("student"), other["id"])
    response = call(LIST_REVIEWS, {"course_id": course["id"]})
    assert response.status == 200
    body = response.json()
    assert body == {"items": list(reversed(written)), "total": 3, "next_cursor": None}
    page = call(LIST_REVIEWS, {"course_id": course["id"]}, query={"limit": 1, "offset": 2}).json()
    assert page == {"items": [written[0]], "total": 3, "next_cursor": None}


def test_list_reviews_of_a_course_nobody_reviewed_is_empty(course_db):
    assert call(LIST_REVIEWS, {"course_id": uuid.uuid4()}).json() == {"items": [], "total": 0, "next_cursor": None}


@pytest.mark.parametrize(
    ("course_id", "query"), [("nope", {}), (uuid.uuid4(), {"limit": 0}), (uuid.uuid4(), {"offset": -2})]
)
def test_list_course_reviews_bad_input_is_422(course_db, course_id, query):
    assert call(LIST_REVIEWS, {"course_id": course_id}, query=query).status == 422


# ---- teachers' names, from identity's UserRegistered events --------------------------------------------------------------------


def user_registered(registered_id: uuid.UUID, name: str, role: str = "teacher", **overrides) -> dict:
    detail = {"event_id": str(uuid.uuid4()), "user_id": str(registered_id), "name": name, "role": role}
    return envelope("UserRegistered", {**detail, **overrides})


def consume_registrations(*bodies) -> dict:
    from course import teacher_consumer

    return teacher_consumer.handler(sqs_event(*bodies), FakeLambdaContext(function_name="course-teacher-consumer"))


def teacher_names(url: str) -> dict[uuid.UUID, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, name FROM teachers").fetchall())


def test_every_course_answer_names_its_teacher_once_their_registration_is_applied(course_db, teacher):
    course = new_course(teacher.token, title="Named later")
    module = new_module(teacher.token, course["id"])
    assert course["teacher_name"] is None  # the teacher's event has not been applied yet
    assert consume_registrations(user_registered(teacher.id, "Ada Lovelace")) == {"batchItemFailures": []}

    assert call(GET, {"course_id": course["id"]}).json()["teacher_name"] == "Ada Lovelace"
    assert call(CURRICULUM, {"course_id": course["id"]}).json()["course"]["teacher_name"] == "Ada Lovelace"
    assert [item["teacher_name"] for item in call(LIST).json()["items"]] == ["Ada Lovelace"]
    assert [item["teacher_name"] for item in call(LIST, query={"q": "named"}).json()["items"]] == ["Ada Lovelace"]
    assert call(LIST, query={"limit": 1}).json()["next_cursor"] is None
    assert [item["teacher_name"] for item in call(MY, token=teacher.token).json()["items"]] == ["Ada Lovelace"]
    updated = call(UPDATE, {"course_id": course["id"]}, body={"title": "Renamed"}, token=teacher.token).json()
    assert updated["teacher_name"] == "Ada Lovelace"
    assert new_course(teacher.token)["teacher_name"] == "Ada Lovelace"
    assert call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": "x"}, token=teacher.token).status == 200


def test_catalogue_pages_by_cursor_and_deep_offsets_name_each_teacher(course_db, token_for):
    teachers = [Teacher(token_for) for _ in range(3)]
    consume_registrations(*(user_registered(t.id, f"Teacher {i}") for i, t in enumerate(teachers[:2])))
    for i, t in enumerate(teachers):
        new_course(t.token, title=f"Course {i}")
    first = call(LIST, query={"limit": 2, "sort": "newest"}).json()
    after = call(LIST, query={"limit": 2, "cursor": first["next_cursor"]}).json()
    names = [item["teacher_name"] for item in first["items"] + after["items"]]
    assert names == [None, "Teacher 1", "Teacher 0"]
    assert [
        item["teacher_name"] for item in call(LIST, query={"with_total": "false", "limit": 5}).json()["items"]
    ] == names


def test_a_catalogue_page_names_its_teachers_in_its_one_statement(course_db, token_for, monkeypatch):
    for i in range(5):
        t = Teacher(token_for)
        consume_registrations(user_registered(t.id, f"Teacher {i}"))
        new_course(t.token, title=f"Course {i}")
    assert len(call(LIST).json()["items"]) == 5  # warm connection
    assert _count_statements(monkeypatch, lambda: call(LIST)) == 1
    assert _count_statements(monkeypatch, lambda: call(LIST, query={"sort": "rating", "offset": 1001})) == 1


def test_a_registration_is_applied_once_and_only_a_teachers(course_db, teacher):
    student_id, admin_id = uuid.uuid4(), uuid.uuid4()
    first = user_registered(teacher.id, "Grace Hopper")
    answer = consume_registrations(
        first,
        first,
        user_registered(teacher.id, "Another name"),
        user_registered(student_id, "A student", role="student"),
        user_registered(admin_id, "An admin", role="admin"),
    )
    assert answer == {"batchItemFailures": []}
    assert teacher_names(course_db) == {teacher.id: "Grace Hopper"}
    assert new_course(teacher.token)["teacher_name"] == "Grace Hopper"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "FORGED_SOURCE",
        "ENROLLMENT_CREATED",
        "NO_NAME",
        "EMPTY_NAME",
        "LONG_NAME",
        "NOT_A_UUID",
    ],
)
def test_a_registration_that_cannot_be_applied_is_reported_for_redelivery(course_db, teacher, body):
    some_id = uuid.uuid4()
    bodies = {
        "FORGED_SOURCE": envelope(
            "UserRegistered",
            {"event_id": str(uuid.uuid4()), "user_id": str(some_id), "name": "Forged", "role": "teacher"},
            source="eduplatform.course",
        ),
        "ENROLLMENT_CREATED": envelope(
            "EnrollmentCreated", {"event_id": str(uuid.uuid4()), "user_id": str(some_id), "course_id": str(some_id)}
        ),
        "NO_NAME": envelope(
            "UserRegistered", {"event_id": str(uuid.uuid4()), "user_id": str(some_id), "role": "teacher"}
        ),
        "EMPTY_NAME": user_registered(some_id, ""),
        "LONG_NAME": user_registered(some_id, "n" * 256),
        "NOT_A_UUID": user_registered(some_id, "Named", user_id="someone"),
    }
    event = sqs_event(bodies.get(body, body), user_registered(teacher.id, "Kept"))
    from course import teacher_consumer

    answer = teacher_consumer.handler(event, FakeLambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert teacher_names(course_db) == {teacher.id: "Kept"}


# ---- internal functions ------------------------------------------------------------------------------------------------------------------


def test_course_facts_of_a_paid_course_with_lessons(course_db, teacher):
    from course.internal import course_facts

    course = new_course(teacher.token, is_free=False, price="49.99")
    lesson_ids = set()
    for title in ("A", "B"):
        module = new_module(teacher.token, course["id"], title=title)
        lesson_ids.update(new_lesson(teacher.token, module["id"])["id"] for _ in range(2))
    facts = course_facts.handler({"course_id": course["id"]}, FakeLambdaContext())
    # One version for the course, one more per lesson added.
    assert facts == {
        "found": True,
        "course_id": course["id"],
        "teacher_id": str(teacher.id),
        "title": course["title"],
        "level": "beginner",
        "is_free": False,
        "price": "49.99",
        "total_lessons": 4,
        "version": 5,
        "lesson_ids": sorted(lesson_ids),
    }


def test_course_facts_of_a_free_course(course_db, teacher):
    from course.internal import course_facts

    course = new_course(teacher.token)
    facts = course_facts.handler({"course_id": course["id"]}, FakeLambdaContext())
    assert facts == {
        "found": True,
        "course_id": course["id"],
        "teacher_id": str(teacher.id),
        "title": course["title"],
        "level": "beginner",
        "is_free": True,
        "price": None,
        "total_lessons": 0,
        "version": 1,
        "lesson_ids": [],
    }


@pytest.mark.parametrize("event", [{"course_id": str(uuid.uuid4())}, {"course_id": "garbage"}, {"course_id": None}, {}])
def test_course_facts_not_found(course_db, event):
    from course.internal import course_facts

    assert course_facts.handler(event, FakeLambdaContext()) == {"found": False}
