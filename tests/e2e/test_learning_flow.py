"""The learning flow through the deployed API and the event pipeline on the emulator.

register -> pay -> enroll (which opens the paid course's lessons) -> complete every lesson ->
enrollment completed, and the
registration, payment and enrollment notifications arrive exactly once each; a replayed
event adds nothing; a message the consumer cannot handle ends in the dead-letter queue.
"""

import json
import time
import uuid

import psycopg
import pytest

from infra.local import aws
from tests.e2e.conftest import E2E_STACK
from tests.support.polling import poll

pytestmark = pytest.mark.e2e

NOTIFICATION_WAIT_SECONDS = 20
# Three receives 10 s apart (the queue's visibility timeout), then the move to the DLQ.
DEAD_LETTER_WAIT_SECONDS = 90


@pytest.fixture(scope="module")
def outputs(api) -> dict[str, str]:
    (described,) = aws.aws_client("cloudformation").describe_stacks(StackName=E2E_STACK)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def notifications(api, user):
    response = api.request("GET", "/notifications/me?limit=100", token=user.token)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def queue_is_drained(sqs, queue_url) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def paid_course_with_two_lessons(api, teacher):
    course = api.request(
        "POST", "/courses", token=teacher.token, json={"title": "Serverless Python", "is_free": False, "price": "49.99"}
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    module = api.request("POST", f"/courses/{course_id}/modules", token=teacher.token, json={"title": "Basics"})
    assert module.status_code == 201, module.text
    lessons = []
    for title in ("Handlers", "Events"):
        lesson = api.request(
            "POST",
            f"/modules/{module.json()['id']}/lessons",
            token=teacher.token,
            json={"title": title, "content": f"{title} text"},
        )
        assert lesson.status_code == 201, lesson.text
        lessons.append(lesson.json()["id"])
    return course_id, lessons


def test_register_pay_enroll_complete_and_be_notified_once(
    api, register_user, verified_teacher, outputs, e2e_database_urls
):
    student = register_user("student")
    course_id, lessons = paid_course_with_two_lessons(api, verified_teacher)

    # A paid course's lessons: closed to anonymous callers and to a student not enrolled.
    assert api.request("GET", f"/lessons/{lessons[0]}").status_code == 401
    closed = api.request("GET", f"/lessons/{lessons[0]}", token=student.token)
    assert closed.status_code == 403 and closed.json() == {"detail": "Enroll in this course to open its lessons"}
    outline = api.request("GET", f"/courses/{course_id}/curriculum").json()["modules"][0]["lessons"]
    assert [(lesson["title"], lesson["content"]) for lesson in outline] == [("Handlers", None), ("Events", None)]

    # Without a payment a paid course refuses the enrollment.
    refused = api.request("POST", "/enrollments", token=student.token, json={"course_id": course_id})
    assert refused.status_code == 402, refused.text

    key = {"Idempotency-Key": str(uuid.uuid4())}
    payment = api.request(
        "POST", "/payments", token=student.token, headers=key, json={"course_id": course_id, "amount": "49.99"}
    )
    assert payment.status_code == 201, payment.text
    assert payment.json()["status"] == "completed"
    retried = api.request(
        "POST", "/payments", token=student.token, headers=key, json={"course_id": course_id, "amount": 49.99}
    )
    assert retried.status_code == 201 and retried.json() == payment.json()
    assert api.request("GET", "/payments/me", token=student.token).json()["total"] == 1
    # Paying again is refused; the caller's payments for the course name the completed one.
    again = api.request("POST", "/payments", token=student.token, json={"course_id": course_id, "amount": "49.99"})
    assert again.status_code == 409 and again.json() == {"detail": "Already paid for this course"}, again.text
    in_course = api.request("GET", "/payments/me", token=student.token, params={"course_id": course_id, "limit": 100})
    assert in_course.status_code == 200 and in_course.json()["items"] == [payment.json()], in_course.text
    elsewhere = api.request("GET", "/payments/me", token=student.token, params={"course_id": str(uuid.uuid4())})
    assert elsewhere.json() == {"items": [], "total": 0, "next_cursor": None}, elsewhere.text
    bad = api.request("GET", "/payments/me", token=student.token, params={"course_id": "not-a-uuid"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "course_id"], bad.text

    enrollment = api.request(
        "POST", "/enrollments", token=student.token, json={"course_id": course_id, "payment_id": payment.json()["id"]}
    )
    assert enrollment.status_code == 201, enrollment.text
    assert enrollment.json()["status"] == "enrolled"
    # The course domain opens the lessons once it has consumed the EnrollmentCreated event.
    opened = poll(
        lambda: api.request("GET", f"/lessons/{lessons[0]}", token=student.token),
        lambda response: response.status_code == 200,
        NOTIFICATION_WAIT_SECONDS,
    )
    assert opened.status_code == 200 and opened.json()["content"] == "Handlers text", opened.text
    assert api.request("GET", f"/lessons/{lessons[0]}").status_code == 401  # still closed to anonymous callers

    for index, lesson_id in enumerate(lessons):
        done = api.request(
            "POST", f"/progress/lessons/{lesson_id}/complete", token=student.token, json={"course_id": course_id}
        )
        assert done.status_code == 201, done.text
        (mine,) = api.request("GET", "/enrollments/me", token=student.token, params={"course_id": course_id}).json()[
            "items"
        ]
        assert mine["id"] == enrollment.json()["id"]
        assert mine["status"] == ("in_progress" if index < len(lessons) - 1 else "completed")
        assert mine["progress"] == {
            "completed_lessons": index + 1,
            "total_lessons": 2,
            "percentage": 50.0 if index == 0 else 100.0,
        }
    again = api.request(
        "POST", f"/progress/lessons/{lessons[0]}/complete", token=student.token, json={"course_id": course_id}
    )
    assert again.status_code == 409
    progress = api.request("GET", f"/progress/courses/{course_id}", token=student.token).json()
    assert progress == {"course_id": course_id, "completed_lessons": 2, "total_lessons": 2, "percentage": 100.0}
    assert (
        api.request("GET", "/enrollments/me", token=student.token, params={"course_id": str(uuid.uuid4())}).json()[
            "items"
        ]
        == []
    )
    bad = api.request("GET", "/enrollments/me", token=student.token, params={"course_id": "not-a-uuid"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "course_id"], bad.text
    assert api.request("GET", f"/enrollments/course/{course_id}/count").json() == {"course_id": course_id, "count": 1}

    items = poll(lambda: notifications(api, student), lambda found: len(found) >= 3, NOTIFICATION_WAIT_SECONDS)
    assert sorted(item["type"] for item in items) == ["enrollment", "payment", "registration"], items

    # A redelivered event (same event_id) is consumed and adds nothing.
    with psycopg.connect(e2e_database_urls["notification"]) as conn:
        (event_id,) = conn.execute(
            "SELECT source_event_id::text FROM notifications WHERE user_id = %s AND type = 'registration'",
            (student.id,),
        ).fetchone()
    events = aws.aws_client("events")
    replay = events.put_events(
        Entries=[
            {
                "EventBusName": outputs["EventBusName"],
                "Source": "eduplatform.identity",
                "DetailType": "UserRegistered",
                "Detail": json.dumps(
                    {"event_id": event_id, "user_id": student.id, "name": "E2E student", "role": "student"}
                ),
            }
        ]
    )
    assert replay["FailedEntryCount"] == 0
    sqs = aws.aws_client("sqs")
    time.sleep(1)
    assert poll(lambda: queue_is_drained(sqs, outputs["NotificationQueueUrl"]), bool, NOTIFICATION_WAIT_SECONDS)
    time.sleep(1)
    items = notifications(api, student)
    assert sorted(item["type"] for item in items) == ["enrollment", "payment", "registration"], items


def test_a_message_the_consumer_cannot_handle_lands_in_the_dead_letter_queue(api, outputs):
    sqs = aws.aws_client("sqs")
    poison = json.dumps({"poison": str(uuid.uuid4())})
    sqs.send_message(QueueUrl=outputs["NotificationQueueUrl"], MessageBody=poison)
    dead_letter_queue = outputs["NotificationDeadLetterQueueUrl"]

    def receive_poison():
        for message in sqs.receive_message(QueueUrl=dead_letter_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            if message["Body"] == poison:
                sqs.delete_message(QueueUrl=dead_letter_queue, ReceiptHandle=message["ReceiptHandle"])
                return message
        return None

    arrived = poll(receive_poison, lambda message: message is not None, DEAD_LETTER_WAIT_SECONDS, interval=1)
    assert arrived is not None, "the poison message never reached the dead-letter queue"
