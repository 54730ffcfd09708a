"""Every row of docs/api.md's payment table, errors included, plus the payment_facts internal function."""

import json
import uuid

import psycopg
import pytest

from tests.support.aws_fakes import aws, event_bus, facts, idempotency_table  # noqa: F401 (fixtures)
from tests.support.lambda_events import FakeLambdaContext, call
from tests.support.list_cursors import assert_course_cursor_bound_to_its_filter
from tests.unit.test_catalogue_cursors import paged

from eduplatform.security import decode_token

CREATE = "payment.handlers.create_payment"
MINE = "payment.handlers.my_payments"
GET = "payment.handlers.get_payment"


@pytest.fixture
def payment_db(domain_database, facts, event_bus, idempotency_table):
    return domain_database("payment")


def pay(token, course_id, amount="49.99", key=None):
    headers = {"Idempotency-Key": key} if key is not None else None
    return call(CREATE, body={"course_id": course_id, "amount": amount}, token=token, headers=headers)


def payment_rows(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, student_id, amount, status::text FROM payments").fetchall()


# ---- POST /payments --------------------------------------------------------------------------------


def test_pay_for_a_paid_course_completes_at_once(payment_db, facts, event_bus, token_for):
    course_id = facts.add_course(price="49.99")
    token = token_for("student")
    response = pay(token, course_id)
    assert response.status == 201
    body = response.json()
    assert set(body) == {"id", "student_id", "course_id", "amount", "status", "created_at"}
    assert body["status"] == "completed" and body["amount"] == "49.99" and body["course_id"] == course_id
    assert body["student_id"] == str(decode_token(token).user_id)
    assert body["created_at"].endswith("+00:00")
    assert len(payment_rows(payment_db)) == 1


def test_pay_publishes_payment_completed_after_commit(payment_db, facts, event_bus, token_for):
    course_id = facts.add_course(price="10.00")
    token = token_for("student")
    payment = pay(token, course_id, amount=10).json()
    (envelope,) = event_bus.relayed()
    assert envelope["source"] == "eduplatform.payment" and envelope["detail-type"] == "PaymentCompleted"
    detail = envelope["detail"]
    assert detail["payment_id"] == payment["id"] and detail["course_id"] == course_id and detail["amount"] == "10.00"
    assert detail["user_id"] == str(decode_token(token).user_id)
    uuid.UUID(detail["event_id"])


@pytest.mark.parametrize("amount", [49.99, "49.99", "49.990"])
def test_amount_may_be_a_number_or_a_string(payment_db, facts, token_for, amount):
    course_id = facts.add_course(price="49.99")
    assert pay(token_for("student"), course_id, amount=amount).status == 201


def test_pay_needs_a_token(payment_db, facts):
    assert call(CREATE, body={"course_id": facts.add_course(price="1.00"), "amount": "1.00"}).status == 401


@pytest.mark.parametrize("role", ["teacher", "admin"])
def test_only_students_pay(payment_db, facts, token_for, role):
    response = pay(token_for(role), facts.add_course(price="49.99"))
    assert response.status == 403 and response.json() == {"detail": "Only students can make payments"}


def test_pay_for_unknown_course_is_404(payment_db, facts, token_for):
    response = pay(token_for("student"), str(uuid.uuid4()))
    assert response.status == 404 and response.json() == {"detail": "Course not found"}
    assert payment_rows(payment_db) == []


def test_pay_for_free_course_is_409(payment_db, facts, token_for):
    response = pay(token_for("student"), facts.add_course(price=None), amount="1.00")
    assert response.status == 409 and response.json() == {"detail": "Course is free, no payment is needed"}


@pytest.mark.parametrize("amount", ["49.98", "50", "100.00"])
def test_amount_other_than_the_price_is_422(payment_db, facts, event_bus, token_for, amount):
    response = pay(token_for("student"), facts.add_course(price="49.99"), amount=amount)
    assert response.status == 422
    assert response.json() == {"detail": "Amount must equal the course price (49.99)"}
    assert payment_rows(payment_db) == [] and event_bus.relayed() == []


@pytest.mark.parametrize("amount", [0, "0.00", -5, "-49.99", "49.999", "abc", None, "NaN", "Infinity"])
def test_invalid_amount_is_a_validation_422(payment_db, facts, token_for, amount):
    response = pay(token_for("student"), facts.add_course(price="49.99"), amount=amount)
    assert response.status == 422
    assert any(error["loc"][-1] == "amount" for error in response.json()["detail"])


@pytest.mark.parametrize("body", [{"amount": "1.00"}, {"course_id": "nope", "amount": "1.00"}, "{bad json"])
def test_bad_body_is_422(payment_db, token_for, body):
    assert call(CREATE, body=body, token=token_for("student")).status == 422


def test_course_service_failure_is_503_not_500(payment_db, facts, token_for):
    facts.broken["test-course-facts"] = "error"
    response = pay(token_for("student"), facts.add_course(price="49.99"))
    assert response.status == 503 and response.json() == {
        "detail": "The course service is unavailable, try again later"
    }


def test_unreachable_course_service_is_503(payment_db, facts, token_for):
    facts.broken["test-course-facts"] = "unreachable"
    assert pay(token_for("student"), facts.add_course(price="49.99")).status == 503


# ---- Idempotency-Key ---------------------------------------------------------------------------------


def test_same_key_and_body_returns_the_first_payment_and_creates_nothing(payment_db, facts, event_bus, token_for):
    course_id = facts.add_course(price="49.99")
    token = token_for("student")
    first = pay(token, course_id, key="order-1")
    again = pay(token, course_id, amount=49.99, key="order-1")
    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert len(payment_rows(payment_db)) == 1
    assert len(event_bus.of_type("PaymentCompleted")) == 1


def test_same_key_with_another_body_is_refused(payment_db, facts, token_for):
    token = token_for("student")
    course_id, other_course = facts.add_course(price="49.99"), facts.add_course(price="20.00")
    assert pay(token, course_id, key="order-1").status == 201
    response = pay(token, other_course, amount="20.00", key="order-1")
    assert response.status == 422
    assert response.json() == {"detail": "This Idempotency-Key was already used with a different request body"}
    assert len(payment_rows(payment_db)) == 1


def test_keys_are_per_student(payment_db, facts, token_for):
    course_id = facts.add_course(price="49.99")
    first = pay(token_for("student"), course_id, key="same-key").json()
    second = pay(token_for("student"), course_id, key="same-key").json()
    assert first["id"] != second["id"] and len(payment_rows(payment_db)) == 2


def test_a_second_payment_for_the_same_course_is_409_and_changes_nothing(payment_db, facts, event_bus, token_for):
    token, course_id = token_for("student"), facts.add_course(price="49.99")
    other_course = facts.add_course(price="49.99")
    first = pay(token, course_id)
    assert first.status == 201
    for key in (None, "another-key"):
        again = pay(token, course_id, key=key)
        assert again.status == 409 and again.json() == {"detail": "Already paid for this course"}
    assert pay(token, other_course).status == 201  # another course
    assert pay(token_for("student"), course_id).status == 201  # another student
    assert len(payment_rows(payment_db)) == 3
    assert len(event_bus.of_type("PaymentCompleted")) == 3


def test_the_same_key_and_body_after_paying_is_still_the_first_payment(payment_db, facts, token_for):
    token, course_id = token_for("student"), facts.add_course(price="49.99")
    first = pay(token, course_id, key="order-1")
    again = pay(token, course_id, key="order-1")
    assert first.status == again.status == 201 and again.json() == first.json()
    assert pay(token, course_id, key="order-2").status == 409


def test_one_completed_payment_per_student_and_course_is_kept_by_the_database(payment_db, facts, token_for):
    token, course_id = token_for("student"), facts.add_course(price="49.99")
    paid = pay(token, course_id).json()
    with psycopg.connect(payment_db) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO payments (student_id, course_id, amount, status) VALUES (%s, %s, 49.99, 'completed')",
            (paid["student_id"], course_id),
        )
    with psycopg.connect(payment_db) as conn:  # a failed or refunded one beside it is fine
        conn.execute(
            "INSERT INTO payments (student_id, course_id, amount, status) VALUES (%s, %s, 49.99, 'failed')",
            (paid["student_id"], course_id),
        )


def test_a_failed_request_does_not_burn_its_key(payment_db, facts, token_for):
    token, course_id = token_for("student"), facts.add_course(price="49.99")
    facts.broken["test-course-facts"] = "error"
    assert pay(token, course_id, key="retry-me").status == 503
    del facts.broken["test-course-facts"]
    assert pay(token, course_id, key="retry-me").status == 201


@pytest.mark.parametrize("key", ["   ", "k" * 256])
def test_unusable_key_is_422(payment_db, facts, token_for, key):
    response = pay(token_for("student"), facts.add_course(price="49.99"), key=key)
    # A blank key is the service's 422; an over-long one the header's schema refuses (validation list).
    assert response.status == 422 and "idempotency-key" in json.dumps(response.json()["detail"]).lower()


def test_without_an_idempotency_table_keyed_payments_are_503(payment_db, facts, token_for, monkeypatch):
    from payment import charges

    monkeypatch.delenv("IDEMPOTENCY_TABLE")
    charges.reset_idempotency()
    assert pay(token_for("student"), facts.add_course(price="49.99"), key="k").status == 503
    assert payment_rows(payment_db) == []


# ---- GET /payments/me --------------------------------------------------------------------------------


def test_my_payments_newest_first_and_only_mine(payment_db, facts, token_for):
    token = token_for("student")
    courses = [facts.add_course(price="49.99") for _ in range(3)]
    ids = [pay(token, course).json()["id"] for course in courses]
    pay(token_for("student"), courses[0])
    body = call(MINE, token=token).json()
    assert body["total"] == 3 and [item["id"] for item in body["items"]] == ids[::-1]
    page = call(MINE, token=token, query={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [item["id"] for item in page["items"]] == [ids[1]]


def earlier_payments(url, student_id, course_id, statuses):
    """Payments of the student for the course before now, one a minute going back (the processor
    completes every payment, so other statuses are written directly); their ids, newest first."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [
            str(
                conn.execute(
                    "INSERT INTO payments (student_id, course_id, amount, status, created_at) "
                    "VALUES (%s, %s, 49.99, %s, now() - %s * interval '1 minute') RETURNING id",
                    (student_id, course_id, status, minutes),
                ).fetchone()[0]
            )
            for minutes, status in enumerate(statuses, start=1)
        ]


def test_my_payments_for_one_course(payment_db, facts, token_for):
    token = token_for("student")
    wanted, other = facts.add_course(price="49.99"), facts.add_course(price="49.99")
    paid = pay(token, wanted).json()
    pay(token, other)
    pay(token_for("student"), wanted)
    earlier = earlier_payments(payment_db, paid["student_id"], wanted, ["failed", "refunded"])
    body = call(MINE, token=token, query={"course_id": wanted}).json()
    assert body["total"] == 3 and body["next_cursor"] is None
    assert [item["id"] for item in body["items"]] == [paid["id"], *earlier]
    assert {item["course_id"] for item in body["items"]} == {wanted}
    assert body["items"][0] == paid
    page = call(MINE, token=token, query={"course_id": wanted, "limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [item["id"] for item in page["items"]] == [earlier[0]]


def test_my_payments_for_a_course_i_did_not_pay_for_is_an_empty_page(payment_db, facts, token_for):
    course_id = facts.add_course(price="49.99")
    pay(token_for("student"), course_id)
    token = token_for("student")
    pay(token, facts.add_course(price="49.99"))
    for course in (course_id, str(uuid.uuid4())):
        assert call(MINE, token=token, query={"course_id": course}).json() == {
            "items": [],
            "total": 0,
            "next_cursor": None,
        }


def test_my_payments_course_id_must_be_a_uuid(payment_db, token_for):
    response = call(MINE, token=token_for("student"), query={"course_id": "not-a-uuid"})
    assert response.status == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "course_id"] and "UUID" in error["msg"]


def test_my_payments_for_one_course_page_by_cursor_bound_to_that_course(payment_db, facts, token_for):
    token = token_for("student")
    wanted, other = facts.add_course(price="49.99"), facts.add_course(price="49.99")
    student_id = pay(token, wanted).json()["student_id"]
    pay(token, other)
    in_wanted = earlier_payments(payment_db, student_id, wanted, ["failed"] * 4)
    earlier_payments(payment_db, student_id, other, ["failed"] * 4)
    pages = paged(MINE, token=token, limit=2, course_id=wanted)
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert [item["id"] for page in pages for item in page["items"]][1:] == in_wanted
    assert {item["course_id"] for page in pages for item in page["items"]} == {wanted}
    in_course = pages[0]["next_cursor"]
    unfiltered = call(MINE, token=token, query={"limit": 2}).json()["next_cursor"]
    assert_course_cursor_bound_to_its_filter(MINE, token, token_for("student"), wanted, other, in_course, unfiltered)


def test_my_payments_for_a_teacher_is_an_empty_list(payment_db, token_for):
    assert call(MINE, token=token_for("teacher")).json() == {"items": [], "total": 0, "next_cursor": None}


def test_my_payments_needs_a_token(payment_db):
    assert call(MINE).status == 401


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_my_payments_bad_paging_is_422(payment_db, token_for, query):
    assert call(MINE, token=token_for("student"), query=query).status == 422


# ---- GET /payments/{payment_id} ------------------------------------------------------------------------


def test_get_payment_by_its_student_and_by_an_admin(payment_db, facts, token_for):
    token = token_for("student")
    payment = pay(token, facts.add_course(price="49.99")).json()
    assert call(GET, {"payment_id": payment["id"]}, token=token).json() == payment
    admin = call(GET, {"payment_id": payment["id"]}, token=token_for("admin"))
    assert admin.status == 200 and admin.json() == payment


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_someone_elses_payment_is_404(payment_db, facts, token_for, role):
    payment = pay(token_for("student"), facts.add_course(price="49.99")).json()
    response = call(GET, {"payment_id": payment["id"]}, token=token_for(role))
    assert response.status == 404 and response.json() == {"detail": "Payment not found"}


def test_unknown_payment_is_404(payment_db, token_for):
    assert call(GET, {"payment_id": uuid.uuid4()}, token=token_for("admin")).status == 404


def test_get_payment_non_uuid_is_422_and_needs_a_token(payment_db, token_for):
    assert call(GET, {"payment_id": "42"}, token=token_for("student")).status == 422
    assert call(GET, {"payment_id": uuid.uuid4()}).status == 401


# ---- internal: payment_facts ----------------------------------------------------------------------------


def test_payment_facts_describes_a_payment(payment_db, facts, token_for):
    from payment.internal import payment_facts

    token = token_for("student")
    course_id = facts.add_course(price="49.99")
    payment = pay(token, course_id).json()
    answer = payment_facts.handler({"payment_id": payment["id"]}, FakeLambdaContext())
    assert answer == {
        "found": True,
        "payment_id": payment["id"],
        "student_id": payment["student_id"],
        "course_id": course_id,
        "status": "completed",
        "amount": "49.99",
    }


@pytest.mark.parametrize(
    "event", [{"payment_id": str(uuid.uuid4())}, {"payment_id": "not-a-uuid"}, {}, {"payment_id": None}]
)
def test_payment_facts_of_nothing_is_not_found(payment_db, event):
    from payment.internal import payment_facts

    assert payment_facts.handler(event, FakeLambdaContext()) == {"found": False}
