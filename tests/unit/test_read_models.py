"""Event-carried state: the course domain's versioned facts events, and the read models
enrollment and payment keep from them (and from PaymentCompleted), with their one-call fallback."""

import uuid
from decimal import Decimal

import psycopg
import pytest

from tests.support.aws_fakes import aws, event_bus, facts  # noqa: F401 (fixtures)
from tests.support.lambda_events import FakeLambdaContext, call, envelope, sqs_event

from eduplatform.security import decode_token


def consume(domain, *envelopes):
    module = {"enrollment": "enrollment.read_model_consumer", "payment": "payment.read_model_consumer"}[domain]
    consumer = __import__(module, fromlist=["handler"])
    return consumer.handler(sqs_event(*envelopes), FakeLambdaContext(function_name=f"{domain}-read-model-consumer"))


def course_event(detail_type, course, **extra):
    return envelope(
        detail_type, {"event_id": str(uuid.uuid4()), "version": course["version"], "course": course, **extra}
    )


def paid(student_id, course_id, amount="49.99"):
    return envelope(
        "PaymentCompleted",
        {
            "event_id": str(uuid.uuid4()),
            "user_id": str(student_id),
            "payment_id": str(uuid.uuid4()),
            "course_id": course_id,
            "amount": amount,
        },
    )


def held_course(url, course_id):
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT is_free, price, total_lessons, version FROM course_facts WHERE course_id = %s", (course_id,)
        ).fetchone()
        lessons = (
            {str(r[0]) for r in conn.execute("SELECT lesson_id FROM course_lessons WHERE course_id = %s", (course_id,))}
            if "enrollment" in url
            else None
        )
    return row, lessons


@pytest.fixture
def student(token_for):
    token = token_for("student")
    return token, decode_token(token).user_id


def enroll(token, course_id, payment_id=None):
    body = {"course_id": course_id, **({"payment_id": payment_id} if payment_id else {})}
    return call("enrollment.handlers.enroll", body=body, token=token)


# ---- the course domain's events ------------------------------------------------------------------------------


def test_course_changes_publish_their_whole_facts_in_version_order(domain_database, event_bus, token_for):
    domain_database("course")
    teacher_id = uuid.uuid4()
    token = token_for("teacher", user_id=teacher_id)
    course = call(
        "course.handlers.create_course", token=token, body={"title": "Rust", "is_free": False, "price": "49.99"}
    ).json()
    call("course.handlers.update_course", {"course_id": course["id"]}, token=token, body={"price": "39.99"})
    module = call("course.handlers.create_module", {"course_id": course["id"]}, token=token, body={"title": "M"}).json()
    call("course.handlers.update_module", {"module_id": module["id"]}, token=token, body={"title": "M2"})
    lessons = [
        call("course.handlers.create_lesson", {"module_id": module["id"]}, token=token, body={"title": t}).json()
        for t in ("A", "B")
    ]
    call("course.handlers.update_lesson", {"lesson_id": lessons[0]["id"]}, token=token, body={"title": "A2"})
    call("course.handlers.delete_module", {"module_id": module["id"]}, token=token)

    published = [(e["detail-type"], e["source"], e["detail"]) for e in event_bus.relayed()]
    assert [(kind, detail["version"]) for kind, _, detail in published] == [
        ("CourseCreated", 1),
        ("CourseUpdated", 2),
        ("LessonCreated", 3),
        ("LessonCreated", 4),
        ("LessonDeleted", 5),
        ("LessonDeleted", 5),  # modules and lesson edits change no fact
    ]
    assert {source for _, source, _ in published} == {"eduplatform.course"}
    facts_by_version = {detail["version"]: detail["course"] for _, _, detail in published}
    assert facts_by_version[1] == {
        "course_id": course["id"],
        "teacher_id": str(teacher_id),
        "title": "Rust",
        "level": "beginner",
        "is_free": False,
        "price": "49.99",
        "total_lessons": 0,
        "version": 1,
        "lesson_ids": [],
    }
    assert facts_by_version[2]["price"] == "39.99"
    assert facts_by_version[4]["lesson_ids"] == sorted(lesson["id"] for lesson in lessons)
    assert facts_by_version[4]["total_lessons"] == 2
    assert facts_by_version[5]["lesson_ids"] == [] and facts_by_version[5]["total_lessons"] == 0
    assert published[2][2]["lesson_id"] == lessons[0]["id"]
    assert {detail["lesson_id"] for kind, _, detail in published if kind == "LessonDeleted"} == {
        lesson["id"] for lesson in lessons
    }
    assert len({detail["event_id"] for _, _, detail in published}) == len(published)


def test_a_refused_course_change_publishes_nothing(domain_database, event_bus, token_for):
    domain_database("course")
    owner, other = token_for("teacher"), token_for("teacher")
    course = call("course.handlers.create_course", token=owner, body={"title": "T", "is_free": True}).json()
    event_bus.relayed()
    assert (
        call("course.handlers.update_course", {"course_id": course["id"]}, token=other, body={"title": "X"}).status
        == 403
    )
    assert (
        call("course.handlers.update_course", {"course_id": course["id"]}, token=owner, body={"is_free": False}).status
        == 422
    )
    assert event_bus.relayed() == []


def test_course_facts_export_pages_in_id_order(domain_database, token_for):
    domain_database("course")
    from course.internal import course_facts_page

    token = token_for("teacher")
    ids = sorted(
        call("course.handlers.create_course", token=token, body={"title": f"C{i}", "is_free": True}).json()["id"]
        for i in range(5)
    )
    first = course_facts_page.handler({"after": None, "limit": 3}, FakeLambdaContext())
    assert [item["course_id"] for item in first["items"]] == ids[:3] and first["next"] == ids[2]
    second = course_facts_page.handler({"after": first["next"], "limit": 3}, FakeLambdaContext())
    assert [item["course_id"] for item in second["items"]] == ids[3:] and second["next"] is None
    assert course_facts_page.handler({"after": "nope", "limit": 3}, FakeLambdaContext()) == {
        "error": "after must be a UUID or null, limit an integer"
    }
    assert "error" in course_facts_page.handler({"limit": 100000}, FakeLambdaContext())


# ---- applying events ----------------------------------------------------------------------------------------------


def test_events_out_of_order_and_twice_leave_the_newest_version(domain_database, facts):
    url = domain_database("enrollment")
    course_id = facts.add_course(price="49.99", lessons=1)
    v1 = facts.facts_of(course_id)
    lesson = facts.add_lesson(course_id)
    v2 = facts.facts_of(course_id)
    v3 = facts.change_course(course_id, price="19.99")

    assert consume("enrollment", course_event("CourseUpdated", v3)) == {"batchItemFailures": []}
    # Older versions arriving late, and the newest again, change nothing.
    assert consume(
        "enrollment",
        course_event("LessonCreated", v2, lesson_id=lesson),
        course_event("CourseCreated", v1),
        course_event("CourseUpdated", v3),
    ) == {"batchItemFailures": []}
    row, lessons = held_course(url, course_id)
    assert row == (False, Decimal("19.99"), 2, 3)
    assert lessons == set(v3["lesson_ids"]) and lesson in lessons


def test_a_lesson_deleted_event_removes_the_lesson(domain_database, facts):
    url = domain_database("enrollment")
    course_id = facts.add_course(lessons=2)
    consume("enrollment", course_event("CourseCreated", facts.facts_of(course_id)))
    kept, gone = facts.lesson_ids(course_id)
    after = facts.change_course(course_id, lesson_ids=[kept])
    consume("enrollment", course_event("LessonDeleted", after, lesson_id=gone))
    row, lessons = held_course(url, course_id)
    assert lessons == {kept} and row[2] == 1


def test_payment_keeps_only_the_facts_it_needs(domain_database, facts):
    url = domain_database("payment")
    course_id = facts.add_course(price="10.00", lessons=3)
    consume("payment", course_event("CourseCreated", facts.facts_of(course_id)))
    assert held_course(url, course_id)[0] == (False, Decimal("10.00"), 3, 1)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"detail-type": "CourseCreated"},
        "UNKNOWN_TYPE",
        "MISSING_FIELDS",
    ],
)
def test_an_event_that_cannot_be_applied_is_reported_for_redelivery(domain_database, facts, body):
    domain_database("enrollment")
    course_id = facts.add_course()
    if body == "UNKNOWN_TYPE":
        body = envelope("UserRegistered", {"event_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())})
    elif body == "MISSING_FIELDS":
        body = envelope(
            "CourseCreated", {"event_id": str(uuid.uuid4()), "version": 1, "course": {"course_id": course_id}}
        )
    good = course_event("CourseCreated", facts.facts_of(course_id))
    event = sqs_event(body, good)
    from enrollment import read_model_consumer

    answer = read_model_consumer.handler(event, FakeLambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_a_payment_completed_from_any_source_but_payment_changes_nothing(domain_database, facts, student):
    url = domain_database("enrollment")
    token, student_id = student
    course_id = facts.add_course(price="49.99")
    forged = paid(student_id, course_id)
    forged["source"] = "eduplatform.enrollment"
    event = sqs_event(forged)
    from enrollment import read_model_consumer

    answer = read_model_consumer.handler(event, FakeLambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM completed_payments").fetchone()[0] == 0
    assert enroll(token, course_id, forged["detail"]["payment_id"]).status == 402


def test_an_empty_batch_is_a_no_op(domain_database):
    domain_database("payment")
    from payment import read_model_consumer

    assert read_model_consumer.handler({"Records": []}, FakeLambdaContext()) == {"batchItemFailures": []}


# ---- request paths: no call in the steady state, one when the read model has not seen it yet ------------------


def test_steady_state_enroll_pay_complete_and_progress_make_no_internal_call(
    domain_database, facts, event_bus, student
):
    token, student_id = student
    free = facts.add_course(lessons=2)
    paid_course = facts.add_course(price="49.99", lessons=1)
    payment = paid(student_id, paid_course)

    domain_database("payment")
    consume("payment", course_event("CourseCreated", facts.facts_of(paid_course)))
    assert (
        call("payment.handlers.create_payment", token=token, body={"course_id": paid_course, "amount": "49.99"}).status
        == 201
    )

    domain_database("enrollment")
    consume(
        "enrollment",
        course_event("CourseCreated", facts.facts_of(free)),
        course_event("CourseCreated", facts.facts_of(paid_course)),
        payment,
    )
    assert enroll(token, free).status == 201
    assert enroll(token, paid_course, payment["detail"]["payment_id"]).status == 201
    lesson = facts.lesson_ids(free)[0]
    assert (
        call("enrollment.handlers.complete_lesson", {"lesson_id": lesson}, body={"course_id": free}, token=token).status
        == 201
    )
    progress = call("enrollment.handlers.course_progress", {"course_id": free}, token=token).json()
    assert progress["completed_lessons"] == 1 and progress["total_lessons"] == 2
    assert facts.calls == []


def test_a_course_created_and_enrolled_in_within_the_same_second(domain_database, facts, event_bus, student):
    """The enrollment arrives before the CourseCreated event: one call, then the late event changes nothing."""
    url = domain_database("enrollment")
    course_id = facts.add_course(lessons=1)
    assert enroll(student[0], course_id).status == 201
    assert facts.calls_to("COURSE_FACTS_FUNCTION") == [{"course_id": course_id}]
    consume("enrollment", course_event("CourseCreated", facts.facts_of(course_id)))
    assert held_course(url, course_id)[0][3] == 1
    assert call("enrollment.handlers.course_progress", {"course_id": course_id}, token=student[0]).status == 200
    assert len(facts.calls) == 1


def test_a_payment_made_a_moment_ago_is_asked_once(domain_database, facts, event_bus, student):
    token, student_id = student
    domain_database("enrollment")
    course_id = facts.add_course(price="49.99")
    consume("enrollment", course_event("CourseCreated", facts.facts_of(course_id)))
    payment_id = facts.add_payment(student_id, course_id)
    assert enroll(token, course_id, payment_id).status == 201
    assert facts.calls_to("PAYMENT_FACTS_FUNCTION") == [{"payment_id": payment_id}]
    # The PaymentCompleted event arriving afterwards is already reflected.
    consume(
        "enrollment",
        envelope(
            "PaymentCompleted",
            {
                "event_id": str(uuid.uuid4()),
                "user_id": str(student_id),
                "payment_id": payment_id,
                "course_id": course_id,
                "amount": "49.99",
            },
        ),
    )
    assert len(facts.calls) == 1


def test_price_change_between_payment_and_enrollment(domain_database, facts, event_bus, student):
    """The rule: a completed payment for the course enrolls, whatever the price is now; a new
    payment must match the current price."""
    token, student_id = student
    course_id = facts.add_course(price="49.99")
    payment = paid(student_id, course_id, "49.99")
    raised = facts.change_course(course_id, price="59.99")

    domain_database("payment")
    consume("payment", course_event("CourseUpdated", raised))
    answer = call("payment.handlers.create_payment", token=token, body={"course_id": course_id, "amount": "49.99"})
    assert answer.status == 422 and answer.json() == {"detail": "Amount must equal the course price (59.99)"}

    domain_database("enrollment")
    consume("enrollment", course_event("CourseUpdated", raised), payment)
    assert enroll(token, course_id, payment["detail"]["payment_id"]).status == 201
    assert facts.calls == []


def test_a_course_unknown_to_everyone_is_404_after_one_call(domain_database, facts, event_bus, student):
    domain_database("enrollment")
    missing = str(uuid.uuid4())
    assert enroll(student[0], missing).status == 404
    assert facts.calls_to("COURSE_FACTS_FUNCTION") == [{"course_id": missing}]


# ---- rebuilding ---------------------------------------------------------------------------------------------------


def test_rebuild_fills_enrollment_read_models_page_by_page(domain_database, facts, monkeypatch):
    url = domain_database("enrollment")
    from eduplatform import read_models

    from enrollment.internal import rebuild_read_models

    monkeypatch.setattr(read_models, "COURSE_PAGE_SIZE", 2)
    courses = [facts.add_course(price="9.99" if i % 2 else None, lessons=i) for i in range(5)]
    student_id = uuid.uuid4()
    payments = [facts.add_payment(student_id, courses[1]), facts.add_payment(student_id, courses[3])]
    facts.add_payment(student_id, courses[3], status="pending")
    # A newer version already held is kept.
    facts.courses[courses[4]].update(version=9, price="1.00", is_free=False)
    newer = facts.facts_of(courses[4])
    consume("enrollment", course_event("CourseUpdated", newer))
    facts.courses[courses[4]].update(version=8, price=None, is_free=True)

    answers, after = [], None
    while True:
        answer = rebuild_read_models.handler({"model": "courses", "after": after}, FakeLambdaContext())
        answers.append(answer)
        after = answer["next"]
        if after is None:
            break
    assert [a["received"] for a in answers] == [2, 2, 1]
    assert sum(a["applied"] for a in answers) == 4
    payments_answer = rebuild_read_models.handler({"model": "payments", "after": None}, FakeLambdaContext())
    assert payments_answer == {"model": "payments", "received": 2, "applied": 2, "next": None}

    for course_id in courses[:4]:
        row, lessons = held_course(url, course_id)
        assert row[2] == len(facts.lesson_ids(course_id)) and lessons == set(facts.lesson_ids(course_id))
    assert held_course(url, courses[4])[0][3] == 9
    with psycopg.connect(url) as conn:
        held = {str(r[0]) for r in conn.execute("SELECT payment_id FROM completed_payments")}
    assert held == set(payments)


@pytest.mark.parametrize("event", [{}, {"model": "lessons"}, {"model": "courses", "after": "x"}])
def test_rebuild_refuses_a_malformed_request(domain_database, facts, event):
    domain_database("payment")
    from payment.internal import rebuild_read_models

    assert "error" in rebuild_read_models.handler(event, FakeLambdaContext())
    assert "error" in rebuild_read_models.handler({"model": "payments"}, FakeLambdaContext())
