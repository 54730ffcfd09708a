"""Metrics end to end: traffic through the deployed API -> EMF in the emulator's CloudWatch Logs
-> the bridge's Prometheus metrics -> a real Prometheus evaluating the alert rules and every
Grafana panel's query."""

import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from infra.config import ROOT
from infra.local import aws
from tests.e2e.conftest import E2E_STACK

pytestmark = pytest.mark.e2e

PROMETHEUS_DIR = ROOT / "infra" / "prometheus"
DASHBOARD = ROOT / "infra" / "grafana" / "dashboards" / "eduplatform.json"
HEALTH = ("ops", "GET", "/health")
LOGIN = ("identity", "POST", "/login")
ME = ("identity", "GET", "/me")

Samples = dict[tuple[str, frozenset], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, message: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(interval)


class BridgeProcess:
    """One bridge instance for the e2e stack, on its own port with its own state file."""

    def __init__(self, state_file: Path, database_urls: dict[str, str], log_file: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.state_file = state_file
        self.database_urls = database_urls
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "infra.metrics.bridge",
            "--port",
            str(self.port),
            "--stack",
            E2E_STACK,
            "--state-file",
            str(self.state_file),
            "--interval",
            "0.5",
            *[f"--database={domain}={url}" for domain, url in self.database_urls.items()],
        ]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=aws.emulator_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.caught_up()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def scrape(self) -> Samples | None:
        try:
            text = requests.get(self.url, timeout=5).text
        except requests.ConnectionError:
            return None
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def caught_up(self) -> Samples:
        """The metrics once a poll that started after this call has read every log group.

        The emulator stores an invocation's log lines before the API answers, so every
        request answered before this call is in the returned totals.
        """
        asked_at = time.time()

        def after_a_fresh_poll():
            assert self.process is not None and self.process.poll() is None, self.log_file.read_text()[-3000:]
            samples = self.scrape()
            if samples and samples.get(("emf_bridge_last_poll_started_timestamp_seconds", frozenset()), 0) > asked_at:
                return samples
            return None

        return wait_until(after_a_fresh_poll, 60, f"the bridge did not complete a poll; see {self.log_file}")


def value(samples: Samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str) -> dict[frozenset, float]:
    """Label sets of ``name`` whose value changed, with the change."""
    keys = {labels for metric, labels in after.keys() | before.keys() if metric == name}
    changes = {labels: after.get((name, labels), 0.0) - before.get((name, labels), 0.0) for labels in keys}
    return {labels: change for labels, change in changes.items() if change}


def route_labels(route: tuple[str, str, str], **extra) -> dict[str, str]:
    service, method, path = route
    return {"service": service, "method": method, "route": path, **extra}


@pytest.fixture(scope="module")
def bridge(api, e2e_database_urls, tmp_path_factory):
    directory = tmp_path_factory.mktemp("metrics-bridge")
    process = BridgeProcess(directory / "state.json", e2e_database_urls, directory / "bridge.log")
    process.start()
    yield process
    process.stop()


def send_known_traffic(api, health: int, bad_logins: int, anonymous_me: int) -> int:
    """Requests with known outcomes; the bytes of the health answers."""
    health_bytes = 0
    for _ in range(health):
        response = api.request("GET", "/health")
        assert response.status_code == 200, response.text
        health_bytes += len(response.content)
    for _ in range(bad_logins):
        # A fresh unknown email each time: 5 failures for one account within 15 minutes lock it (429).
        email = f"nobody-{uuid.uuid4().hex[:12]}@example.com"
        response = api.request("POST", "/login", json={"email": email, "password": "wrong-password"})
        assert response.status_code == 400, response.text
    for _ in range(anonymous_me):
        assert api.request("GET", "/me").status_code == 401
    return health_bytes


def test_bridge_counters_and_histograms_move_by_exactly_the_traffic(api, bridge):
    before = bridge.caught_up()
    health_bytes = send_known_traffic(api, health=7, bad_logins=4, anonymous_me=3)
    after = bridge.caught_up()

    assert moved(before, after, "http_requests_total") == {
        frozenset(route_labels(HEALTH, status="200").items()): 7,
        frozenset(route_labels(LOGIN, status="400").items()): 4,
        frozenset(route_labels(ME, status="401").items()): 3,
    }
    expected_counts = {HEALTH: 7, LOGIN: 4, ME: 3}
    for histogram in ("http_request_duration_seconds", "http_response_size_bytes"):
        assert moved(before, after, f"{histogram}_count") == {
            frozenset(route_labels(route).items()): count for route, count in expected_counts.items()
        }
        for route, count in expected_counts.items():
            labels = route_labels(route, le="+Inf")
            assert (
                value(after, f"{histogram}_bucket", **labels) - value(before, f"{histogram}_bucket", **labels) == count
            )
    duration_added = value(after, "http_request_duration_seconds_sum", **route_labels(HEALTH)) - value(
        before, "http_request_duration_seconds_sum", **route_labels(HEALTH)
    )
    assert 0 < duration_added < 7 * 5
    assert (
        value(after, "http_response_size_bytes_sum", **route_labels(HEALTH))
        - value(before, "http_response_size_bytes_sum", **route_labels(HEALTH))
    ) == health_bytes

    # /health pings every domain database through PgBouncer, which keeps those server connections.
    connections = {
        dict(labels)["domain"]: count for (name, labels), count in after.items() if name == "db_connections_in_use"
    }
    assert set(connections) == {"identity", "course", "enrollment", "payment", "notification"}
    assert all(count >= 1 for count in connections.values()), connections
    assert any(name == "lambda_cold_starts_total" and dict(labels)["service"] == "ops" for name, labels in after)
    wait_until(
        lambda: value(bridge.scrape(), "http_requests_in_progress", service="ops") > 0,
        20,
        "requests in progress for ops never rose above 0",
    )


def test_a_restarted_bridge_counts_what_happened_while_it_was_down_once(api, bridge):
    before = bridge.caught_up()
    bridge.stop()
    send_known_traffic(api, health=5, bad_logins=0, anonymous_me=0)
    bridge.start()
    after = bridge.caught_up()
    assert moved(before, after, "http_requests_total") == {frozenset(route_labels(HEALTH, status="200").items()): 5}
    assert moved(before, after, "http_request_duration_seconds_count") == {frozenset(route_labels(HEALTH).items()): 5}


# ---- Prometheus ---------------------------------------------------------------------------------


def promtool(*arguments: str) -> str:
    result = subprocess.run(["promtool", *arguments], capture_output=True, text=True, cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target of every panel, Grafana's variables filled in."""
    dashboard = json.loads(DASHBOARD.read_text())
    substitutions = {"$__rate_interval": "1m", "$__range": "5m", "$service": ".*"}
    queries = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, replacement in substitutions.items():
                expr = expr.replace(variable, replacement)
            assert "$" not in expr, f"unhandled variable in {panel['title']}: {expr}"
            queries.append((panel["title"], expr))
    return queries


@pytest.fixture
def prometheus(bridge, tmp_path):
    binary = shutil.which("prometheus")
    assert binary, "Prometheus is not installed: apt-get install prometheus (make test does it)"
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
    (scrape,) = config["scrape_configs"]
    scrape["static_configs"] = [{"targets": [f"127.0.0.1:{bridge.port}"]}]
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    promtool("check", "config", str(config_file))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "prometheus.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:

        def ready() -> bool:
            assert process.poll() is None, log_file.read_text()[-3000:]
            try:
                return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(ready, 30, "Prometheus did not become ready")
        yield url, scrape["job_name"]
    finally:
        process.terminate()
        process.wait(timeout=15)


def instant_query(url: str, expr: str) -> list[dict]:
    response = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]


def has_numbers(result: list[dict]) -> bool:
    return any(not math.isnan(float(series["value"][1])) for series in result)


def test_prometheus_config_and_alert_rules_are_valid():
    promtool("check", "config", "prometheus.yml")
    promtool("check", "rules", "alerts.yml")
    promtool("test", "rules", "alerts_test.yml")


def test_every_dashboard_panel_returns_data_from_a_real_prometheus(api, prometheus, register_user):
    url, job = prometheus
    wait_until(
        lambda: [series for series in instant_query(url, f'up{{job="{job}"}}') if series["value"][1] == "1"],
        30,
        "Prometheus never scraped the bridge successfully",
    )
    rules = requests.get(f"{url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert Counter(rule["name"] for group in rules for rule in group["rules"]) == {
        "HighErrorRate": 1,
        "HighP99Latency": 1,
        "LimitStoreFailing": 1,
    }
    assert all(rule["health"] != "err" for group in rules for rule in group["rules"])

    queries = dashboard_queries()
    assert {title for title, _ in queries} == {panel["title"] for panel in json.loads(DASHBOARD.read_text())["panels"]}
    pending = dict.fromkeys(queries)
    student = register_user("student")
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        send_known_traffic(api, health=3, bad_logins=1, anonymous_me=1)
        # A course no read model has seen: enrollment asks the course domain once (a fallback), then 404.
        unknown = api.request("POST", "/enrollments", token=student.token, json={"course_id": str(uuid.uuid4())})
        assert unknown.status_code == 404, unknown.text
        for title, expr in list(pending):
            if has_numbers(instant_query(url, expr)):
                del pending[(title, expr)]
        time.sleep(1)
    assert not pending, f"panels without data: {list(pending)}"
