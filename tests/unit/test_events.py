"""Domain events end to end in-process: recorded in the outbox with the change, published by
the domain's outbox relay (moto EventBridge -> SQS), consumed into notifications; the relay
through a bus outage, started by commits and listening until idle; and the internal-call helpers."""

import io
import json
import threading
import time
import uuid

import psycopg
import pytest
import yaml
from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
from psycopg.rows import dict_row

from infra.config import ROOT
from tests.support.aws_fakes import aws, event_bus, facts  # noqa: F401 (fixtures)
from tests.support.lambda_events import FakeLambdaContext, call, envelope, sqs_event

from eduplatform import consumers, events, internal_calls
from eduplatform import relay as outbox_relay_module
from eduplatform.db import Database
from eduplatform.security import decode_token
from eduplatform.settings import get_settings


def register(email="ada@example.com"):
    return call("identity.handlers.register", body={"email": email, "password": "password123", "name": "Ada"})


def test_register_publishes_user_registered_once(domain_database, event_bus):
    domain_database("identity")
    token = register().json()["access_token"]
    assert register().status == 409
    (envelope,) = event_bus.relayed()
    assert envelope["source"] == "eduplatform.identity" and envelope["detail-type"] == "UserRegistered"
    detail = envelope["detail"]
    assert detail["user_id"] == str(decode_token(token).user_id)
    assert detail["name"] == "Ada" and detail["role"] == "student" and "password" not in json.dumps(detail)
    uuid.UUID(detail["event_id"])


def test_a_published_event_becomes_one_notification_even_when_replayed(domain_database, event_bus):
    domain_database("identity")
    token = register().json()["access_token"]
    (envelope,) = event_bus.relayed()

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


class NoBus:
    """An EventBridge client a request must never use: the relay publishes, not the request."""

    def put_events(self, **_):
        raise AssertionError("a request called the bus")


def test_a_request_records_its_event_and_leaves_publishing_to_the_relay(domain_database, event_bus):
    url = domain_database("identity")
    outbox_relay_module.use_client(NoBus())
    assert register().status == 200
    (row,) = outbox(url)
    assert row["published_at"] is None and row["attempts"] == 0 and row["last_error"] is None
    outbox_relay_module.use_client(None)
    assert relay() == {"published": 1, "failed": 0}
    (row,) = outbox(url)
    assert row["published_at"] is not None and row["attempts"] == 1 and row["last_error"] is None
    (envelope,) = event_bus.published()
    assert envelope["detail"] == row["detail"] and row["detail"]["event_id"] == str(row["event_id"])
    assert relay() == {"published": 0, "failed": 0}


def test_a_bus_outage_delays_events_and_loses_none(domain_database, event_bus):
    url = domain_database("identity")
    outbox_relay_module.use_client(Unreachable())
    tokens = [register(f"user{i}@example.com").json()["access_token"] for i in range(3)]
    assert all(tokens)  # every request succeeded while the bus was down
    assert relay() == {"published": 0, "failed": 3}  # still down: the relay keeps them
    pending = outbox(url)
    assert [row["published_at"] for row in pending] == [None] * 3
    assert all(row["attempts"] == 1 and "events.invalid" in row["last_error"] for row in pending)
    assert event_bus.published() == []

    outbox_relay_module.use_client(None)  # the bus is back
    assert relay() == {"published": 3, "failed": 0}
    delivered = event_bus.published()
    assert sorted(e["detail"]["user_id"] for e in delivered) == sorted(str(decode_token(t).user_id) for t in tokens)
    assert all(row["published_at"] is not None and row["attempts"] == 2 for row in outbox(url))
    assert relay() == {"published": 0, "failed": 0} and event_bus.published() == []  # exactly once


def test_a_bus_that_refuses_entries_keeps_them_pending(domain_database, event_bus, monkeypatch):
    # moto reports a failed entry for a bus that does not exist.
    url = domain_database("identity")
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    assert register().status == 200
    assert relay() == {"published": 0, "failed": 1}
    (row,) = outbox(url)
    assert row["published_at"] is None and row["last_error"]
    monkeypatch.setenv("EVENT_BUS_NAME", event_bus.name)
    assert relay() == {"published": 1, "failed": 0}
    assert len(event_bus.published()) == 1


def test_without_a_bus_configured_events_wait_in_the_outbox(domain_database, aws, monkeypatch):
    url = domain_database("identity")
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    assert register().status == 200
    assert relay() == {"published": 0, "failed": 1}
    (row,) = outbox(url)
    assert row["published_at"] is None and row["last_error"] == "EVENT_BUS_NAME is not set"


def test_the_relay_drains_more_than_one_batch_oldest_first(domain_database, event_bus):
    url = domain_database("identity")
    with psycopg.connect(url) as conn:
        for i in range(outbox_relay_module.BATCH_SIZE * 2 + 3):
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


# ---- the listening relay -----------------------------------------------------------------------------------


class Deadline:
    """A run's remaining time, as a Lambda context counts it; ``hook`` runs at each look."""

    def __init__(self, seconds: float, hook=None):
        self.ends = time.monotonic() + seconds
        self.hook = hook

    def __call__(self) -> float:
        if self.hook:
            self.hook()
        return self.ends - time.monotonic()


def record_committed(url: str, user_id: str) -> None:
    with psycopg.connect(url) as conn:
        events.record(conn, "eduplatform.identity", "UserRegistered", {"user_id": user_id})


def published_at(url: str, user_id: str):
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT published_at FROM outbox WHERE detail->>'user_id' = %s", (user_id,)).fetchone()
    return row[0] if row else None


def relay_connections(url: str) -> list[str]:
    """The application names of the relay's connections to the database."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND starts_with(application_name, %s)",
            (events.LISTENER_APPLICATION_NAME,),
        ).fetchall()
    return [name for (name,) in rows]


def listeners(url: str) -> int:
    return len(relay_connections(url))


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time given"
        time.sleep(0.02)


@pytest.fixture
def listening(domain_database, monkeypatch):
    url = domain_database("identity")
    monkeypatch.setenv("LISTEN_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_a_listening_relay_publishes_a_commit_when_notified_and_ends_when_idle(listening, event_bus, monkeypatch):
    url = listening
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 1.0)
    record_committed(url, "before")  # pending when the run starts: published at once
    looks = []
    seen_while_listening: list[bool] = []

    def commit_while_listening():
        looks.append(time.monotonic())
        if len(looks) == 2:  # the run's first look comes before it listens, the second while it does
            record_committed(url, "while listening")
        elif len(looks) > 2 and listeners(url) and published_at(url, "while listening"):
            seen_while_listening.append(True)

    started = time.monotonic()
    totals = outbox_relay_module.listen(Deadline(60, commit_while_listening))
    assert time.monotonic() - started < 10  # idle after its last commit: it ended long before its deadline
    assert seen_while_listening  # published by the notification, while it still listened
    assert totals["published"] == 2 and totals["failed"] == 0 and totals["listened"] == 1
    assert sorted(e["detail"]["user_id"] for e in event_bus.published()) == ["before", "while listening"]
    assert listeners(url) == 0


def test_only_one_run_listens_and_a_second_publishes_once(listening, event_bus, monkeypatch):
    url = listening
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 30.0)
    # Runs are separate instances: the first one has a database connection of its own.
    first = threading.Thread(target=outbox_relay_module.listen, args=(Deadline(8), Database(url, name="first run")))
    first.start()
    while first.is_alive() and not listeners(url):
        time.sleep(0.05)
    record_committed(url, "meanwhile")
    started = time.monotonic()
    second = outbox_relay_module.listen(Deadline(60))
    assert time.monotonic() - started < 5  # it did not wait for commits
    assert second["listened"] == 0
    first.join(timeout=30)
    assert not first.is_alive()
    assert [e["detail"]["user_id"] for e in event_bus.published()] == ["meanwhile"]  # once, by either run


def test_a_commit_starts_the_relay_only_when_no_run_listens(listening, event_bus, monkeypatch):
    url = listening
    started = []
    monkeypatch.setattr(internal_calls, "start", lambda variable, payload: started.append((variable, payload)) or True)
    db = Database(url, name="writer")
    events.start_relay_if_idle(db)
    assert started == [(events.OUTBOX_RELAY_VARIABLE, events.LISTEN_EVENT)]

    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 30.0)
    run = threading.Thread(target=outbox_relay_module.listen, args=(Deadline(6), Database(url, name="listening run")))
    run.start()
    while run.is_alive() and not listeners(url):
        time.sleep(0.05)
    events.start_relay_if_idle(db)
    assert len(started) == 1  # a run listens: it publishes this commit's events
    run.join(timeout=30)
    events.start_relay_if_idle(db)
    assert len(started) == 2  # that run has ended: the next commit starts another


def test_a_request_that_records_starts_the_relay_after_its_commit(domain_database, event_bus, monkeypatch):
    url = domain_database("identity")
    started = []

    def start(variable, payload):
        (row,) = outbox(url)  # committed before the relay is started
        started.append((variable, payload, row["detail_type"]))
        return True

    monkeypatch.setattr(internal_calls, "start", start)
    assert register().status == 200
    assert started == [(events.OUTBOX_RELAY_VARIABLE, events.LISTEN_EVENT, "UserRegistered")]
    assert register().status == 409  # recorded nothing: starts nothing
    assert len(started) == 1


def test_a_writer_that_saw_a_run_listening_looks_again_only_after_a_while(listening, event_bus, monkeypatch):
    url = listening
    started = []
    monkeypatch.setattr(internal_calls, "start", lambda variable, payload: started.append(payload) or True)
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 30.0)
    run = threading.Thread(target=outbox_relay_module.listen, args=(Deadline(9), Database(url, name="listening run")))
    run.start()
    wait_for(lambda: events.LISTENING_APPLICATION_NAME in relay_connections(url))
    db = Database(url, name="writer")
    looks = []
    look = db.statement
    monkeypatch.setattr(db, "statement", lambda query, params=None: looks.append(query) or look(query, params))

    events.start_relay_if_idle(db)
    events.start_relay_if_idle(db)
    assert len(looks) == 1  # the second commit's notification goes to the run it saw listening
    time.sleep(events.LISTENER_TRUST_SECONDS)
    events.start_relay_if_idle(db)
    assert len(looks) == 2 and started == []
    run.join(timeout=30)
    events.start_relay_if_idle(db)
    assert len(looks) == 3 and started == [events.LISTEN_EVENT]  # that run has ended


def test_a_writer_looks_at_every_commit_while_a_run_does_not_show_itself_listening(listening, monkeypatch):
    url = listening
    started = []
    monkeypatch.setattr(internal_calls, "start", lambda variable, payload: started.append(payload) or True)
    db = Database(url, name="writer")
    looks = []
    look = db.statement
    monkeypatch.setattr(db, "statement", lambda query, params=None: looks.append(query) or look(query, params))
    # A run that is starting, ending or lost the listener's lock: it makes a pass after these commits.
    with psycopg.connect(url, application_name=events.LISTENER_APPLICATION_NAME):
        events.start_relay_if_idle(db)
        events.start_relay_if_idle(db)
    assert len(looks) == 2 and started == []


def test_a_run_that_no_longer_shows_itself_listening_still_takes_commits(listening, event_bus, monkeypatch):
    """The commits of a writer that still trusts what it saw wake the run up before it ends."""
    url = listening
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 2.0)
    monkeypatch.setattr(outbox_relay_module, "RELAY_ENDING_SECONDS", 1.5)
    totals = {}
    run = threading.Thread(
        target=lambda: totals.update(outbox_relay_module.listen(Deadline(60), Database(url, name="listening run")))
    )
    run.start()
    wait_for(lambda: events.LISTENING_APPLICATION_NAME in relay_connections(url))
    wait_for(lambda: relay_connections(url) == [events.LISTENER_APPLICATION_NAME])  # ending
    record_committed(url, "while ending")
    wait_for(lambda: published_at(url, "while ending") is not None, seconds=1.5)
    assert run.is_alive()  # published by the notification, not by the run's last pass
    wait_for(lambda: events.LISTENING_APPLICATION_NAME in relay_connections(url), seconds=1.0)
    run.join(timeout=30)
    assert totals["wakeups"] == 1 and totals["published"] == 1 and listeners(url) == 0


def test_a_run_ends_with_a_pass_after_its_listener_is_gone(listening, event_bus, monkeypatch):
    """A commit whose writer still saw the run listening is published by the run's last pass."""
    url = listening
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 0.5)
    real_wait = outbox_relay_module._wait_until_released

    def commit_as_the_run_stops(db, backend_pid):
        record_committed(url, "as it stopped")  # the writer would have seen the listener
        real_wait(db, backend_pid)

    monkeypatch.setattr(outbox_relay_module, "_wait_until_released", commit_as_the_run_stops)
    totals = outbox_relay_module.listen(Deadline(30))
    assert totals["published"] == 1
    assert [e["detail"]["user_id"] for e in event_bus.published()] == ["as it stopped"]


def test_the_relay_listens_when_a_commit_starts_it_and_runs_once_on_its_schedule(
    domain_database, event_bus, monkeypatch
):
    url = domain_database("identity")
    seen = []
    monkeypatch.setattr(
        outbox_relay_module, "listen", lambda remaining: seen.append(remaining()) or {"published": 0, "failed": 0}
    )
    relay()
    assert seen == []
    from identity.internal import outbox_relay

    assert outbox_relay.handler(events.LISTEN_EVENT, FakeLambdaContext(function_name="outbox-relay")) == {
        "published": 0,
        "failed": 0,
    }
    assert seen == [15.0]  # the context's remaining time, in seconds
    assert outbox(url) == []


def test_a_lost_listening_connection_is_opened_again(listening, event_bus, monkeypatch):
    url = listening
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 1.0)
    killed = []

    def kill_the_listener_once():
        if killed:
            return
        with psycopg.connect(url, autocommit=True) as admin:
            killed.extend(
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND starts_with(application_name, %s)",
                    (events.LISTENER_APPLICATION_NAME,),
                ).fetchall()
            )
        if killed:  # not before the run listens
            record_committed(url, "after the drop")

    totals = outbox_relay_module.listen(
        Deadline(outbox_relay_module.RELAY_STOP_MARGIN_SECONDS + 4, kill_the_listener_once)
    )
    assert killed and totals["published"] == 1
    assert [e["detail"]["user_id"] for e in event_bus.published()] == ["after the drop"]


def test_a_listening_run_outlives_its_domain_database_going_away(listening, event_bus, monkeypatch):
    url = listening
    record_committed(url, "pending")
    real_relay = outbox_relay_module.relay
    calls = []

    def database_gone_once(db=None):
        calls.append(db)
        if len(calls) == 1:
            raise ServiceUnavailableError("The domain database is unavailable, try again later")
        return real_relay(db)

    monkeypatch.setattr(outbox_relay_module, "relay", database_gone_once)
    monkeypatch.setattr(outbox_relay_module, "RELAY_IDLE_SECONDS", 0.5)
    totals = outbox_relay_module.listen(Deadline(outbox_relay_module.RELAY_STOP_MARGIN_SECONDS + 3))
    # The first pass failed (without the run ending: listen would have raised); a later one published.
    assert len(calls) >= 2 and totals["published"] == 1
    assert [e["detail"]["user_id"] for e in event_bus.published()] == ["pending"]


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
        ("PaymentApiFunction", {"COURSE_FACTS_FUNCTION", "IDEMPOTENCY_TABLE"}),
        ("EnrollmentApiFunction", {"COURSE_FACTS_FUNCTION", "PAYMENT_FACTS_FUNCTION"}),
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
def test_each_emitting_domain_has_an_outbox_relay_with_a_pass_every_minute(resources, domain):
    properties = resources[f"{domain.capitalize()}InternalOutboxRelayFunction"]["Properties"]
    assert properties["Handler"] == f"{domain}.internal.outbox_relay.handler"
    schedule = properties["Events"]["Schedule"]
    assert schedule == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}  # one pass, no listening
    variables = properties["Environment"]["Variables"]
    assert variables["LISTEN_DATABASE_URL"] == {"Ref": f"{domain.capitalize()}ListenDatabaseUrl"}
    assert {"EVENT_BUS_NAME", "DATABASE_URL"} <= set(variables)
    assert outbox_relay_module.put_own_events_policy(domain) in properties["Policies"]


RECORDING_ROUTES = {
    "identity": ["POST /register"],
    "course": [
        "POST /courses",
        "PUT /courses/{course_id}",
        "DELETE /modules/{module_id}",
        "POST /modules/{module_id}/lessons",
        "DELETE /lessons/{lesson_id}",
    ],
    "enrollment": ["POST /enrollments"],
    "payment": ["POST /payments"],
}


@pytest.mark.parametrize("domain", sorted(RECORDING_ROUTES))
def test_the_functions_that_record_events_may_start_their_domains_relay(resources, domain):
    relay_id = f"{domain.capitalize()}InternalOutboxRelayFunction"
    serving = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}": logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == "Api"
    }
    for route in RECORDING_ROUTES[domain]:
        properties = resources[serving[route]]["Properties"]
        # Through the relay's alias, like every call of a function (docs/deploy.md#snapstart).
        assert properties["Environment"]["Variables"][events.OUTBOX_RELAY_VARIABLE] == {"Ref": f"{relay_id}.Alias"}, (
            route
        )
        role = (properties.get("Role") or {}).get("Fn::GetAtt", [""])[0]
        role_properties = resources[role.removesuffix("Role")]["Properties"] if role else properties
        assert {"LambdaInvokePolicy": {"FunctionName": {"Ref": relay_id}}} in role_properties["Policies"], route


def put_events_statements(properties):
    return [
        statement
        for policy in properties.get("Policies", [])
        for statement in (policy.get("Statement") or [])
        if "events:PutEvents"
        in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]


@pytest.mark.parametrize("domain", ["identity", "course", "payment", "enrollment"])
def test_each_relay_may_put_only_its_own_source_on_the_bus(resources, domain):
    statements = put_events_statements(resources[f"{domain.capitalize()}InternalOutboxRelayFunction"]["Properties"])
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": {"Fn::GetAtt": ["EventBus", "Arn"]},
            "Condition": {"StringEquals": {"events:source": f"eduplatform.{domain}"}},
        }
    ]


def rule_branches(pattern):
    return pattern.get("$or") or [pattern]


def test_every_rule_pairs_each_source_with_its_own_types_only(resources):
    rules = {logical_id: r for logical_id, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    assert len(rules) >= 4
    routed = set()
    for logical_id, rule in rules.items():
        for branch in rule_branches(rule["Properties"]["EventPattern"]):
            assert set(branch) == {"source", "detail-type"}, logical_id
            assert len(branch["source"]) == 1, f"{logical_id}: one source per branch"
            (source,) = branch["source"]
            for detail_type in branch["detail-type"]:
                assert events.EVENT_OWNERS[detail_type] == source, f"{logical_id}: {detail_type} from {source}"
                routed.add(detail_type)
    assert routed == set(events.EVENT_OWNERS), "every event type reaches its consumers"


def test_an_event_is_taken_only_from_the_source_that_owns_its_type():
    detail = {"event_id": str(uuid.uuid4())}
    owned = consumers.owned_event(json.dumps(envelope("PaymentCompleted", detail)))
    assert (owned.source, owned.detail_type) == ("eduplatform.payment", "PaymentCompleted")
    with pytest.raises(consumers.ForeignEvent, match=r"PaymentCompleted events come from eduplatform\.payment"):
        consumers.owned_event(json.dumps(envelope("PaymentCompleted", detail, source="eduplatform.enrollment")))
    with pytest.raises(consumers.ForeignEvent, match="emits 'RefundIssued'"):
        consumers.owned_event(json.dumps(envelope("RefundIssued", detail, source="eduplatform.payment")))


def test_no_api_function_can_call_the_bus(resources):
    """Requests only record their events; the relays publish them."""
    api_functions = {
        logical_id: resource["Properties"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(event["Type"] == "Api" for event in (resource["Properties"].get("Events") or {}).values())
    }
    assert len(api_functions) >= 5
    for properties in api_functions.values():
        assert "EVENT_BUS_NAME" not in properties["Environment"]["Variables"]
        assert not put_events_statements(properties)
        assert "EventBridgePutEventsPolicy" not in {next(iter(policy)) for policy in properties.get("Policies", [])}


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
