"""Faults against the deployed stack: one domain's database refusing connections, and the bus
refusing events. Each test restores what it broke, and checks the system recovers without a
redeploy. docs/reliability.md records what these showed.
"""

import json
import time
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest

from infra.config import POSTGRES_ADMIN_URL
from infra.local import aws
from tests.e2e.conftest import E2E_STACK
from tests.support.polling import poll

pytestmark = pytest.mark.e2e

RECOVERY_SECONDS = 30
NOTIFICATION_WAIT_SECONDS = 20


def allow_connections(url: str, allowed: bool) -> None:
    database = urlsplit(url).path.lstrip("/")
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {database} ALLOW_CONNECTIONS {'true' if allowed else 'false'}")
        if not allowed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))


def rows(url: str, query: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def paid_course(api, teacher) -> str:
    course = api.request(
        "POST", "/courses", token=teacher.token, json={"title": "Faults", "is_free": False, "price": "19.99"}
    )
    assert course.status_code == 201, course.text
    return course.json()["id"]


def test_payment_database_down_is_503_for_payment_only_and_recovers_without_redeploy(
    api, register_user, verified_teacher, e2e_database_urls
):
    student = register_user("student")
    course_id = paid_course(api, verified_teacher)
    earlier = api.request("POST", "/payments", token=student.token, json={"course_id": course_id, "amount": "19.99"})
    assert earlier.status_code == 201, earlier.text
    second_course = paid_course(api, verified_teacher)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # Enrollment learns the completed payment from its PaymentCompleted event (its read model).
    assert poll(
        lambda: rows(
            e2e_database_urls["enrollment"],
            "SELECT 1 FROM completed_payments WHERE payment_id = %s",
            earlier.json()["id"],
        ),
        bool,
        NOTIFICATION_WAIT_SECONDS,
    )

    allow_connections(e2e_database_urls["payment"], False)
    try:
        started = time.monotonic()
        pay = api.request(
            "POST", "/payments", token=student.token, headers=key, json={"course_id": second_course, "amount": "19.99"}
        )
        pay_seconds = time.monotonic() - started
        assert pay.status_code == 503, pay.text
        assert pay.json() == {"detail": "The domain database is unavailable, try again later"}
        mine = api.request("GET", "/payments/me", token=student.token)
        assert mine.status_code == 503 and "unavailable" in mine.json()["detail"]
        # A payment enrollment has not seen needs the payment domain's word: 503, nothing written.
        unseen = api.request(
            "POST",
            "/enrollments",
            token=student.token,
            json={"course_id": second_course, "payment_id": str(uuid.uuid4())},
        )
        assert unseen.status_code == 503 and unseen.json() == {
            "detail": "The payment service is unavailable, try again later"
        }
        # One it has seen enrolls without the payment domain.
        enroll = api.request(
            "POST",
            "/enrollments",
            token=student.token,
            json={"course_id": course_id, "payment_id": earlier.json()["id"]},
        )
        assert enroll.status_code == 201, enroll.text
        # The other domains keep working.
        assert api.request("GET", "/me", token=student.token).status_code == 200
        assert api.request("GET", f"/courses/{course_id}").status_code == 200
        health = api.request("GET", "/health")
        assert health.status_code == 503
        checks = health.json()["checks"]
        assert checks["payment"].startswith("error:") and all(checks[d] == "ok" for d in checks if d != "payment")
        print(f"\n[faults] payment DB down: POST /payments 503 in {pay_seconds:.1f}s; health {checks['payment']}")
    finally:
        allow_connections(e2e_database_urls["payment"], True)

    assert rows(e2e_database_urls["payment"], "SELECT 1 FROM payments WHERE course_id = %s", second_course) == []
    assert rows(
        e2e_database_urls["enrollment"], "SELECT course_id::text FROM enrollments WHERE student_id = %s", student.id
    ) == [(course_id,)]

    started = time.monotonic()
    retried = poll(
        lambda: api.request(
            "POST", "/payments", token=student.token, headers=key, json={"course_id": second_course, "amount": "19.99"}
        ),
        lambda response: response.status_code != 503,
        RECOVERY_SECONDS,
    )
    print(f"[faults] payment DB back: first success after {time.monotonic() - started:.1f}s")
    assert retried.status_code == 201, retried.text  # the same Idempotency-Key: the failed attempt did not burn it
    enroll = api.request(
        "POST",
        "/enrollments",
        token=student.token,
        json={"course_id": second_course, "payment_id": retried.json()["id"]},
    )
    assert enroll.status_code == 201, enroll.text
    assert api.request("GET", "/health").status_code == 200
    assert len(rows(e2e_database_urls["payment"], "SELECT 1 FROM payments WHERE course_id = %s", second_course)) == 1


def function_name(logical_id: str) -> str:
    resource = aws.aws_client("cloudformation").describe_stack_resource(
        StackName=E2E_STACK, LogicalResourceId=logical_id
    )
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def set_event_bus(lambda_client, name: str, bus: str) -> None:
    variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "EVENT_BUS_NAME": bus}}
    )


def test_events_recorded_while_the_bus_refuses_them_arrive_once_after_it_is_back(api, register_user, e2e_database_urls):
    lambda_client = aws.aws_client("lambda")
    relay_id = "IdentityInternalOutboxRelayFunction"
    relay_function = function_name(relay_id)

    def relay_once() -> dict:
        response = lambda_client.invoke(FunctionName=relay_function, Payload=b"{}")
        assert "FunctionError" not in response, response["Payload"].read()
        return json.loads(response["Payload"].read())

    def outbox_row() -> tuple:
        (row,) = rows(
            e2e_database_urls["identity"],
            "SELECT attempts, last_error, published_at FROM outbox WHERE detail->>'user_id' = %s",
            student.id,
        )
        return row

    bus = lambda_client.get_function_configuration(FunctionName=relay_function)["Environment"]["Variables"][
        "EVENT_BUS_NAME"
    ]
    # A bus of another account: EventBridge refuses every entry (ResourceNotFoundException), as in an
    # outage: the run the registration starts fails to publish too, and leaves the event pending.
    set_event_bus(lambda_client, relay_function, f"arn:aws:events:us-east-1:999999999999:event-bus/{bus}")
    try:
        student = register_user("student")  # the request succeeds while the bus refuses its event
        refused = relay_once()
        attempts, last_error, published_at = outbox_row()
        assert refused["failed"] >= 1 and published_at is None
        assert attempts >= 1 and last_error and "ResourceNotFoundException" in last_error
    finally:
        set_event_bus(lambda_client, relay_function, bus)

    print(f"\n[faults] bus refused UserRegistered; relay answered {refused}, then {relay_once()}")
    assert outbox_row()[2] is not None

    def registrations():
        response = api.request("GET", "/notifications/me?limit=100", token=student.token)
        assert response.status_code == 200, response.text
        return [item for item in response.json()["items"] if item["type"] == "registration"]

    assert len(poll(registrations, lambda items: len(items) >= 1, NOTIFICATION_WAIT_SECONDS)) == 1
    time.sleep(2)
    assert len(registrations()) == 1
