"""What a measured window of the stack would cost on AWS: the records' parsing and the arithmetic.

``make cost`` (loadtest/cost.py) reads the stack's CloudWatch Logs in the emulator, the outbox
tables, the idempotency table and the function workers; this module turns what it read into
usage (``WindowUsage``) and usage into dollars at the list prices of loadtest/aws_prices.toml.
Kept apart from the measuring so that the unit tests exercise it on recorded lines.

Where each figure comes from:

- Lambda: every invocation's REPORT line (duration, memory size). MiniStack writes whole
  milliseconds cut down (``int()``) where AWS rounds up, so an invocation is billed its written
  duration plus 1 ms; AWS's own lines (two decimals) are billed their ``Billed Duration``.
- API Gateway: the load run's requests (Locust's count).
- EventBridge: the outbox rows published in the window, in 64 KB chunks.
- SQS: per consumer invocation its ``batch processed`` line (records received), hence one
  SendMessage per record (EventBridge's delivery), one ReceiveMessage and one DeleteMessageBatch
  per batch; plus the empty long polls of every event source mapping (modelled, aws_prices.toml).
- SES: the ``EmailsSent`` EMF metric. Data transfer out: the ``ResponseSize`` EMF metric.
- CloudWatch Logs: every event's message in UTF-8 plus 26 bytes; custom metrics: the distinct
  EMF metric name and dimension values seen (billed per month, not per request).
"""

import json
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from infra.metrics.emf import parse_emf

PRICES_FILE = Path(__file__).resolve().parent / "aws_prices.toml"
MILLION = 1_000_000
GB = 1024**3
SECONDS_PER_DAY = 86_400
# Fixed lines only the functions have (the containers' side of the comparison has its own).
FUNCTIONS_ONLY = {"Lambda SnapStart cache"}

REPORT = re.compile(
    r"^REPORT RequestId: (?P<request_id>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>\d+) ms\s+Memory Size: (?P<memory>\d+) MB\s+"
    r"Max Memory Used: (?P<max_memory>\d+) MB(?:\s+Init Duration: (?P<init>[\d.]+) ms)?"
)


def load_prices(path: Path = PRICES_FILE) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class Report:
    """A Lambda invocation's REPORT line."""

    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None
    # Written as a whole number of milliseconds (MiniStack) rather than with two decimals (AWS).
    whole_milliseconds: bool

    def aws_billed_ms(self) -> int:
        """What AWS bills for it: the duration rounded up to the millisecond, at least 1 ms.

        MiniStack's whole milliseconds are its durations cut down, so the rounded-up duration is
        one more (a duration of an exact number of milliseconds has no weight)."""
        if self.whole_milliseconds:
            return int(self.duration_ms) + 1
        return max(1, self.billed_ms, math.ceil(self.duration_ms))


def parse_report(message: str) -> Report | None:
    """The REPORT line of an invocation, or None for any other line."""
    match = REPORT.match(message.strip())
    if match is None:
        return None
    return Report(
        request_id=match["request_id"],
        duration_ms=float(match["duration"]),
        billed_ms=int(match["billed"]),
        memory_mb=int(match["memory"]),
        max_memory_used_mb=int(match["max_memory"]),
        init_ms=float(match["init"]) if match["init"] else None,
        whole_milliseconds="." not in match["duration"],
    )


def consumer_batch(message: str) -> tuple[int, int] | None:
    """(records, failed) of a queue consumer's ``batch processed`` line (eduplatform.events), else None."""
    if not message.startswith("{") or '"batch processed"' not in message:
        return None
    try:
        line = json.loads(message)
    except ValueError:
        return None
    if line.get("message") != "batch processed":
        return None
    return int(line.get("records", 0)), int(line.get("failed", 0))


@dataclass
class FunctionUsage:
    """One function's invocations in a window, from its REPORT lines (and its workers' CPU time)."""

    invocations: int = 0
    billed_ms: int = 0
    memory_mb: int = 0
    # CPU seconds its instances spent in the window (their processes' user + system time).
    cpu_seconds: float = 0.0

    @property
    def gb_seconds(self) -> float:
        return self.gb_seconds_at(self.memory_mb)

    def gb_seconds_at(self, memory_mb: int, mb_per_vcpu: int | None = None) -> float:
        """GB-seconds of its billed time at another memory size (the emulator's durations do not depend
        on it); with ``mb_per_vcpu``, its CPU time run at the CPU share Lambda gives that size.

        Below ``mb_per_vcpu`` an instance has that fraction of a core, so its CPU seconds take
        longer there by the inverse (bcrypt's most of all); the rest of its time (waiting on
        PostgreSQL, Redis, the bus) stays as measured. Assumes a core as fast as this machine's."""
        seconds = self.billed_ms / 1000
        if mb_per_vcpu is not None and memory_mb:
            cpu = min(self.cpu_seconds, seconds)
            seconds += cpu / min(1.0, memory_mb / mb_per_vcpu) - cpu
        return seconds * memory_mb / 1024


@dataclass
class WindowUsage:
    """What the stack used in one measured window."""

    seconds: float
    api_requests: int = 0
    functions: dict[str, FunctionUsage] = field(default_factory=dict)
    log_events: int = 0
    log_bytes: int = 0
    event_chunks: int = 0  # EventBridge PutEvents entries, in 64 KB chunks
    queue_records: int = 0
    queue_batches: int = 0
    queue_deletes: int = 0  # batches with at least one record processed (DeleteMessageBatch)
    event_source_mappings: int = 0
    emails: int = 0
    response_bytes: float = 0.0
    dynamodb_write_units: int = 0
    dynamodb_read_units: int = 0
    # Instances started in the window, and their memory: on AWS with SnapStart, each a restore.
    instance_starts: int = 0
    instance_start_gb: float = 0.0
    snapstart: bool = False
    custom_metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    def add_log_event(self, function: str, message: str, overhead_bytes: int) -> None:
        """Count one CloudWatch Logs event of a function and whatever record it carries."""
        self.log_events += 1
        self.log_bytes += len(message.encode()) + overhead_bytes
        report = parse_report(message)
        if report is not None:
            usage = self.functions.setdefault(function, FunctionUsage())
            usage.invocations += 1
            usage.billed_ms += report.aws_billed_ms()
            usage.memory_mb = report.memory_mb
            return
        batch = consumer_batch(message)
        if batch is not None:
            records, failed = batch
            self.queue_records += records
            self.queue_batches += 1
            self.queue_deletes += 1 if records > failed else 0
            return
        record = parse_emf(message)
        if record is None:
            return
        dimensions = tuple(sorted(record.dimensions.items()))
        for name, metric in record.metrics.items():
            self.custom_metrics.add((record.namespace, name, dimensions))
            if name == "EmailsSent":
                self.emails += int(sum(metric.values))
            elif name == "ResponseSize":
                self.response_bytes += sum(metric.values)

    def add_cpu_seconds(self, function: str, seconds: float) -> None:
        self.functions.setdefault(function, FunctionUsage()).cpu_seconds += seconds


@dataclass(frozen=True)
class Line:
    """One service's part of a window's bill."""

    service: str
    usage: str
    usd: float


def sqs_requests(usage: WindowUsage, prices: dict) -> tuple[int, int]:
    """(requests for the messages, empty long polls) in the window."""
    sqs = prices["sqs"]
    messages = usage.queue_records + usage.queue_batches + usage.queue_deletes
    polls = round(
        usage.event_source_mappings * sqs["idle_pollers_per_mapping"] * usage.seconds / sqs["long_poll_seconds"]
    )
    return messages, polls


def window_bill(
    usage: WindowUsage, prices: dict, memory_mb: dict[str, int] | None = None, cpu_share: bool = False
) -> list[Line]:
    """The window's bill per service. Lambda compute at the memory sizes of ``memory_mb`` (function ->
    MB; None: those its REPORT lines name), with ``cpu_share`` at Lambda's CPU share (FunctionUsage)."""
    lam = prices["lambda"]
    invocations = sum(f.invocations for f in usage.functions.values())
    gb_seconds = sum(
        f.gb_seconds_at(
            f.memory_mb if memory_mb is None else memory_mb.get(name, f.memory_mb),
            lam["mb_per_vcpu"] if cpu_share else None,
        )
        for name, f in usage.functions.items()
    )
    messages, polls = sqs_requests(usage, prices)
    logs_gb = usage.log_bytes / GB
    out_gb = usage.response_bytes / GB
    ddb = prices["dynamodb"]
    return [
        Line(
            "API Gateway (REST)",
            f"{usage.api_requests:,} requests",
            usage.api_requests / MILLION * prices["api_gateway"]["usd_per_million_rest_requests"],
        ),
        Line(
            "Lambda requests",
            f"{invocations:,} invocations",
            invocations / MILLION * lam["usd_per_million_requests"],
        ),
        Line("Lambda compute", f"{gb_seconds:,.1f} GB-s", gb_seconds * lam["usd_per_gb_second"]),
        *(
            [
                Line(
                    "Lambda SnapStart restores",
                    f"{usage.instance_starts:,} instances started, {usage.instance_start_gb:,.1f} GB",
                    usage.instance_start_gb * lam["snapstart_usd_per_gb_restored"],
                )
            ]
            if usage.snapstart
            else []
        ),
        Line(
            "EventBridge",
            f"{usage.event_chunks:,} events",
            usage.event_chunks / MILLION * prices["eventbridge"]["usd_per_million_custom_events"],
        ),
        Line(
            "SQS",
            f"{messages:,} for {usage.queue_records:,} messages + {polls:,} empty polls",
            (messages + polls) / MILLION * prices["sqs"]["usd_per_million_requests"],
        ),
        Line(
            "DynamoDB",
            f"{usage.dynamodb_write_units:,} WRU, {usage.dynamodb_read_units:,} RRU",
            usage.dynamodb_write_units / MILLION * ddb["usd_per_million_write_request_units"]
            + usage.dynamodb_read_units / MILLION * ddb["usd_per_million_read_request_units"],
        ),
        Line("SES", f"{usage.emails:,} emails", usage.emails / 1000 * prices["ses"]["usd_per_thousand_emails"]),
        Line(
            "CloudWatch Logs",
            f"{usage.log_events:,} events, {usage.log_bytes / 1024**2:,.1f} MB",
            logs_gb * prices["cloudwatch"]["usd_per_gb_logs_ingested"],
        ),
        Line(
            "Data transfer out",
            f"{usage.response_bytes / 1024**2:,.1f} MB of responses",
            out_gb * prices["data_transfer"]["usd_per_gb_out_to_internet"],
        ),
    ]


def total(lines: Iterable[Line]) -> float:
    return sum(line.usd for line in lines)


def per_million_requests(lines: list[Line], requests: int) -> float:
    if requests <= 0:
        raise ValueError("no API requests in the window: nothing to divide by")
    return total(lines) / requests * MILLION


def per_month(usd: float, window_seconds: float, prices: dict) -> float:
    """A window's dollars extrapolated to the price file's month (30 days)."""
    return usd * prices["month"]["days"] * SECONDS_PER_DAY / window_seconds


def fixed_monthly(
    prices: dict, custom_metrics: int, alarms: int, web_bytes: int, snapstart_gb: float = 0.0
) -> list[Line]:
    """What the stack costs a month whatever its traffic: the database, the cache, metrics, alarms, the
    web app's files, and with SnapStart (``snapstart_gb``: the functions' memory sizes together) its snapshots."""
    hours = prices["month"]["hours"]
    rds, cache, cloudwatch = prices["rds"], prices["elasticache"], prices["cloudwatch"]
    snapshots = (
        [
            Line(
                "Lambda SnapStart cache",
                f"a snapshot of every function, {snapstart_gb:.2f} GB",
                snapstart_gb * hours * 3600 * prices["lambda"]["snapstart_usd_per_gb_second_cached"],
            )
        ]
        if snapstart_gb
        else []
    )
    return [
        *snapshots,
        Line(
            "RDS PostgreSQL",
            rds["assumption"],
            rds["usd_per_hour"] * hours + rds["storage_gb"] * rds["usd_per_storage_gb_month"],
        ),
        Line("ElastiCache", cache["assumption"], cache["usd_per_hour"] * hours),
        Line(
            "CloudWatch metrics",
            f"{custom_metrics} custom metrics (EMF) seen",
            custom_metrics * cloudwatch["usd_per_custom_metric_month"],
        ),
        Line("CloudWatch alarms", f"{alarms} alarms of the template", alarms * cloudwatch["usd_per_alarm_month"]),
        Line(
            "S3",
            f"the web app, {web_bytes / 1024**2:.1f} MB",
            web_bytes / GB * prices["s3"]["usd_per_gb_month"],
        ),
    ]


def containers_monthly(prices: dict, requests_per_second: float, bytes_per_request: float) -> list[Line]:
    """The original system's always-on containers (aws_prices.toml [containers]) at a steady request rate."""
    c, hours = prices["containers"], prices["month"]["hours"]
    processed_gb_per_hour = requests_per_second * 3600 * bytes_per_request / GB
    return [
        Line(
            "Fargate tasks",
            f"{c['tasks']} x {c['task_vcpu']} vCPU, {c['task_memory_gb']} GB",
            c["tasks"] * (c["task_vcpu"] * c["usd_per_vcpu_hour"] + c["task_memory_gb"] * c["usd_per_gb_hour"]) * hours,
        ),
        Line(
            "Application Load Balancer",
            f"{max(1.0, processed_gb_per_hour):.2f} LCU",
            (c["load_balancer_usd_per_hour"] + max(1.0, processed_gb_per_hour) * c["load_balancer_usd_per_lcu_hour"])
            * hours,
        ),
        Line(
            "Public IPv4",
            f"{c['public_ipv4_addresses']} addresses",
            c["public_ipv4_addresses"] * c["usd_per_public_ipv4_hour"] * hours,
        ),
    ]


def break_even_requests_per_month(
    serverless_per_million: float, serverless_idle_per_month: float, containers_per_month: float
) -> float | None:
    """The monthly request volume above which the functions cost more than the containers (same fixed lines)."""
    if serverless_per_million <= 0:
        return None
    return max(0.0, containers_per_month - serverless_idle_per_month) / serverless_per_million * MILLION


def dynamodb_item_bytes(item: dict) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values (strings and binary by length,
    numbers by their significant digits), from the low-level attribute-value form."""

    def value_bytes(value: dict) -> int:
        ((kind, raw),) = value.items()
        if kind == "S":
            return len(raw.encode())
        if kind == "B":
            return len(raw)
        if kind == "N":
            digits = raw.lstrip("-").replace(".", "").lstrip("0") or "0"
            return math.ceil(len(digits) / 2) + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(name.encode()) + value_bytes(inner) for name, inner in raw.items())
        if kind == "L":
            return 3 + sum(1 + value_bytes(inner) for inner in raw)
        if kind in ("SS", "NS", "BS"):
            return sum(value_bytes({kind[0]: member}) for member in raw)
        raise ValueError(f"unknown DynamoDB attribute type {kind!r}")

    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


def idempotency_write_units(items: Iterable[dict]) -> int:
    """Write units of the idempotency records created in a window: Powertools puts each one
    in progress (one unit: a small item) and updates it with the response when done."""
    return sum(1 + math.ceil(dynamodb_item_bytes(item) / 1024) for item in items)
