"""Domain events end to end in-process: recorded in the outbox with the change, published
(moto EventBridge -> SQS), consumed into notifications; the outbox relay through a bus
outage; and the internal-call helpers."""

import io
import json
import uuid

import psycopg
import pytest
import yaml
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
from psycopg.rows import dict_row

from infra.config import ROOT
from tests.support.aws_fakes import aws, event_bus, facts  # noqa: F401 (fixtures)
from tests.support.lambda_events import FakeLambdaContext, call, sqs_event

from eduplatform import events, internal_calls
from eduplatform.security import decode_token


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


# ---- eduplatform.events: the outbox ----------------------------------------------------------------------


class Unreachable:
    """An EventBridge client for a bus that cannot be reached."""

    def put_events(self, **_):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="http://events.invalid")


def outbox(url):
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute("SELECT * FROM outbox ORDER BY created_at").fetchall()


def relay():
    from identity.internal import outbox_relay

    return outbox_relay.handler({}, FakeLambdaContext(function_name="outbox-relay"))


def test_a_published_event_is_marked_published_in_the_outbox(domain_database, event_bus):
    url = domain_database("identity")
    register()
    (row,) = outbox(url)
    assert row["published_at"] is not None and row["attempts"] == 1 and row["last_error"] is None
    (envelope,) = event_bus.published()
    assert envelope["detail"] == row["detail"] and row["detail"]["event_id"] == str(row["event_id"])
    assert relay() == {"published": 0, "failed": 0}


def test_a_bus_outage_delays_events_and_loses_none(domain_database, event_bus):
    url = domain_database("identity")
    events.use_client(Unreachable())
    tokens = [register(f"user{i}@example.com").json()["access_token"] for i in range(3)]
    assert all(tokens)  # every request succeeded while the bus was down
    pending = outbox(url)
    assert [row["published_at"] for row in pending] == [None] * 3
    assert all(row["attempts"] == 1 and "events.invalid" in row["last_error"] for row in pending)
    assert relay() == {"published": 0, "failed": 3}  # still down: the relay keeps them
    assert event_bus.published() == []

    events.use_client(None)  # the bus is back
    assert relay() == {"published": 3, "failed": 0}
    delivered = event_bus.published()
    assert sorted(e["detail"]["user_id"] for e in delivered) == sorted(str(decode_token(t).user_id) for t in tokens)
    assert all(row["published_at"] is not None and row["attempts"] == 3 for row in outbox(url))
    assert relay() == {"published": 0, "failed": 0} and event_bus.published() == []  # exactly once


def test_a_bus_that_refuses_entries_keeps_them_pending(domain_database, event_bus, monkeypatch):
    # moto reports a failed entry for a bus that does not exist.
    url = domain_database("identity")
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    assert register().status == 200
    (row,) = outbox(url)
    assert row["published_at"] is None and row["last_error"]
    monkeypatch.setenv("EVENT_BUS_NAME", event_bus.name)
    assert relay() == {"published": 1, "failed": 0}
    assert len(event_bus.published()) == 1


def test_without_a_bus_configured_events_wait_in_the_outbox(domain_database, aws, monkeypatch):
    url = domain_database("identity")
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    assert register().status == 200
    (row,) = outbox(url)
    assert row["published_at"] is None and row["last_error"] == "EVENT_BUS_NAME is not set"


def test_the_relay_drains_more_than_one_batch_oldest_first(domain_database, event_bus):
    url = domain_database("identity")
    with psycopg.connect(url) as conn:
        for i in range(events.BATCH_SIZE * 2 + 3):
            events.record(conn, "eduplatform.identity", "UserRegistered", {"user_id": str(uuid.uuid4()), "n": i})
    assert relay() == {"published": 23, "failed": 0}
    assert [e["detail"]["n"] for e in event_bus.published()] == list(range(23))


def test_rows_locked_by_one_relay_are_skipped_by_another(domain_database, event_bus):
    url = domain_database("identity")
    with psycopg.connect(url) as conn:
        locked = events.record(conn, "eduplatform.identity", "UserRegistered", {"user_id": "a"}).event_id
        free = events.record(conn, "eduplatform.identity", "UserRegistered", {"user_id": "b"}).event_id
    with psycopg.connect(url) as other_relay:
        other_relay.execute("SELECT 1 FROM outbox WHERE event_id = %s FOR UPDATE", (locked,))
        assert relay() == {"published": 1, "failed": 0}
    assert [e["detail"]["event_id"] for e in event_bus.published()] == [str(free)]


def test_an_event_of_a_rolled_back_transaction_never_exists(domain_database, event_bus):
    url = domain_database("identity")
    from eduplatform.db import database

    def record_then_fail() -> None:
        with database().transaction() as conn:
            events.record(conn, "eduplatform.identity", "UserRegistered", {"user_id": "x"})
            raise RuntimeError("the business write failed")

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert outbox(url) == [] and relay() == {"published": 0, "failed": 0}


def test_a_failing_fast_path_never_fails_the_committed_request(domain_database, event_bus, monkeypatch):
    url = domain_database("identity")

    def database_gone(*_args, **_kwargs):
        raise ServiceUnavailableError("The domain database is unavailable, try again later")

    monkeypatch.setattr(events, "_mark", database_gone)  # the bus took the event, the database is gone
    assert register().status == 200
    assert [row["published_at"] for row in outbox(url)] == [None]  # the relay will send it again
    assert relay() == {"published": 1, "failed": 0}
    assert len(event_bus.published()) == 2  # at least once: consumers drop the repeat by its event_id


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


_Loader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: {suffix: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None},
)


@pytest.fixture(scope="module")
def resources():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)["Resources"]


@pytest.mark.parametrize(
    ("function", "variables"),
    [
        ("IdentityCredentialsFunction", {"EVENT_BUS_NAME"}),
        ("PaymentApiFunction", {"EVENT_BUS_NAME", "COURSE_FACTS_FUNCTION", "IDEMPOTENCY_TABLE"}),
        ("EnrollmentApiFunction", {"EVENT_BUS_NAME", "COURSE_FACTS_FUNCTION", "PAYMENT_FACTS_FUNCTION"}),
        ("CourseApiFunction", {"EVENT_BUS_NAME"}),
        (
            "EnrollmentInternalRebuildReadModelsFunction",
            {"COURSE_FACTS_PAGE_FUNCTION", "COMPLETED_PAYMENTS_PAGE_FUNCTION"},
        ),
        ("PaymentInternalRebuildReadModelsFunction", {"COURSE_FACTS_PAGE_FUNCTION"}),
    ],
)
def test_callers_get_their_dependencies_names_and_permissions(resources, function, variables):
    properties = resources[function]["Properties"]
    assert variables <= set(properties["Environment"]["Variables"])
    # A function sharing its domain's role has its permissions on that role's function.
    role = (properties.get("Role") or {}).get("Fn::GetAtt", [""])[0]
    role_properties = resources[role.removesuffix("Role")]["Properties"] if role else properties
    policy_names = {next(iter(policy)) for policy in role_properties["Policies"]}
    if "EVENT_BUS_NAME" in variables:
        assert "EventBridgePutEventsPolicy" in policy_names
    if any(variable.endswith("_FUNCTION") for variable in variables):
        assert "LambdaInvokePolicy" in policy_names


@pytest.mark.parametrize("domain", ["identity", "course", "payment", "enrollment"])
def test_each_emitting_domain_has_a_scheduled_outbox_relay(resources, domain):
    properties = resources[f"{domain.capitalize()}InternalOutboxRelayFunction"]["Properties"]
    assert properties["Handler"] == f"{domain}.internal.outbox_relay.handler"
    assert properties["Events"]["Schedule"] == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    assert {"EVENT_BUS_NAME", "DATABASE_URL"} <= set(properties["Environment"]["Variables"])
    assert "EventBridgePutEventsPolicy" in {next(iter(policy)) for policy in properties["Policies"]}


def test_the_consumer_reports_partial_failures_and_the_queue_has_a_dead_letter_queue(resources):
    queue = resources["NotificationQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    assert queue["VisibilityTimeout"] >= resources["NotificationConsumerFunction"]["Properties"]["Timeout"]
    source = resources["NotificationConsumerFunction"]["Properties"]["Events"]["DomainEvents"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (
        resources["PaymentInternalPaymentFactsFunction"]["Properties"]["Handler"]
        == "payment.internal.payment_facts.handler"
    )
