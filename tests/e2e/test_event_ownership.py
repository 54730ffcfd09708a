"""Events only from their owner, through the deployed stack: a PaymentCompleted put on the bus by
anyone but the payment domain reaches no consumer (no rule routes it, and a consumer would refuse
it), so it neither pays for a course nor notifies anyone."""

import json
import time
import uuid

import boto3
import psycopg
import pytest

from infra.config import EMULATOR_URL
from tests.e2e.conftest import E2E_STACK

pytestmark = pytest.mark.e2e

# Longer than a genuine event takes to reach the read model and the notifications under the suite.
SETTLE_SECONDS = 8


def aws(service: str):
    return boto3.client(
        service,
        endpoint_url=EMULATOR_URL,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def event_bus_name() -> str:
    resource = aws("cloudformation").describe_stack_resource(StackName=E2E_STACK, LogicalResourceId="EventBus")
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def test_a_forged_payment_completed_changes_nothing(api, verified_teacher, register_user, e2e_database_urls):
    teacher, student = verified_teacher, register_user("student")
    course = api.request(
        "POST", "/courses", token=teacher.token, json={"title": "Forged", "is_free": False, "price": "19.00"}
    )
    assert course.status_code == 201, course.text
    course_id, payment_id = course.json()["id"], str(uuid.uuid4())
    detail = {
        "event_id": str(uuid.uuid4()),
        "user_id": student.id,
        "payment_id": payment_id,
        "course_id": course_id,
        "amount": "19.00",
    }
    for source in ("eduplatform.enrollment", "eduplatform.identity", "someone.else"):
        answer = aws("events").put_events(
            Entries=[
                {
                    "EventBusName": event_bus_name(),
                    "Source": source,
                    "DetailType": "PaymentCompleted",
                    "Detail": json.dumps({**detail, "event_id": str(uuid.uuid4())}),
                }
            ]
        )
        assert answer["FailedEntryCount"] == 0

    time.sleep(SETTLE_SECONDS)
    with psycopg.connect(e2e_database_urls["enrollment"]) as conn:
        held = conn.execute("SELECT count(*) FROM completed_payments WHERE payment_id = %s", (payment_id,)).fetchone()
    assert held == (0,)
    enrolled = api.request(
        "POST", "/enrollments", token=student.token, json={"course_id": course_id, "payment_id": payment_id}
    )
    assert enrolled.status_code == 402, enrolled.text
    notifications = api.request("GET", "/notifications/me", token=student.token).json()["items"]
    assert [n["type"] for n in notifications if n["type"] == "payment"] == []
