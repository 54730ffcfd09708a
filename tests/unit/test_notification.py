"""Every row of docs/api.md's notification table, and the consumer that turns events into notifications."""

import json
import uuid

import psycopg
import pytest

from tests.support.databases import recorded_statements
from tests.support.lambda_events import FakeLambdaContext, call, envelope, sqs_event

CREATE = "notification.handlers.create_notification"
MINE = "notification.handlers.my_notifications"
READ = "notification.handlers.mark_read"


@pytest.fixture
def notification_db(domain_database):
    return domain_database("notification")


def user_token(token_for):
    from eduplatform.security import decode_token

    token = token_for("student")
    return token, decode_token(token).user_id


def notify(token, type_="enrollment", title="Hello", body=None):
    payload = {"type": type_, "title": title}
    if body is not None:
        payload["body"] = body
    return call(CREATE, body=payload, token=token)


# ---- POST /notifications ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["student", "teacher", "admin"])
def test_any_role_creates_a_notification_for_itself(notification_db, token_for, role):
    from eduplatform.security import decode_token

    token = token_for(role)
    response = notify(token, "payment", "Receipt", "Thanks")
    assert response.status == 201
    body = response.json()
    assert set(body) == {"id", "user_id", "type", "title", "body", "is_read", "created_at"}
    assert body["user_id"] == str(decode_token(token).user_id)
    assert (body["type"], body["title"], body["body"], body["is_read"]) == ("payment", "Receipt", "Thanks", False)
    assert body["created_at"].endswith("+00:00")


def test_body_is_optional(notification_db, token_for):
    assert notify(token_for("student"), "registration", "Hi").json()["body"] is None


def test_create_needs_a_token(notification_db):
    assert call(CREATE, body={"type": "payment", "title": "x"}).status == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "spam", "title": "x"},
        {"title": "x"},
        {"type": "payment"},
        {"type": "payment", "title": ""},
        {"type": "payment", "title": "   "},
        {"type": "payment", "title": "x" * 501},
        {"type": "payment", "title": "x", "body": 5},
        "{not json",
    ],
)
def test_create_invalid_body_is_422(notification_db, token_for, payload):
    response = call(CREATE, body=payload, token=token_for("student"))
    assert response.status == 422 and isinstance(response.json()["detail"], list)


# ---- GET /notifications/me ---------------------------------------------------------------------------------


def test_my_notifications_newest_first_and_only_mine(notification_db, token_for):
    token, _ = user_token(token_for)
    ids = [notify(token, title=f"n{index}").json()["id"] for index in range(3)]
    notify(token_for("teacher"))
    body = call(MINE, token=token).json()
    assert body["total"] == 3 and [item["id"] for item in body["items"]] == ids[::-1]
    page = call(MINE, token=token, query={"limit": 1, "offset": 2}).json()
    assert page == {
        "items": [call(MINE, token=token).json()["items"][2]],
        "total": 3,
        "next_cursor": None,
        "unread": 3,
    }


def test_my_notifications_carry_the_callers_unread_count_on_every_page(notification_db, token_for):
    token, _ = user_token(token_for)
    ids = [notify(token, title=f"n{index}").json()["id"] for index in range(4)]
    notify(token_for("teacher"))  # someone else's unread notification counts for them only
    assert call(MINE, token=token).json()["unread"] == 4
    for notification_id in ids[:3]:
        assert call(READ, {"notification_id": notification_id}, token=token).status == 200
    first = call(MINE, token=token, query={"limit": 1}).json()
    assert first["unread"] == 1 and "total" in first
    after = call(MINE, token=token, query={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert after["unread"] == 1 and "total" not in after
    assert call(MINE, token=token_for("admin")).json() == {"items": [], "total": 0, "next_cursor": None, "unread": 0}


def test_my_notifications_count_unread_in_one_aggregate_whatever_the_page(notification_db, token_for, monkeypatch):
    token, _ = user_token(token_for)
    for index in range(5):
        notify(token, title=f"n{index}")
    with recorded_statements(monkeypatch) as executed:
        assert call(MINE, token=token, query={"limit": 5}).json()["unread"] == 5
    assert len([query for query in executed if "FROM notifications" in query]) == 3  # page, total, unread


def test_my_notifications_needs_a_token(notification_db):
    assert call(MINE).status == 401


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}])
def test_my_notifications_bad_paging_is_422(notification_db, token_for, query):
    assert call(MINE, token=token_for("student"), query=query).status == 422


# ---- PATCH /notifications/{notification_id}/read -------------------------------------------------------------


def test_owner_marks_a_notification_read(notification_db, token_for):
    token, _ = user_token(token_for)
    notification = notify(token).json()
    response = call(READ, {"notification_id": notification["id"]}, token=token)
    assert response.status == 200 and response.json() == {**notification, "is_read": True}
    assert call(MINE, token=token).json()["items"][0]["is_read"] is True
    assert call(READ, {"notification_id": notification["id"]}, token=token).status == 200


def test_someone_elses_notification_is_404(notification_db, token_for):
    notification = notify(token_for("student")).json()
    response = call(READ, {"notification_id": notification["id"]}, token=token_for("admin"))
    assert response.status == 404 and response.json() == {"detail": "Notification not found"}


def test_unknown_notification_is_404(notification_db, token_for):
    assert call(READ, {"notification_id": uuid.uuid4()}, token=token_for("student")).status == 404


def test_mark_read_needs_a_token_and_a_uuid(notification_db, token_for):
    assert call(READ, {"notification_id": uuid.uuid4()}).status == 401
    assert call(READ, {"notification_id": "7"}, token=token_for("student")).status == 422


# ---- the event consumer -------------------------------------------------------------------------------------


def consume(event):
    from notification import consumer

    return consumer.handler(event, FakeLambdaContext(function_name="notification-consumer"))


def registered(user_id, event_id=None):
    return envelope(
        "UserRegistered",
        {"event_id": str(event_id or uuid.uuid4()), "user_id": str(user_id), "name": "Ada", "role": "student"},
    )


def paid(user_id):
    return envelope(
        "PaymentCompleted",
        {
            "event_id": str(uuid.uuid4()),
            "user_id": str(user_id),
            "payment_id": str(uuid.uuid4()),
            "course_id": str(uuid.uuid4()),
            "amount": "49.99",
        },
    )


def enrolled(user_id):
    return envelope(
        "EnrollmentCreated",
        {
            "event_id": str(uuid.uuid4()),
            "user_id": str(user_id),
            "enrollment_id": str(uuid.uuid4()),
            "course_id": str(uuid.uuid4()),
            "payment_id": None,
        },
    )


def test_each_event_type_makes_its_notification(notification_db, token_for):
    token, user_id = user_token(token_for)
    assert consume(sqs_event(registered(user_id), paid(user_id), enrolled(user_id))) == {"batchItemFailures": []}
    items = call(MINE, token=token).json()["items"]
    assert sorted(item["type"] for item in items) == ["enrollment", "payment", "registration"]
    by_type = {item["type"]: item for item in items}
    assert by_type["registration"]["title"] == "Welcome to EduPlatform" and "Ada" in by_type["registration"]["body"]
    assert by_type["payment"]["title"] == "Payment received" and "49.99" in by_type["payment"]["body"]
    assert by_type["enrollment"]["title"] == "Enrollment confirmed"
    assert all(item["is_read"] is False for item in items)


def test_the_same_event_delivered_twice_makes_one_notification(notification_db, token_for):
    token, user_id = user_token(token_for)
    event_id = uuid.uuid4()
    first, again = registered(user_id, event_id), registered(user_id, event_id)
    assert consume(sqs_event(first, again)) == {"batchItemFailures": []}
    assert consume(sqs_event(first)) == {"batchItemFailures": []}
    assert call(MINE, token=token).json()["total"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        "not json at all",
        json.dumps({"hello": "world"}),
        json.dumps(envelope("CourseDeleted", {"event_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())})),
        json.dumps(envelope("PaymentCompleted", {"event_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())})),
        json.dumps(
            envelope(
                "UserRegistered",
                {"user_id": "not-a-uuid", "event_id": str(uuid.uuid4()), "name": "x", "role": "student"},
            )
        ),
        # a well-formed payment event, but not from the payment domain
        json.dumps({**paid(uuid.uuid4()), "source": "eduplatform.enrollment"}),
    ],
)
def test_a_bad_message_is_reported_failed_and_the_rest_of_the_batch_succeeds(notification_db, token_for, bad):
    token, user_id = user_token(token_for)
    event = sqs_event(registered(user_id), bad, enrolled(user_id))
    bad_id = event["Records"][1]["messageId"]
    assert consume(event) == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
    assert call(MINE, token=token).json()["total"] == 2


def test_a_database_outage_fails_the_records_so_they_are_retried(notification_db, token_for, monkeypatch):
    from eduplatform import db, settings

    _, user_id = user_token(token_for)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    settings.get_settings.cache_clear()
    db.reset_database()
    event = sqs_event(registered(user_id))
    assert consume(event) == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_client_created_notifications_are_not_deduplicated(notification_db, token_for):
    token, _ = user_token(token_for)
    notify(token, title="same")
    notify(token, title="same")
    with psycopg.connect(notification_db) as conn:
        assert conn.execute("SELECT count(*) FROM notifications WHERE source_event_id IS NULL").fetchone()[0] == 2
