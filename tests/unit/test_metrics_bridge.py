"""The metrics bridge: EMF records -> Prometheus samples, and reading the logs exactly once."""

import json
import time

import boto3
import pytest
from aws_lambda_powertools.metrics.provider import cold_start
from moto import mock_aws
from prometheus_client import CollectorRegistry

from infra.metrics.bridge import ConcurrencyTracker, LogTailer, MetricsBridge, emf_filter_pattern
from infra.metrics.emf import MetricStore, RequestInterval, parse_emf, request_interval
from tests.support.lambda_events import FakeLambdaContext, proxy_event

from eduplatform.http import create_app, lambda_handler

GROUP = "/aws/lambda/eduplatform-CourseListFunction-1"


def emf_line(
    timestamp_ms: int,
    *,
    service: str = "course",
    route: str = "/courses",
    method: str = "GET",
    status: str = "200",
    duration_ms: float | list[float] = 12.0,
    size: float = 300.0,
    namespace: str = "EduPlatform",
    duration_unit: str = "Milliseconds",
) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [["route", "method", "status", "service"]],
                        "Metrics": [
                            {"Name": "Requests", "Unit": "Count"},
                            {"Name": "Duration", "Unit": duration_unit},
                            {"Name": "ResponseSize", "Unit": "Bytes"},
                        ],
                    }
                ],
            },
            "route": route,
            "method": method,
            "status": status,
            "service": service,
            "Requests": [1.0],
            "Duration": duration_ms if isinstance(duration_ms, list) else [duration_ms],
            "ResponseSize": [size],
            "request_id": f"req-{timestamp_ms}-{route}-{status}",
        }
    )


def registry_of(collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


class StoreCollector:
    def __init__(self, store: MetricStore) -> None:
        self.store = store

    def collect(self):
        return self.store.families()


def sample(registry: CollectorRegistry, name: str, **labels) -> float | None:
    return registry.get_sample_value(name, labels)


# ---- EMF -> Prometheus ----------------------------------------------------------------------


def test_records_printed_by_the_layer_handler_become_request_metrics(capsys):
    app = create_app()

    @app.get("/things/<thing_id>")
    def get_thing(thing_id: str) -> dict:
        if thing_id == "boom":
            raise RuntimeError("unhandled")
        return {"id": thing_id}

    handler = lambda_handler(app)
    cold_start.is_cold_start = True
    capsys.readouterr()
    for thing_id in ("a", "b", "c"):
        assert (
            handler(proxy_event("GET", "/things/{thing_id}", {"thing_id": thing_id}), FakeLambdaContext())["statusCode"]
            == 200
        )
    failed = handler(
        proxy_event("GET", "/things/{thing_id}", {"thing_id": "boom"}), FakeLambdaContext(function_name="things")
    )
    assert failed["statusCode"] == 500
    records = [parse_emf(line) for line in capsys.readouterr().out.splitlines()]
    records = [record for record in records if record is not None]

    store = MetricStore()
    assert all(store.add(record) for record in records)
    registry = registry_of(StoreCollector(store))
    route = {"service": "test", "method": "GET", "route": "/things/{thing_id}"}
    assert sample(registry, "http_requests_total", **route, status="200") == 3
    assert sample(registry, "http_requests_total", **route, status="500") == 1
    assert sample(registry, "http_request_duration_seconds_count", **route) == 4
    assert 0 < sample(registry, "http_request_duration_seconds_sum", **route) < 4
    assert sample(registry, "http_response_size_bytes_count", **route) == 4
    assert sample(registry, "http_response_size_bytes_sum", **route) == 3 * len(
        json.dumps({"id": "a"}, separators=(",", ":"))
    ) + len(failed["body"])
    assert sample(registry, "lambda_cold_starts_total", service="test", function_name="test-function") == 1
    assert len(records) == 5  # four requests and one cold start


def test_read_model_fallbacks_are_counted_per_route(capsys):
    from eduplatform import read_models

    app = create_app()

    @app.post("/things")
    def make_thing() -> dict:
        read_models.count_fallback("course_facts", "course-1")
        return {}

    handler = lambda_handler(app)
    capsys.readouterr()
    for _ in range(2):
        handler(proxy_event("POST", "/things"), FakeLambdaContext())
    store = MetricStore()
    for record in filter(None, (parse_emf(line) for line in capsys.readouterr().out.splitlines())):
        store.add(record)
    registry = registry_of(StoreCollector(store))
    assert sample(registry, "read_model_fallbacks_total", service="test", method="POST", route="/things") == 2
    restored = registry_of(StoreCollector(MetricStore.restore(store.snapshot())))
    assert sample(restored, "read_model_fallbacks_total", service="test", method="POST", route="/things") == 2


def test_limit_store_failures_are_counted_per_route(capsys):
    from aws_lambda_powertools.metrics import MetricUnit

    from eduplatform.observability import metrics

    app = create_app()

    @app.post("/login")
    def login() -> dict:
        metrics.add_metric(name="LimitStoreUnavailable", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="SessionStoreUnavailable", unit=MetricUnit.Count, value=1)
        return {}

    handler = lambda_handler(app)
    capsys.readouterr()
    handler(proxy_event("POST", "/login"), FakeLambdaContext())
    store = MetricStore()
    for record in filter(None, (parse_emf(line) for line in capsys.readouterr().out.splitlines())):
        store.add(record)
    registry = registry_of(StoreCollector(store))
    assert sample(registry, "limit_store_failures_total", service="test", method="POST", route="/login") == 2


def test_durations_are_converted_to_seconds_and_bucketed():
    store = MetricStore()
    store.add(parse_emf(emf_line(1_000, duration_ms=[7.0, 400.0, 30_000.0])))
    store.add(parse_emf(emf_line(2_000, duration_ms=0.2, duration_unit="Seconds")))
    registry = registry_of(StoreCollector(store))
    labels = {"service": "course", "method": "GET", "route": "/courses"}
    bucket = lambda le: sample(registry, "http_request_duration_seconds_bucket", **labels, le=le)  # noqa: E731
    assert [bucket("0.005"), bucket("0.01"), bucket("0.25"), bucket("0.5"), bucket("10.0"), bucket("+Inf")] == [
        0,
        1,
        2,
        3,
        3,
        4,
    ]
    assert sample(registry, "http_request_duration_seconds_sum", **labels) == pytest.approx(0.007 + 0.4 + 30 + 0.2)
    assert sample(registry, "http_requests_total", **labels, status="200") == 2
    assert sample(registry, "http_response_size_bytes_bucket", **labels, le="500.0") == 2


def test_lines_that_are_not_our_emf_records_are_ignored():
    store = MetricStore()
    assert parse_emf("START RequestId: 1 Version: $LATEST") is None
    assert parse_emf('{"level":"INFO","message":"request handled"}') is None
    assert parse_emf('{"_aws": "not a directive"}') is None
    assert store.add(parse_emf(emf_line(1_000, namespace="SomeoneElse"))) is False
    assert store.records_ingested == 0 and store.requests == {}


def test_a_record_gives_the_interval_its_request_ran():
    interval = request_interval(parse_emf(emf_line(10_000, duration_ms=250.0)))
    assert interval == RequestInterval(service="course", started=9.75, ended=10.0)


def test_store_snapshot_restores_the_same_exposition():
    store = MetricStore()
    store.add(parse_emf(emf_line(1_000)))
    store.add(parse_emf(emf_line(2_000, status="404", duration_ms=900.0)))
    restored = MetricStore.restore(json.loads(json.dumps(store.snapshot())))
    original, copy = registry_of(StoreCollector(store)), registry_of(StoreCollector(restored))
    assert list(original.collect()) == list(copy.collect())


def test_mean_concurrency_is_overlap_time_over_the_window():
    tracker = ConcurrencyTracker(window_seconds=10, settle_seconds=2)
    now = 1_000.0
    # Window is [988, 998]: two requests running for 5 s each overlap it fully, one half of it.
    tracker.add("a", RequestInterval("course", 990.0, 995.0))
    tracker.add("b", RequestInterval("course", 992.0, 997.0))
    tracker.add("c", RequestInterval("identity", 996.0, 1_000.0))
    tracker.add("d", RequestInterval("identity", 900.0, 901.0))
    assert tracker.mean_in_progress(now) == {"course": pytest.approx(1.0), "identity": pytest.approx(0.2)}
    tracker.forget_before(now)
    assert "d" not in tracker.intervals and "a" in tracker.intervals


# ---- reading CloudWatch Logs exactly once ----------------------------------------------------


class MiniStackLikeLogs:
    """FilterLogEvents as MiniStack answers it: no eventId, and a full page without nextToken."""

    def __init__(self) -> None:
        self.groups: dict[str, list[dict]] = {}
        self.calls = 0

    def put(self, group: str, timestamp: int, message: str, stream: str = "2026/01/01/[$LATEST]abc") -> None:
        events = self.groups.setdefault(group, [])
        events.append({"logStreamName": stream, "timestamp": timestamp, "message": message, "ingestionTime": timestamp})
        events.sort(key=lambda event: event["timestamp"])

    def filter_log_events(self, logGroupName, startTime=0, limit=10_000, filterPattern="", nextToken=None):
        self.calls += 1
        assert nextToken is None
        return {"events": [event for event in self.groups[logGroupName] if event["timestamp"] >= startTime][:limit]}


class StaticDiscovery:
    def __init__(self, logs: MiniStackLikeLogs) -> None:
        self.logs = logs

    def groups(self) -> list[str]:
        return sorted(self.logs.groups)


def requests_counted(bridge: MetricsBridge, route: str = "/courses") -> float:
    return (
        sample(registry_of(bridge), "http_requests_total", service="course", method="GET", route=route, status="200")
        or 0
    )


def test_tailer_pages_past_truncated_results_and_rereads_only_for_late_events():
    logs = MiniStackLikeLogs()
    for index in range(7):
        logs.put(GROUP, 1_000 + index // 2, emf_line(1_000 + index, route=f"/r{index}"))
    tailer = LogTailer(logs, "EduPlatform", lookback_ms=5_000, page_limit=4)
    assert len(tailer.read_new(GROUP)) == 7
    assert tailer.read_new(GROUP) == []
    # Stored after the cursor moved, yet stamped earlier: still inside the lookback, so read once.
    logs.put(GROUP, 1_001, emf_line(5_000, route="/late"))
    assert [json.loads(event["message"])["route"] for event in tailer.read_new(GROUP)] == ["/late"]
    assert tailer.read_new(GROUP) == []


def test_a_restarted_bridge_neither_recounts_nor_misses(tmp_path):
    logs = MiniStackLikeLogs()
    state_file = tmp_path / "bridge-state.json"
    now_ms = int(time.time() * 1000)
    for index in range(4):
        logs.put(GROUP, now_ms + index, emf_line(now_ms + index, route="/courses"), stream=f"stream-{index}")

    first = MetricsBridge(logs, StaticDiscovery(logs), state_file)
    assert first.poll_once() == 4
    assert requests_counted(first) == 4
    # Records stored while the bridge is down are counted by the next one, the old ones are not.
    for index in range(4, 7):
        logs.put(GROUP, now_ms + index, emf_line(now_ms + index, route="/courses"), stream=f"stream-{index}")
    del first

    second = MetricsBridge(logs, StaticDiscovery(logs), state_file)
    assert requests_counted(second) == 4
    assert second.poll_once() == 3
    assert second.poll_once() == 0
    assert requests_counted(second) == 7
    assert (
        sample(
            registry_of(second), "http_request_duration_seconds_count", service="course", method="GET", route="/courses"
        )
        == 7
    )
    assert sample(registry_of(second), "emf_bridge_last_poll_started_timestamp_seconds") == pytest.approx(
        time.time(), abs=5
    )


def test_a_failed_read_leaves_the_cursor_where_it_was(tmp_path):
    logs = MiniStackLikeLogs()
    logs.put(GROUP, 1_000, emf_line(1_000))
    bridge = MetricsBridge(logs, StaticDiscovery(logs), tmp_path / "state.json")
    healthy = logs.filter_log_events

    def failing(**kwargs):
        raise ConnectionError("emulator went away")

    logs.filter_log_events = failing
    assert bridge.poll_once() == 0
    assert sample(registry_of(bridge), "emf_bridge_poll_errors_total") == 1
    logs.filter_log_events = healthy
    assert bridge.poll_once() == 1
    assert requests_counted(bridge) == 1


@mock_aws
def test_tailer_follows_aws_event_ids_and_next_tokens():
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    now_ms = int(time.time() * 1000)
    # Two identical lines in one stream are two events: AWS tells them apart by eventId.
    messages = [emf_line(now_ms, route="/same")] * 2 + [emf_line(now_ms + i, route=f"/r{i}") for i in range(1, 5)]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": now_ms + i, "message": message} for i, message in enumerate(messages)],
    )
    tailer = LogTailer(logs, "EduPlatform", lookback_ms=60_000, page_limit=2)
    assert len(tailer.read_new(GROUP)) == 6
    assert tailer.read_new(GROUP) == []
    assert set(tailer.cursors[GROUP].seen.values()) <= {now_ms + i for i in range(6)}


def test_the_filter_pattern_selects_the_namespace():
    assert emf_filter_pattern("EduPlatform") == '{ $._aws.CloudWatchMetrics[0].Namespace = "EduPlatform" }'


@mock_aws
def test_pruning_deletes_only_streams_read_and_behind_the_reread_window(tmp_path):
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    now_ms = int(time.time() * 1000)
    for name, timestamp in (("old-1", now_ms - 60_000), ("old-2", now_ms - 30_000), ("recent", now_ms)):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=name)
        logs.put_log_events(
            logGroupName=GROUP, logStreamName=name, logEvents=[{"timestamp": timestamp, "message": emf_line(timestamp)}]
        )
    bridge = MetricsBridge(
        logs,
        StaticDiscovery(type("Groups", (), {"groups": {GROUP: []}})()),
        tmp_path / "state.json",
        lookback_seconds=5.0,
        prune_streams=True,
        databases=None,
    )

    assert bridge.poll_once() == 3
    assert sample(registry_of(bridge), "emf_bridge_pruned_log_streams_total") == 2
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]] == ["recent"]
    assert bridge.poll_once() == 0
    assert requests_counted(bridge) == 3


def test_without_pruning_the_tailer_deletes_nothing(tmp_path):
    logs = MiniStackLikeLogs()
    logs.put(GROUP, 1_000, emf_line(1_000))
    bridge = MetricsBridge(logs, StaticDiscovery(logs), tmp_path / "state.json")
    assert bridge.poll_once() == 1
    assert bridge.pruned_streams == 0
