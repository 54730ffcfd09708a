"""The metrics bridge: the functions' EMF records in CloudWatch Logs -> Prometheus on :9108.

    python -m infra.metrics.bridge [--stack eduplatform] [--port 9108] [--state-file .local/metrics-bridge-state.json]

Every ``--interval`` seconds it lists the ``/aws/lambda/*`` log groups (only the
functions of ``--stack`` when given), reads each group's new events with
``FilterLogEvents`` and folds the EMF records into the counters and histograms of
``infra.metrics.emf``. Reading is exactly-once across restarts: the per-group cursor
(a watermark timestamp and the ids of the events seen in the last ``--lookback``
seconds) is saved atomically in one file *together with* the metric totals, so a
restarted bridge neither re-counts what it already exported nor starts its counters
from zero. Events are re-read from ``watermark - lookback`` on every poll so that an
event stored late with an older timestamp (concurrent invocations, CloudWatch ingestion
delay) is still counted once.

MiniStack specifics (see docs/metrics.md): it writes each invocation to a new log
stream, stamps every line of an invocation with the time the invocation ended, returns
events without ``eventId`` (the stream name and the message identify them instead) and
truncates ``FilterLogEvents`` at ``limit`` without a ``nextToken``.

Besides the EMF-derived metrics it exposes ``http_requests_in_progress{service}`` (mean
concurrency over a recent window, from each request's start and end) and
``db_connections_in_use{domain}`` (sessions on each domain database, from
``pg_stat_activity``).
"""

import argparse
import hashlib
import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from infra.config import DOMAINS, EMULATOR_URL, ROOT, local_database_urls
from infra.metrics.emf import MetricStore, RequestInterval, parse_emf, request_interval

DEFAULT_PORT = 9108
DEFAULT_STATE_FILE = ROOT / ".local" / "metrics-bridge-state.json"
LAMBDA_LOG_GROUP_PREFIX = "/aws/lambda/"
# FilterLogEvents caps a page at 10,000 events (AWS and MiniStack alike).
PAGE_LIMIT = 10_000
STATE_VERSION = 1

log = logging.getLogger("metrics-bridge")


# ---- reading log groups exactly once --------------------------------------------------------


@dataclass
class LogGroupCursor:
    watermark_ms: int | None = None
    seen: dict[str, int] = field(default_factory=dict)


def event_key(event: dict) -> str:
    if event.get("eventId"):
        return event["eventId"]
    digest = hashlib.sha1(event["message"].encode()).hexdigest()
    return f"{event.get('logStreamName', '')}/{event['timestamp']}/{digest}"


def emf_filter_pattern(namespace: str) -> str:
    # AWS matches it server-side; MiniStack treats JSON patterns as match-all and
    # parse_emf() drops the non-EMF lines client-side.
    return f'{{ $._aws.CloudWatchMetrics[0].Namespace = "{namespace}" }}'


class LogTailer:
    """Hands out each event of a log group once, given cursors that survive restarts."""

    def __init__(
        self,
        logs_client,
        namespace: str,
        lookback_ms: int,
        cursors: dict[str, LogGroupCursor] | None = None,
        page_limit: int = PAGE_LIMIT,
    ) -> None:
        self.logs = logs_client
        self.filter_pattern = emf_filter_pattern(namespace)
        self.lookback_ms = lookback_ms
        self.cursors = cursors if cursors is not None else {}
        self.page_limit = page_limit
        # When the last complete read of each group started (this machine's clock, in ms).
        self.read_started_ms: dict[str, int] = {}

    def read_new(self, group: str) -> list[dict]:
        started_ms = int(time.time() * 1000)
        cursor = self.cursors.get(group) or LogGroupCursor()
        start = 0 if cursor.watermark_ms is None else max(0, cursor.watermark_ms - self.lookback_ms)
        fresh: dict[str, dict] = {}
        for event in self._events_since(group, start):
            key = event_key(event)
            if key not in cursor.seen and key not in fresh:
                fresh[key] = event
        # The cursor moves only once the whole read succeeded: a failed read is retried as a whole.
        seen = dict(cursor.seen)
        seen.update((key, event["timestamp"]) for key, event in fresh.items())
        if seen:
            watermark = max(cursor.watermark_ms or 0, *seen.values())
            horizon = watermark - self.lookback_ms
            self.cursors[group] = LogGroupCursor(watermark, {key: ts for key, ts in seen.items() if ts >= horizon})
        self.read_started_ms[group] = started_ms
        return list(fresh.values())

    def prune_consumed(self, group: str) -> int:
        """Delete the group's log streams whose events have all been read.

        The emulator keeps every invocation's stream forever (one per invocation): without this
        its memory and each ``FilterLogEvents`` grow for as long as it runs. A stream whose last
        event is older than the last read's start minus the lookback was stored before that read
        began (events are stored at most ``lookback`` late) and lay in or before its window, so
        it has been read. Only for an emulator, whose clock is this machine's.
        """
        cursor = self.cursors.get(group)
        if cursor is None or group not in self.read_started_ms:
            return 0
        horizon = max(cursor.watermark_ms or 0, self.read_started_ms[group]) - self.lookback_ms
        consumed = [
            stream["logStreamName"]
            for page in self.logs.get_paginator("describe_log_streams").paginate(logGroupName=group)
            for stream in page.get("logStreams", [])
            if stream.get("lastEventTimestamp") is not None and stream["lastEventTimestamp"] < horizon
        ]
        for name in consumed:
            self.logs.delete_log_stream(logGroupName=group, logStreamName=name)
        return len(consumed)

    def _events_since(self, group: str, start_ms: int) -> Iterator[dict]:
        request = {
            "logGroupName": group,
            "startTime": start_ms,
            "filterPattern": self.filter_pattern,
            "limit": self.page_limit,
        }
        while True:
            page = self.logs.filter_log_events(**request)
            events = page.get("events", [])
            yield from events
            if page.get("nextToken"):
                request["nextToken"] = page["nextToken"]
            elif len(events) >= self.page_limit:
                # A full page without a nextToken (MiniStack): go on from its last timestamp;
                # the events of that millisecond come again and are dropped as already seen.
                last = events[-1]["timestamp"]
                if last <= request["startTime"]:
                    raise RuntimeError(f"{group}: more than {self.page_limit} events in one millisecond")
                request["startTime"] = last
            else:
                return


class LogGroupDiscovery:
    """The ``/aws/lambda/*`` log groups to read: all of them, or only those of some stacks' functions."""

    def __init__(self, logs_client, cloudformation_client, stacks: list[str], refresh_seconds: float = 30.0) -> None:
        self.logs = logs_client
        self.cloudformation = cloudformation_client
        self.stacks = stacks
        self.refresh_seconds = refresh_seconds
        self._stack_groups: set[str] = set()
        self._stack_groups_read_at = 0.0

    def groups(self) -> list[str]:
        existing = [
            group["logGroupName"]
            for page in self.logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=LAMBDA_LOG_GROUP_PREFIX
            )
            for group in page["logGroups"]
        ]
        if not self.stacks:
            return existing
        wanted = self._groups_of_stacks()
        return [group for group in existing if group in wanted]

    def _groups_of_stacks(self) -> set[str]:
        from botocore.exceptions import ClientError

        if self._stack_groups and time.monotonic() - self._stack_groups_read_at < self.refresh_seconds:
            return self._stack_groups
        groups = set()
        for stack in self.stacks:
            try:
                for page in self.cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
                    groups.update(
                        f"{LAMBDA_LOG_GROUP_PREFIX}{resource['PhysicalResourceId']}"
                        for resource in page["StackResourceSummaries"]
                        if resource["ResourceType"] == "AWS::Lambda::Function"
                    )
            except ClientError as exc:
                log.warning("cannot list the functions of stack %s: %s", stack, exc)
        self._stack_groups, self._stack_groups_read_at = groups, time.monotonic()
        return groups


# ---- derived gauges -------------------------------------------------------------------------


class ConcurrencyTracker:
    """Requests in progress per service, as the mean concurrency over a recent window.

    A record reaches the logs only when its request has ended, so the bridge cannot see
    the requests running *now*. It sees, for every finished request, when it started and
    ended; the time those intervals overlap a window, divided by the window's length, is
    the average number of requests executing during it (Little's law). The window ends
    ``settle`` seconds before the start of the last complete poll, by when every request
    overlapping it (shorter than ``settle``) had ended and been read.
    """

    def __init__(self, window_seconds: float = 10.0, settle_seconds: float = 2.0) -> None:
        self.window = window_seconds
        self.settle = settle_seconds
        self.intervals: dict[str, RequestInterval] = {}

    def add(self, key: str, interval: RequestInterval) -> None:
        self.intervals[key] = interval

    def mean_in_progress(self, read_until: float) -> dict[str, float]:
        window_end = read_until - self.settle
        window_start = window_end - self.window
        busy: dict[str, float] = defaultdict(float)
        for interval in self.intervals.values():
            overlap = min(interval.ended, window_end) - max(interval.started, window_start)
            if overlap > 0:
                busy[interval.service] += overlap
        return {service: seconds / self.window for service, seconds in busy.items()}

    def forget_before(self, now: float) -> None:
        horizon = now - self.settle - self.window - 60
        self.intervals = {key: interval for key, interval in self.intervals.items() if interval.ended >= horizon}


class DatabaseConnections:
    """Sessions open on each domain database, from ``pg_stat_activity`` (one query per server).

    A warm function keeps its connection between invocations, so an open session is a
    connection held by the application whether or not a query runs on it at this instant.
    """

    def __init__(self, urls: dict[str, str]) -> None:
        self.database_of = {domain: urlsplit(url).path.lstrip("/") for domain, url in urls.items()}
        self.servers: dict[str, list[str]] = defaultdict(list)
        self.url_of_server: dict[str, str] = {}
        for domain, url in urls.items():
            server = urlsplit(url)._replace(path="", query="").geturl().rsplit("@", 1)[-1]
            self.servers[server].append(domain)
            self.url_of_server.setdefault(server, url)
        self.connections: dict[str, object] = {}
        self.in_use: dict[str, int] = {}

    def poll(self) -> None:
        import psycopg

        in_use = {}
        for server, domains in self.servers.items():
            databases = [self.database_of[domain] for domain in domains]
            try:
                connection = self.connections.get(server)
                if connection is None or connection.closed:
                    connection = psycopg.connect(
                        self.url_of_server[server],
                        autocommit=True,
                        connect_timeout=3,
                        application_name="eduplatform-metrics-bridge",
                    )
                    self.connections[server] = connection
                rows = connection.execute(
                    "SELECT datname, count(*) FROM pg_stat_activity"
                    " WHERE datname = ANY(%s) AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                    " GROUP BY datname",
                    (databases,),
                ).fetchall()
            except psycopg.Error as exc:
                log.warning("cannot read pg_stat_activity on %s: %s", server, exc)
                self.connections.pop(server, None)
                continue
            counts = dict(rows)
            in_use.update({domain: counts.get(self.database_of[domain], 0) for domain in domains})
        self.in_use = in_use

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()


# ---- the bridge -----------------------------------------------------------------------------


class MetricsBridge:
    def __init__(
        self,
        logs_client,
        discovery: LogGroupDiscovery,
        state_file: Path,
        namespace: str = "EduPlatform",
        lookback_seconds: float = 5.0,
        databases: DatabaseConnections | None = None,
        concurrency: ConcurrencyTracker | None = None,
        prune_streams: bool = False,
    ) -> None:
        self.discovery = discovery
        self.prune_streams = prune_streams
        self.pruned_streams = 0
        self.state_file = Path(state_file)
        self.databases = databases
        self.concurrency = concurrency or ConcurrencyTracker()
        self.lock = threading.Lock()
        self.store, cursors = self._load_state(namespace)
        self.tailer = LogTailer(logs_client, namespace, int(lookback_seconds * 1000), cursors)
        self.log_groups = 0
        self.last_clean_poll_started: float | None = None
        self.poll_errors = 0

    def _load_state(self, namespace: str) -> tuple[MetricStore, dict[str, LogGroupCursor]]:
        if not self.state_file.exists():
            return MetricStore(namespace=namespace), {}
        state = json.loads(self.state_file.read_text())
        if state.get("version") != STATE_VERSION or state["metrics"]["namespace"] != namespace:
            raise SystemExit(
                f"{self.state_file} was written for another version or namespace; move it away to start afresh"
            )
        cursors = {
            group: LogGroupCursor(cursor["watermark_ms"], cursor["seen"]) for group, cursor in state["cursors"].items()
        }
        return MetricStore.restore(state["metrics"]), cursors

    def save_state(self) -> None:
        with self.lock:
            state = {
                "version": STATE_VERSION,
                "cursors": {
                    group: {"watermark_ms": cursor.watermark_ms, "seen": cursor.seen}
                    for group, cursor in self.tailer.cursors.items()
                },
                "metrics": self.store.snapshot(),
            }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.state_file.parent, prefix=self.state_file.name, delete=False
        ) as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, self.state_file)

    def poll_once(self) -> int:
        """Read every group's new events, fold them in and save; the number of records counted."""
        started = time.time()
        failed = False
        counted = 0
        groups = self.discovery.groups()
        for group in groups:
            try:
                events = self.tailer.read_new(group)
            except Exception as exc:  # one unreadable group must not stop the others
                log.warning("cannot read %s: %s", group, exc)
                failed = True
                continue
            with self.lock:
                for event in events:
                    record = parse_emf(event["message"])
                    if record is None or not self.store.add(record):
                        continue
                    counted += 1
                    interval = request_interval(record)
                    if interval is not None:
                        self.concurrency.add(event_key(event), interval)
            if self.prune_streams:
                try:
                    self.pruned_streams += self.tailer.prune_consumed(group)
                except Exception as exc:  # pruning is housekeeping: the next poll tries again
                    log.warning("cannot prune %s: %s", group, exc)
        if self.databases is not None:
            self.databases.poll()
        with self.lock:
            self.concurrency.forget_before(started)
            self.log_groups = len(groups)
            if failed:
                self.poll_errors += 1
            else:
                self.last_clean_poll_started = started
        self.save_state()
        return counted

    def run(self, interval_seconds: float, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("poll failed")
                with self.lock:
                    self.poll_errors += 1
            stop.wait(interval_seconds)
        self.save_state()
        if self.databases is not None:
            self.databases.close()

    def collect(self) -> Iterator[Metric]:
        """prometheus_client Collector protocol: the families to expose on every scrape."""
        with self.lock:
            yield from self.store.families()
            in_progress = GaugeMetricFamily(
                "http_requests_in_progress",
                "Mean concurrent executions over a recent window, per service",
                labels=["service"],
            )
            means = (
                {}
                if self.last_clean_poll_started is None
                else self.concurrency.mean_in_progress(self.last_clean_poll_started)
            )
            for service in sorted(self.store.services() | means.keys()):
                in_progress.add_metric([service], means.get(service, 0.0))
            yield in_progress
            if self.databases is not None:
                connections = GaugeMetricFamily(
                    "db_connections_in_use", "Sessions open on each domain database", labels=["domain"]
                )
                for domain, count in sorted(self.databases.in_use.items()):
                    connections.add_metric([domain], count)
                yield connections
            yield CounterMetricFamily(
                "emf_bridge_records", "EMF records folded into the metrics", value=self.store.records_ingested
            )
            yield CounterMetricFamily(
                "emf_bridge_poll_errors", "Polls in which a log group could not be read", value=self.poll_errors
            )
            yield GaugeMetricFamily("emf_bridge_log_groups", "Log groups read at the last poll", value=self.log_groups)
            if self.prune_streams:
                yield CounterMetricFamily(
                    "emf_bridge_pruned_log_streams",
                    "Log streams deleted once read (--prune-streams)",
                    value=self.pruned_streams,
                )
            if self.last_clean_poll_started is not None:
                yield GaugeMetricFamily(
                    "emf_bridge_last_poll_started_timestamp_seconds",
                    "Start of the last poll that read every log group: records stored before it are counted",
                    value=self.last_clean_poll_started,
                )


# ---- command line ---------------------------------------------------------------------------


def aws_clients(endpoint_url: str | None) -> tuple[object, object]:
    """Logs and CloudFormation clients: the emulator's (test credentials) or, without an endpoint, AWS's."""
    import boto3

    if endpoint_url is None:
        return boto3.client("logs"), boto3.client("cloudformation")
    options = {
        "endpoint_url": endpoint_url,
        "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    return boto3.client("logs", **options), boto3.client("cloudformation", **options)


def parse_database_options(options: list[str] | None) -> dict[str, str]:
    if not options:
        return local_database_urls()
    urls = {}
    for option in options:
        domain, separator, url = option.partition("=")
        if not separator or domain not in DOMAINS:
            raise SystemExit(f"--database expects <domain>=<url> with a domain among {', '.join(DOMAINS)}: {option!r}")
        urls[domain] = url
    return urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the functions' EMF metrics as Prometheus metrics")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--stack", action="append", default=[], help="read only this stack's functions (repeatable)")
    parser.add_argument(
        "--state-file", type=Path, default=DEFAULT_STATE_FILE, help="cursor and totals, kept across restarts"
    )
    parser.add_argument("--namespace", default="EduPlatform", help="EMF namespace the functions write")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    parser.add_argument(
        "--lookback",
        type=float,
        default=5.0,
        help="seconds re-read on every poll for late-stored events (raise it for AWS, e.g. 300)",
    )
    parser.add_argument("--endpoint-url", default=EMULATOR_URL, help="the emulator; pass '' for AWS itself")
    parser.add_argument(
        "--database", action="append", help="<domain>=<postgresql url> (default: samconfig's local stack)"
    )
    parser.add_argument("--no-databases", action="store_true", help="do not report database connections")
    parser.add_argument(
        "--prune-streams", action="store_true", help="delete log streams once read (an emulator's memory; never on AWS)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    logs, cloudformation = aws_clients(args.endpoint_url or None)
    databases = None if args.no_databases else DatabaseConnections(parse_database_options(args.database))
    bridge = MetricsBridge(
        logs,
        LogGroupDiscovery(logs, cloudformation, args.stack),
        args.state_file,
        namespace=args.namespace,
        lookback_seconds=args.lookback,
        databases=databases,
        prune_streams=args.prune_streams,
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(bridge)
    server, _ = start_http_server(args.port, addr=args.address, registry=registry)
    log.info("serving http://%s:%d/metrics; state in %s", args.address, args.port, args.state_file)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        bridge.run(args.interval, stop)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
