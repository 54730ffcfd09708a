"""Domain events end to end in-process: published after commit (moto EventBridge -> SQS),
consumed into notifications; and the shared publisher and internal-call helpers."""

import io
import json
import uuid

import pytest
import yaml

from eduplatform import events, internal_calls
from eduplatform.security import decode_token
from infra.config import ROOT
from tests.support.aws_fakes import aws, event_bus, facts  # noqa: F401 (fixtures)
from tests.support.lambda_events import FakeLambdaContext, call
from tests.unit.test_notification import sqs_event


def register(email="ada@example.com"):
    return call("identity.handlers.register", body={"email": email, "password": "password123", "name": "Ada"})


def test_register_publishes_user_registered_once(domain_database, event_bus):
    domain_database("identity")
    token = register().json()["access_token"]
    assert register().status == 409
    (envelope,) = event_bus.published()
    assert envelope["source"] == "eduplatform.identity" and envelope["detail-type"] == "UserRegistered"
    detail = envelope["detail"]
    assert detail["user_id"] == str(decode_token(token).user_id)
    assert detail["name"] == "Ada" and detail["role"] == "student" and "password" not in json.dumps(detail)
    uuid.UUID(detail["event_id"])


def test_a_published_event_becomes_one_notification_even_when_replayed(domain_database, event_bus):
    domain_database("identity")
    token = register().json()["access_token"]
    (envelope,) = event_bus.published()

    domain_database("notification")
    from notification import consumer

    for _ in range(2):
        result = consumer.handler(sqs_event(envelope), FakeLambdaContext(function_name="consumer"))
        assert result == {"batchItemFailures": []}
    items = call("notification.handlers.my_notifications", token=token).json()["items"]
    assert [item["type"] for item in items] == ["registration"]


# ---- eduplatform.events ---------------------------------------------------------------------------------

def test_publish_without_a_bus_configured_publishes_nothing(aws, monkeypatch):
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    assert events.publish("eduplatform.test", "UserRegistered", {"event_id": "1"}) is False


def test_a_failed_publish_is_logged_not_raised(aws, monkeypatch):
    # moto accepts events for a bus that does not exist by reporting a failed entry.
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    assert events.publish("eduplatform.test", "UserRegistered", {"event_id": "1"}) is False


def test_an_unreachable_bus_is_logged_not_raised(monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    class Unreachable:
        def put_events(self, **_):
            raise EndpointConnectionError(endpoint_url="http://events.invalid")

    monkeypatch.setenv("EVENT_BUS_NAME", "bus")
    events.use_client(Unreachable())
    try:
        assert events.publish("eduplatform.test", "UserRegistered", {"event_id": "1"}) is False
    finally:
        events.use_client(None)


# ---- eduplatform.internal_calls ---------------------------------------------------------------------------

class RawLambda:
    def __init__(self, payload: bytes):
        self.payload = payload

    def invoke(self, **_):
        return {"StatusCode": 200, "Payload": io.BytesIO(self.payload)}


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]"])
def test_a_malformed_answer_is_503(monkeypatch, payload):
    from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError

    monkeypatch.setenv("COURSE_FACTS_FUNCTION", "course-facts")
    internal_calls.use_client(RawLambda(payload))
    try:
        with pytest.raises(ServiceUnavailableError, match="course service is unavailable"):
            internal_calls.invoke("COURSE_FACTS_FUNCTION", {"course_id": "x"}, "course")
    finally:
        internal_calls.use_client(None)


def test_an_unconfigured_dependency_is_503(monkeypatch):
    from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError

    monkeypatch.delenv("PAYMENT_FACTS_FUNCTION", raising=False)
    with pytest.raises(ServiceUnavailableError, match="payment service"):
        internal_calls.invoke("PAYMENT_FACTS_FUNCTION", {"payment_id": "x"}, "payment")


# ---- template wiring --------------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: {suffix: loader.construct_scalar(node)
                                                                 if isinstance(node, yaml.ScalarNode) else None})


@pytest.fixture(scope="module")
def resources():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)["Resources"]


@pytest.mark.parametrize(("function", "variables"), [
    ("IdentityRegisterFunction", {"EVENT_BUS_NAME"}),
    ("PaymentCreatePaymentFunction", {"EVENT_BUS_NAME", "COURSE_FACTS_FUNCTION", "IDEMPOTENCY_TABLE"}),
    ("EnrollmentEnrollFunction", {"EVENT_BUS_NAME", "COURSE_FACTS_FUNCTION", "PAYMENT_FACTS_FUNCTION"}),
    ("EnrollmentCompleteLessonFunction", {"COURSE_FACTS_FUNCTION", "LESSON_FACTS_FUNCTION"}),
    ("EnrollmentCourseProgressFunction", {"COURSE_FACTS_FUNCTION"}),
])
def test_callers_get_their_dependencies_names_and_permissions(resources, function, variables):
    properties = resources[function]["Properties"]
    assert variables <= set(properties["Environment"]["Variables"])
    policy_names = {next(iter(policy)) for policy in properties["Policies"]}
    if "EVENT_BUS_NAME" in variables:
        assert "EventBridgePutEventsPolicy" in policy_names
    if variables & {"COURSE_FACTS_FUNCTION", "LESSON_FACTS_FUNCTION", "PAYMENT_FACTS_FUNCTION"}:
        assert "LambdaInvokePolicy" in policy_names


def test_the_consumer_reports_partial_failures_and_the_queue_has_a_dead_letter_queue(resources):
    queue = resources["NotificationQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    assert queue["VisibilityTimeout"] >= resources["NotificationConsumerFunction"]["Properties"]["Timeout"]
    source = resources["NotificationConsumerFunction"]["Properties"]["Events"]["DomainEvents"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert resources["PaymentInternalPaymentFactsFunction"]["Properties"]["Handler"] == "payment.internal.payment_facts.handler"
