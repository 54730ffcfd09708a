"""Every row of docs/api.md's enrollment and progress table, errors included."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.support.aws_fakes import aws, event_bus, facts  # noqa: F401 (fixtures)
from tests.support.databases import recorded_statements
from tests.support.lambda_events import call
from tests.support.list_cursors import assert_course_cursor_bound_to_its_filter

from eduplatform import cursors, db, read_models
from eduplatform.security import decode_token

ENROLL = "enrollment.handlers.enroll"
MINE = "enrollment.handlers.my_enrollments"
COUNT = "enrollment.handlers.enrollment_count"
COMPLETE = "enrollment.handlers.complete_lesson"
PROGRESS = "enrollment.handlers.course_progress"
COMPLETED = "enrollment.handlers.completed_lessons"


@pytest.fixture
def enrollment_db(domain_database, facts, event_bus):
    return domain_database("enrollment")


@pytest.fixture
def student(token_for):
    token = token_for("student")
    return token, decode_token(token).user_id


def enroll(token, course_id, payment_id=None):
    body = {"course_id": course_id}
    if payment_id is not None:
        body["payment_id"] = payment_id
    return call(ENROLL, body=body, token=token)


def complete(token, lesson_id, course_id):
    return call(COMPLETE, {"lesson_id": lesson_id}, body={"course_id": course_id}, token=token)


def status_of(url, enrollment_id):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status::text FROM enrollments WHERE id = %s", (enrollment_id,)).fetchone()[0]


# ---- POST /enrollments ---------------------------------------------------------------------------------


def test_enroll_in_a_free_course(enrollment_db, facts, student):
    token, student_id = student
    course_id = facts.add_course()
    response = enroll(token, course_id)
    assert response.status == 201
    body = response.json()
    assert set(body) == {"id", "student_id", "course_id", "payment_id", "status", "enrolled_at"}
    assert body["student_id"] == str(student_id) and body["course_id"] == course_id
    assert body["status"] == "enrolled" and body["payment_id"] is None
    assert body["enrolled_at"].endswith("+00:00")


def test_enroll_publishes_enrollment_created(enrollment_db, facts, event_bus, student):
    token, student_id = student
    course_id = facts.add_course()
    enrollment = enroll(token, course_id).json()
    (envelope,) = event_bus.relayed()
    assert envelope["source"] == "eduplatform.enrollment" and envelope["detail-type"] == "EnrollmentCreated"
    detail = envelope["detail"]
    assert detail["enrollment_id"] == enrollment["id"] and detail["course_id"] == course_id
    assert detail["user_id"] == str(student_id)
    uuid.UUID(detail["event_id"])


def test_enroll_in_a_paid_course_with_a_completed_payment(enrollment_db, facts, student):
    token, student_id = student
    course_id = facts.add_course(price="49.99")
    payment_id = facts.add_payment(student_id, course_id)
    response = enroll(token, course_id, payment_id)
    assert response.status == 201 and response.json()["payment_id"] == payment_id
    assert ("test-payment-facts", {"payment_id": payment_id}) in facts.calls


def test_enroll_in_a_free_course_records_no_payment(enrollment_db, facts, student):
    token, _student_id = student
    course_id = facts.add_course()
    assert enroll(token, course_id, str(uuid.uuid4())).json()["payment_id"] is None


def test_enroll_needs_a_token(enrollment_db, facts):
    assert call(ENROLL, body={"course_id": facts.add_course()}).status == 401


@pytest.mark.parametrize("role", ["teacher", "admin"])
def test_only_students_enroll(enrollment_db, facts, token_for, role):
    response = enroll(token_for(role), facts.add_course())
    assert response.status == 403 and response.json() == {"detail": "Only students can enroll in courses"}


def test_enroll_in_unknown_course_is_404(enrollment_db, facts, student):
    response = enroll(student[0], str(uuid.uuid4()))
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


def test_paid_course_without_payment_is_402(enrollment_db, facts, event_bus, student):
    response = enroll(student[0], facts.add_course(price="49.99"))
    assert response.status == 402
    assert response.json() == {"detail": "This course is paid: pay for it first and enroll with the payment_id"}
    assert event_bus.relayed() == []


@pytest.mark.parametrize("case", ["unknown", "someone_else", "other_course", "pending", "refunded"])
def test_paid_course_with_an_unusable_payment_is_402(enrollment_db, facts, student, case):
    token, student_id = student
    course_id = facts.add_course(price="49.99")
    payment_id = {
        "unknown": lambda: str(uuid.uuid4()),
        "someone_else": lambda: facts.add_payment(uuid.uuid4(), course_id),
        "other_course": lambda: facts.add_payment(student_id, facts.add_course(price="49.99")),
        "pending": lambda: facts.add_payment(student_id, course_id, status="pending"),
        "refunded": lambda: facts.add_payment(student_id, course_id, status="refunded"),
    }[case]()
    response = enroll(token, course_id, payment_id)
    assert response.status == 402
    assert response.json() == {"detail": "No completed payment of yours for this course has that payment_id"}


def test_enrolling_twice_is_409_and_publishes_once(enrollment_db, facts, event_bus, student):
    course_id = facts.add_course()
    assert enroll(student[0], course_id).status == 201
    response = enroll(student[0], course_id)
    assert response.status == 409 and response.json() == {"detail": "Already enrolled in this course"}
    assert len(event_bus.of_type("EnrollmentCreated")) == 1


@pytest.mark.parametrize("body", [{}, {"course_id": "x"}, {"course_id": str(uuid.uuid4()), "payment_id": "x"}, "{"])
def test_enroll_bad_body_is_422(enrollment_db, student, body):
    assert call(ENROLL, body=body, token=student[0]).status == 422


@pytest.mark.parametrize("dependency", ["test-course-facts", "test-payment-facts"])
def test_enroll_with_a_dependency_down_is_503(enrollment_db, facts, student, dependency):
    token, student_id = student
    course_id = facts.add_course(price="49.99")
    payment_id = facts.add_payment(student_id, course_id)
    facts.broken[dependency] = "error"
    response = enroll(token, course_id, payment_id)
    assert response.status == 503 and "unavailable" in response.json()["detail"]


# ---- GET /enrollments/me --------------------------------------------------------------------------------


def test_my_enrollments_newest_first_and_only_mine(enrollment_db, facts, student, token_for):
    courses = [facts.add_course() for _ in range(3)]
    ids = [enroll(student[0], course).json()["id"] for course in courses]
    enroll(token_for("student"), courses[0])
    body = call(MINE, token=student[0]).json()
    assert body["total"] == 3 and [item["id"] for item in body["items"]] == ids[::-1]
    page = call(MINE, token=student[0], query={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and [item["id"] for item in page["items"]] == [ids[0]]


def test_my_enrollments_carry_their_course_from_the_read_model(enrollment_db, facts, student):
    free = facts.add_course(title="Guitar", level="beginner")
    paid = facts.add_course(price="49.99", title="Rust", level="advanced")
    enroll(student[0], free)
    with psycopg.connect(enrollment_db, autocommit=True) as conn:  # paid: enrolled by an earlier payment
        conn.execute(
            "INSERT INTO course_facts (course_id, teacher_id, title, level, is_free, price, total_lessons, version) "
            "VALUES (%s, gen_random_uuid(), 'Rust', 'advanced', false, 49.99, 0, 1)",
            (paid,),
        )
        conn.execute("INSERT INTO enrollments (student_id, course_id) VALUES (%s, %s)", (student[1], paid))
    items = call(MINE, token=student[0]).json()["items"]
    assert [item["course"] for item in items] == [
        {"id": paid, "title": "Rust", "level": "advanced", "is_free": False},
        {"id": free, "title": "Guitar", "level": "beginner", "is_free": True},
    ]
    assert all(item["course_id"] == item["course"]["id"] for item in items)


def test_my_enrollments_are_one_statement_whatever_their_number(enrollment_db, facts, student, monkeypatch):
    for _ in range(5):
        enroll(student[0], facts.add_course())
    with recorded_statements(monkeypatch) as executed:
        body = call(MINE, token=student[0], query={"limit": 3}).json()
    assert len(body["items"]) == 3 and all(item["course"]["title"] == "A course" for item in body["items"])
    assert len([q for q in executed if "FROM enrollments" in q]) == 2  # the page, and its total
    assert not [q for q in executed if "course_facts" in q and "enrollments" not in q]  # no per-row lookups
    assert not [q for q in executed if "lesson_progress" in q and "enrollments" not in q]
    assert len(executed) <= 4  # the transaction's BEGIN and COMMIT at most, besides the two


def test_my_enrollments_carry_the_progress_of_get_progress(enrollment_db, facts, student):
    three, none, done = facts.add_course(lessons=3), facts.add_course(lessons=0), facts.add_course(lessons=1)
    for course_id in (three, none, done):
        enroll(student[0], course_id)
    complete(student[0], facts.lesson_ids(three)[0], three)
    complete(student[0], facts.lesson_ids(done)[0], done)
    items = {item["course_id"]: item for item in call(MINE, token=student[0]).json()["items"]}
    for course_id in (three, none, done):
        progress = call(PROGRESS, {"course_id": course_id}, token=student[0]).json()
        assert items[course_id]["progress"] == {k: v for k, v in progress.items() if k != "course_id"}
    assert items[three]["progress"] == {"completed_lessons": 1, "total_lessons": 3, "percentage": 33.3}
    assert items[none]["progress"] == {"completed_lessons": 0, "total_lessons": 0, "percentage": 0.0}
    assert items[done]["progress"] == {"completed_lessons": 1, "total_lessons": 1, "percentage": 100.0}
    assert items[done]["status"] == "completed"


def test_my_enrollment_progress_stops_at_100_when_completed_lessons_were_deleted(enrollment_db, facts, student):
    course_id = facts.add_course(lessons=2)
    enroll(student[0], course_id)
    for lesson_id in facts.lesson_ids(course_id):
        complete(student[0], lesson_id, course_id)
    with psycopg.connect(enrollment_db, autocommit=True) as conn:
        conn.execute("UPDATE course_facts SET total_lessons = 1")
    (item,) = call(MINE, token=student[0]).json()["items"]
    assert item["progress"] == {"completed_lessons": 2, "total_lessons": 1, "percentage": 100.0}


def test_my_enrollment_in_one_course(enrollment_db, facts, student, token_for):
    wanted, other = facts.add_course(lessons=2), facts.add_course()
    mine = enroll(student[0], wanted).json()
    enroll(student[0], other)
    enroll(token_for("student"), wanted)
    complete(student[0], facts.lesson_ids(wanted)[0], wanted)
    body = call(MINE, token=student[0], query={"course_id": wanted}).json()
    assert body["total"] == 1 and body["next_cursor"] is None
    (item,) = body["items"]
    assert item["id"] == mine["id"] and item["course_id"] == wanted
    assert item["progress"] == {"completed_lessons": 1, "total_lessons": 2, "percentage": 50.0}


def test_my_enrollment_in_a_course_i_am_not_enrolled_in_is_an_empty_page(enrollment_db, facts, student, token_for):
    course_id = facts.add_course()
    enroll(token_for("student"), course_id)
    for course in (course_id, str(uuid.uuid4())):
        assert call(MINE, token=student[0], query={"course_id": course}).json() == {
            "items": [],
            "total": 0,
            "next_cursor": None,
        }


def test_my_enrollment_in_one_course_is_one_statement(enrollment_db, facts, student, monkeypatch):
    courses = [facts.add_course() for _ in range(3)]
    for course_id in courses:
        enroll(student[0], course_id)
    with recorded_statements(monkeypatch) as executed:
        body = call(MINE, token=student[0], query={"course_id": courses[1], "limit": 5}).json()
    assert [item["course_id"] for item in body["items"]] == [courses[1]]
    assert len([q for q in executed if "FROM enrollments" in q]) == 2  # the page, and its total
    assert len(executed) <= 4


def test_my_enrollment_course_id_must_be_a_uuid(enrollment_db, student):
    response = call(MINE, token=student[0], query={"course_id": "not-a-uuid"})
    assert response.status == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "course_id"] and "UUID" in error["msg"]


def test_my_enrollment_in_one_course_takes_only_a_cursor_bound_to_that_course(enrollment_db, facts, student, token_for):
    token, student_id = student
    wanted, other = facts.add_course(), facts.add_course()
    mine = enroll(token, wanted).json()
    for course_id in (other, facts.add_course()):
        enroll(token, course_id)
    unfiltered = call(MINE, token=token, query={"limit": 2}).json()["next_cursor"]
    # A course's list holds one enrollment at most, so it never hands out a next_cursor: this one is signed
    # as GET /enrollments/me signs it, after a time later than every enrollment (the list is newest first).
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    in_course = cursors.encode(
        cursors.fingerprint("GET /enrollments/me", {"student_id": student_id, "course_id": uuid.UUID(wanted)}),
        [later, uuid.uuid4()],
    )
    accepted = call(MINE, token=token, query={"limit": 2, "course_id": wanted, "cursor": in_course})
    assert accepted.status == 200 and [item["id"] for item in accepted.json()["items"]] == [mine["id"]]
    assert_course_cursor_bound_to_its_filter(MINE, token, token_for("student"), wanted, other, in_course, unfiltered)


def test_a_course_the_read_model_holds_without_a_title_is_asked_once_and_kept(enrollment_db, facts, student):
    course_id = facts.add_course(title="Piano", level="intermediate")
    enroll(student[0], course_id)
    with psycopg.connect(enrollment_db, autocommit=True) as conn:  # kept before the facts carried titles
        conn.execute("UPDATE course_facts SET title = NULL, level = NULL")
    item = call(MINE, token=student[0]).json()["items"][0]
    assert item["course"] == {"id": course_id, "title": "Piano", "level": "intermediate", "is_free": True}
    with psycopg.connect(enrollment_db) as conn:
        assert conn.execute("SELECT title, level FROM course_facts").fetchone() == ("Piano", "intermediate")


@pytest.mark.parametrize("role", ["teacher", "admin"])
def test_my_enrollments_any_role(enrollment_db, token_for, role):
    assert call(MINE, token=token_for(role)).json() == {"items": [], "total": 0, "next_cursor": None}


def test_my_enrollments_needs_a_token(enrollment_db):
    assert call(MINE).status == 401


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_my_enrollments_bad_paging_is_422(enrollment_db, student, query):
    assert call(MINE, token=student[0], query=query).status == 422


# ---- GET /enrollments/course/{course_id}/count -------------------------------------------------------------


def test_count_is_public(enrollment_db, facts, token_for):
    course_id = facts.add_course()
    for _ in range(3):
        enroll(token_for("student"), course_id)
    enroll(token_for("student"), facts.add_course())
    response = call(COUNT, {"course_id": course_id})
    assert response.status == 200 and response.json() == {"course_id": course_id, "count": 3}
    other = str(uuid.uuid4())
    assert call(COUNT, {"course_id": other}).json() == {"course_id": other, "count": 0}


def test_count_non_uuid_is_422(enrollment_db):
    assert call(COUNT, {"course_id": "abc"}).status == 422


# ---- POST /progress/lessons/{lesson_id}/complete ----------------------------------------------------------


def test_completing_lessons_moves_the_enrollment_to_in_progress_then_completed(enrollment_db, facts, student):
    token, _ = student
    course_id = facts.add_course(lessons=2)
    first, second = facts.lesson_ids(course_id)
    enrollment_id = enroll(token, course_id).json()["id"]

    response = complete(token, first, course_id)
    assert response.status == 201
    body = response.json()
    assert set(body) == {"id", "lesson_id", "course_id", "completed_at"}
    assert body["lesson_id"] == first and body["course_id"] == course_id and body["completed_at"].endswith("+00:00")
    assert status_of(enrollment_db, enrollment_id) == "in_progress"

    assert complete(token, second, course_id).status == 201
    assert status_of(enrollment_db, enrollment_id) == "completed"
    assert call(MINE, token=token).json()["items"][0]["status"] == "completed"


def test_a_one_lesson_course_completes_at_once(enrollment_db, facts, student):
    course_id = facts.add_course(lessons=1)
    enrollment_id = enroll(student[0], course_id).json()["id"]
    complete(student[0], facts.lesson_ids(course_id)[0], course_id)
    assert status_of(enrollment_db, enrollment_id) == "completed"


def test_a_lesson_added_after_enrolling_is_learnt_from_the_course_domain_once(enrollment_db, facts, student):
    course_id = facts.add_course(lessons=2)
    enroll(student[0], course_id)  # the read model learns the course (version 1) by its one fallback call
    assert len(facts.calls_to("COURSE_FACTS_FUNCTION")) == 1
    new_lesson = facts.add_lesson(course_id)  # version 2, its event not delivered yet
    assert complete(student[0], new_lesson, course_id).status == 201
    assert len(facts.calls_to("COURSE_FACTS_FUNCTION")) == 2
    progress = call(PROGRESS, {"course_id": course_id}, token=student[0]).json()
    assert progress["total_lessons"] == 3 and progress["completed_lessons"] == 1
    assert complete(student[0], facts.lesson_ids(course_id)[0], course_id).status == 201
    assert len(facts.calls_to("COURSE_FACTS_FUNCTION")) == 2  # known lessons ask nobody


def test_completing_a_lesson_twice_is_409(enrollment_db, facts, student):
    course_id = facts.add_course(lessons=2)
    lesson_id = facts.lesson_ids(course_id)[0]
    enroll(student[0], course_id)
    assert complete(student[0], lesson_id, course_id).status == 201
    response = complete(student[0], lesson_id, course_id)
    assert response.status == 409 and response.json() == {"detail": "Lesson already completed"}


def test_complete_needs_a_token(enrollment_db, facts):
    course_id = facts.add_course()
    assert call(COMPLETE, {"lesson_id": facts.add_lesson(course_id)}, body={"course_id": course_id}).status == 401


@pytest.mark.parametrize("role", ["teacher", "admin"])
def test_only_students_complete_lessons(enrollment_db, facts, token_for, role):
    course_id = facts.add_course()
    response = complete(token_for(role), facts.add_lesson(course_id), course_id)
    assert response.status == 403 and response.json() == {"detail": "Only students can complete lessons"}


def test_complete_without_enrollment_is_403(enrollment_db, facts, student, token_for):
    course_id = facts.add_course()
    enroll(token_for("student"), course_id)
    response = complete(student[0], facts.add_lesson(course_id), course_id)
    assert response.status == 403 and response.json() == {"detail": "You are not enrolled in this course"}


@pytest.mark.parametrize("lesson", ["unknown", "of_another_course"])
def test_lesson_not_in_that_course_is_404(enrollment_db, facts, student, lesson):
    course_id = facts.add_course()
    enroll(student[0], course_id)
    lesson_id = str(uuid.uuid4()) if lesson == "unknown" else facts.add_lesson(facts.add_course())
    response = complete(student[0], lesson_id, course_id)
    assert response.status == 404 and response.json() == {"detail": "Lesson not found in this course"}


@pytest.mark.parametrize("body", [{}, {"course_id": "x"}])
def test_complete_bad_body_is_422(enrollment_db, facts, student, body):
    assert call(COMPLETE, {"lesson_id": uuid.uuid4()}, body=body, token=student[0]).status == 422


def test_complete_non_uuid_lesson_is_422(enrollment_db, facts, student):
    assert complete(student[0], "lesson-1", facts.add_course()).status == 422


def test_course_service_down_while_a_new_lesson_is_unknown_is_503(enrollment_db, facts, student):
    course_id = facts.add_course(lessons=1)
    enroll(student[0], course_id)
    lesson_id = facts.add_lesson(course_id)  # not in the read model yet: needs the course domain
    facts.broken["test-course-facts"] = "unreachable"
    assert complete(student[0], lesson_id, course_id).status == 503
    # A lesson the read model holds needs nobody.
    assert complete(student[0], facts.lesson_ids(course_id)[0], course_id).status == 201


def test_concurrent_completions_of_the_last_lessons_complete_the_enrollment(enrollment_db, facts, student, monkeypatch):
    """Two lessons finished at the same moment: the row lock makes the later one see both."""
    token, student_id = student
    course_id = facts.add_course(lessons=2)
    lessons = facts.lesson_ids(course_id)
    enrollment_id = enroll(token, course_id).json()["id"]

    from enrollment import service

    barrier = threading.Barrier(2)
    statuses = []
    # Each thread gets its own connection, as two function instances would.
    per_thread = threading.local()
    connections = []

    def thread_database():
        if not hasattr(per_thread, "database"):
            per_thread.database = db.Database(enrollment_db, name="thread")
            connections.append(per_thread.database)
        return per_thread.database

    monkeypatch.setattr(service, "database", thread_database)
    monkeypatch.setattr(read_models, "database", thread_database)

    def finish(lesson_id):
        barrier.wait()
        statuses.append(service.complete_lesson(student_id, uuid.UUID(lesson_id), uuid.UUID(course_id)))

    threads = [threading.Thread(target=finish, args=(lesson,)) for lesson in lessons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for database in connections:
        database.close()
    assert len(statuses) == 2
    assert status_of(enrollment_db, enrollment_id) == "completed"


# ---- GET /progress/courses/{course_id} ---------------------------------------------------------------------


def test_progress_counts_completed_lessons_against_the_course_total(enrollment_db, facts, student):
    course_id = facts.add_course(lessons=3)
    enroll(student[0], course_id)
    complete(student[0], facts.lesson_ids(course_id)[0], course_id)
    response = call(PROGRESS, {"course_id": course_id}, token=student[0])
    assert response.status == 200
    assert response.json() == {"course_id": course_id, "completed_lessons": 1, "total_lessons": 3, "percentage": 33.3}


def test_progress_of_a_course_without_lessons_is_zero(enrollment_db, facts, token_for):
    course_id = facts.add_course(lessons=0)
    body = call(PROGRESS, {"course_id": course_id}, token=token_for("teacher")).json()
    assert body == {"course_id": course_id, "completed_lessons": 0, "total_lessons": 0, "percentage": 0.0}


def test_progress_of_unknown_course_is_404(enrollment_db, facts, student):
    response = call(PROGRESS, {"course_id": uuid.uuid4()}, token=student[0])
    assert response.status == 404 and response.json() == {"detail": "Course not found"}


def test_progress_needs_a_token(enrollment_db, facts):
    assert call(PROGRESS, {"course_id": facts.add_course()}).status == 401


def test_progress_non_uuid_is_422(enrollment_db, student):
    assert call(PROGRESS, {"course_id": "x"}, token=student[0]).status == 422


# ---- GET /progress/courses/{course_id}/lessons --------------------------------------------------------------


def test_completed_lesson_ids(enrollment_db, facts, student, token_for):
    course_id = facts.add_course(lessons=3)
    lessons = facts.lesson_ids(course_id)
    enroll(student[0], course_id)
    for lesson_id in lessons[:2]:
        complete(student[0], lesson_id, course_id)
    response = call(COMPLETED, {"course_id": course_id}, token=student[0])
    assert response.status == 200
    body = response.json()
    assert body["course_id"] == course_id and sorted(body["completed_lesson_ids"]) == sorted(lessons[:2])
    assert call(COMPLETED, {"course_id": course_id}, token=token_for("admin")).json()["completed_lesson_ids"] == []


def test_completed_lessons_needs_a_token_and_a_uuid(enrollment_db, student):
    assert call(COMPLETED, {"course_id": uuid.uuid4()}).status == 401
    assert call(COMPLETED, {"course_id": "x"}, token=student[0]).status == 422
