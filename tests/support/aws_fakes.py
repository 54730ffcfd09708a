"""AWS doubles for unit tests: moto for EventBridge, SQS and DynamoDB; a fake Lambda client.

moto can only run a Lambda function's code in Docker, which these machines lack, so the
internal "facts" functions of other domains are answered by ``FakeFacts``: a fake Lambda
client injected into ``eduplatform.internal_calls`` that returns the payloads the owning
domain would (its contract is documented in ``eduplatform.facts``) and counts the calls
(the read models' fallback and rebuild are the only callers).

Import the fixtures into a test module: ``from tests.support.aws_fakes import aws, event_bus, ...``.
"""

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from eduplatform import internal_calls, relay

REGION = "us-east-1"
FUNCTION_NAMES = {
    "COURSE_FACTS_FUNCTION": "test-course-facts",
    "COURSE_FACTS_PAGE_FUNCTION": "test-course-facts-page",
    "PAYMENT_FACTS_FUNCTION": "test-payment-facts",
    "COMPLETED_PAYMENTS_PAGE_FUNCTION": "test-completed-payments-page",
}


@dataclass
class FakeFacts:
    """Courses (with their lessons) and payments as their owning domains would describe them."""

    courses: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # function name -> "error" (the function raised) or "unreachable"
    broken: dict[str, str] = field(default_factory=dict)

    def add_course(
        self, price: str | None = None, lessons: int = 0, title: str = "A course", level: str = "beginner"
    ) -> str:
        course_id = str(uuid.uuid4())
        lesson_ids = [str(uuid.uuid4()) for _ in range(lessons)]
        self.courses[course_id] = {
            "found": True,
            "course_id": course_id,
            "teacher_id": str(uuid.uuid4()),
            "title": title,
            "level": level,
            "is_free": price is None,
            "price": price,
            "total_lessons": lessons,
            "version": 1,
            "lesson_ids": lesson_ids,
        }
        return course_id

    def change_course(self, course_id: str, **changes: Any) -> dict[str, Any]:
        """The course's facts after a change (one more version), as its event would carry them."""
        course = self.courses[course_id]
        course.update(changes, version=course["version"] + 1)
        course["total_lessons"] = len(course["lesson_ids"])
        return self.facts_of(course_id)

    def add_lesson(self, course_id: str) -> str:
        lesson_id = str(uuid.uuid4())
        self.change_course(course_id, lesson_ids=[*self.courses[course_id]["lesson_ids"], lesson_id])
        return lesson_id

    def lesson_ids(self, course_id: str) -> list[str]:
        return list(self.courses[course_id]["lesson_ids"])

    def facts_of(self, course_id: str) -> dict[str, Any]:
        """The course's facts without the "found" flag (the shape of a course event's ``course``)."""
        return {key: value for key, value in self.courses[course_id].items() if key != "found"}

    def add_payment(self, student_id: Any, course_id: str, status: str = "completed", amount: str = "49.99") -> str:
        payment_id = str(uuid.uuid4())
        self.payments[payment_id] = {
            "found": True,
            "payment_id": payment_id,
            "student_id": str(student_id),
            "course_id": course_id,
            "status": status,
            "amount": amount,
        }
        return payment_id

    def calls_to(self, variable: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.calls if name == FUNCTION_NAMES[variable]]

    def answer(self, function_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        if function_name == FUNCTION_NAMES["COURSE_FACTS_PAGE_FUNCTION"]:
            return self._page([self.facts_of(key) for key in self.courses], "course_id", payload)
        if function_name == FUNCTION_NAMES["COMPLETED_PAYMENTS_PAGE_FUNCTION"]:
            completed = [
                {key: p[key] for key in ("payment_id", "student_id", "course_id", "amount")}
                for p in self.payments.values()
                if p["status"] == "completed"
            ]
            return self._page(completed, "payment_id", payload)
        table, key = {
            FUNCTION_NAMES["COURSE_FACTS_FUNCTION"]: (self.courses, "course_id"),
            FUNCTION_NAMES["PAYMENT_FACTS_FUNCTION"]: (self.payments, "payment_id"),
        }[function_name]
        return table.get(payload[key], {"found": False})

    @staticmethod
    def _page(items: list[dict[str, Any]], id_field: str, payload: dict[str, Any]) -> dict[str, Any]:
        ordered = sorted(items, key=lambda item: uuid.UUID(item[id_field]))
        after = payload.get("after")
        if after:
            ordered = [item for item in ordered if uuid.UUID(item[id_field]) > uuid.UUID(after)]
        page = ordered[: payload["limit"]]
        return {"items": page, "next": page[-1][id_field] if len(page) == payload["limit"] else None}

    # The boto3 Lambda client's invoke, as far as internal_calls uses it.
    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        payload = json.loads(Payload)
        self.calls.append((FunctionName, payload))
        failure = self.broken.get(FunctionName)
        if failure == "unreachable":
            raise EndpointConnectionError(endpoint_url="http://lambda.invalid")
        if failure == "error":
            body = {"errorMessage": "boom", "errorType": "RuntimeError"}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.answer(FunctionName, payload)).encode())}


@pytest.fixture
def facts(monkeypatch) -> FakeFacts:
    fake = FakeFacts()
    for variable, name in FUNCTION_NAMES.items():
        monkeypatch.setenv(variable, name)
    internal_calls.use_client(fake)
    yield fake
    internal_calls.use_client(None)


@pytest.fixture
def aws(monkeypatch):
    """moto in place of AWS for the test (no endpoint override, fake credentials)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(variable, value)
    with mock_aws():
        relay.use_client(None)
        yield
    relay.use_client(None)


@dataclass
class EventBus:
    name: str
    queue_url: str
    sqs: Any

    def published(self) -> list[dict[str, Any]]:
        """Every event the bus has routed to the test queue so far (EventBridge envelopes)."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def relayed(self) -> list[dict[str, Any]]:
        """Run the current domain's outbox relay once (what its listener does at each commit), then
        every event the bus has routed to the test queue so far."""
        relay.relay()
        return self.published()

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [event["detail"] for event in self.relayed() if event["detail-type"] == detail_type]


@pytest.fixture
def event_bus(aws, monkeypatch) -> EventBus:
    """A moto bus whose every event lands in a queue the test can read."""
    name = "test-events"
    eventbridge = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    eventbridge.create_event_bus(Name=name)
    queue_url = sqs.create_queue(QueueName="test-events-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    eventbridge.put_rule(
        Name="everything", EventBusName=name, EventPattern=json.dumps({"source": [{"prefix": "eduplatform."}]})
    )
    eventbridge.put_targets(Rule="everything", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", name)
    return EventBus(name, queue_url, sqs)


@pytest.fixture
def idempotency_table(aws, monkeypatch) -> str:
    """The DynamoDB table of Powertools idempotency records, shaped as in template.yaml."""
    name = "test-idempotency"
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("IDEMPOTENCY_TABLE", name)
    from payment import charges

    charges.reset_idempotency()
    yield name
    charges.reset_idempotency()
