"""`make cost`: what the stack would cost on AWS, from the records of a window measured on the emulator.

Two measurements of the running `make up` stack:

- **load** (default): tops up the warm instances (as `make loadtest`; --no-warm skips), runs the
  load mix (loadtest/locustfile.py) headless for --duration, then waits --drain seconds for the
  events it caused to be published and consumed. Takes the duration plus ~30 s.
- **idle** (--idle): sends nothing for --idle-minutes (default 10) and counts what the schedules
  invoke (outbox relays' passes, the mail relay, ...), extrapolated to a 30-day month. Takes
  the minutes given plus a few seconds.

Over the window it reads every function's CloudWatch Logs in the emulator (REPORT lines, EMF
records, the consumers' batch lines, every event's bytes), the outbox rows published (EventBridge
entries), the idempotency table (DynamoDB writes), and samples the function workers' processes
(peak resident memory, CPU time). loadtest/billing.py turns that into dollars at the list prices
of loadtest/aws_prices.toml. It prints a table per service, the fixed monthly lines (PostgreSQL,
Redis, metrics), the original system's containers for the same mix, each function's memory peak
and size, and as its last line one JSON object. Results under .local/cost/ (load.json,
idle.json); each JSON carries the latest figure of the other measurement too.

    .venv/bin/python -m loadtest.cost [--users 100] [--spawn-rate 10] [--duration 120s] [--write-peaks]
    .venv/bin/python -m loadtest.cost --idle [--idle-minutes 10]

--write-peaks rewrites infra/template/memory.toml with the measured peaks (then `make template`).
"""

import argparse
import contextlib
import csv
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from infra.config import ROOT, local_database_urls, stack_name
from infra.local.aws import aws_client, stack_outputs, stack_resources
from infra.local.emulator import emulator_pid
from infra.template import memory as memory_sizes
from infra.template.generate import answers_api, read_template, serverless_functions
from loadtest import billing
from loadtest.mix import locust_command, run_time
from loadtest.stack_sampler import children, cpu_seconds
from loadtest.steady import THROTTLED_LOGIN

RESULTS = ROOT / ".local" / "cost"
POLL_SECONDS = 2.0
# Events of the last second may still be on their way into the emulator's log store.
SETTLE_MS = 1000
# FilterLogEvents answers at most this many events (AWS and MiniStack alike).
PAGE_LIMIT = 10_000
WORKER = re.compile(r"ministack-lambda-(?P<instance>[^/\s]+)/_worker\.py")


# ---- the stack's functions ------------------------------------------------------------------


@dataclass(frozen=True)
class StackFunction:
    logical_id: str
    physical_name: str
    answers_api: bool
    schedule: str | None  # its Schedule event's expression
    event_source_mappings: int


def stack_functions(stack: str) -> list[StackFunction]:
    physical = stack_resources(stack)
    functions = []
    for logical_id, properties in serverless_functions(read_template()).items():
        if logical_id not in physical:
            continue
        events = (properties.get("Events") or {}).values()
        schedules = [e["Properties"].get("Schedule") for e in events if e.get("Type") == "Schedule"]
        functions.append(
            StackFunction(
                logical_id,
                physical[logical_id],
                answers_api(properties),
                schedules[0] if schedules else None,
                sum(1 for e in events if e.get("Type") == "SQS"),
            )
        )
    return functions


# ---- reading the log groups exactly once ----------------------------------------------------


class LogTail:
    """Every event of the functions' log groups from ``start_ms`` on, each handed out once.

    Each poll reads the events stamped between the last poll's bound and a bound SETTLE_MS before
    now (events are stored as they are stamped), so the windows partition time and nothing needs
    deduplicating. `make up`'s metrics bridge deletes streams once it has read them (5 s after
    their last event at the earliest), so the tail polls every POLL_SECONDS.
    """

    def __init__(self, logs, groups: dict[str, str], start_ms: int) -> None:
        self.logs = logs
        self.groups = groups  # log group -> logical id
        self.next_ms = dict.fromkeys(groups, start_ms)

    def poll(self, until_ms: int) -> list[tuple[str, dict]]:
        found = []
        for group, logical_id in self.groups.items():
            if until_ms <= self.next_ms[group]:
                continue
            found.extend((logical_id, event) for event in self._events(group, self.next_ms[group], until_ms))
            self.next_ms[group] = until_ms
        return found

    def _events(self, group: str, start_ms: int, until_ms: int) -> list[dict]:
        events: list[dict] = []
        while True:
            try:
                page = self.logs.filter_log_events(
                    logGroupName=group, startTime=start_ms, endTime=until_ms - 1, limit=PAGE_LIMIT
                )["events"]
            except self.logs.exceptions.ResourceNotFoundException:
                return events  # the function has not logged yet
            if len(page) < PAGE_LIMIT:
                return events + page
            # A full page (MiniStack gives no nextToken): the events of its last millisecond come again whole.
            last = page[-1]["timestamp"]
            if last <= start_ms:
                raise RuntimeError(f"{group}: more than {PAGE_LIMIT} events in one millisecond")
            events += [event for event in page if event["timestamp"] < last]
            start_ms = last


# ---- the function workers -------------------------------------------------------------------


def worker_function(command_line: str, physical_names: dict[str, str]) -> str | None:
    """The logical id of the function a MiniStack worker process runs (its folder names it)."""
    match = WORKER.search(command_line)
    if match is None:
        return None
    instance = match["instance"]
    for physical, logical_id in physical_names.items():
        if instance.startswith(f"{physical}-"):
            return logical_id
    return None


def peak_rss_mb(status: str) -> int:
    """VmHWM of /proc/<pid>/status: the most resident memory the process has held, in MB."""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise ValueError("no VmHWM line")


@dataclass
class WorkerReading:
    function: str
    first_cpu: float
    last_cpu: float
    peak_mb: int
    new: bool


@dataclass
class WorkerSampler:
    """The stack's worker processes, read at every poll: CPU seconds in the window and peak memory."""

    emulator: int
    physical_names: dict[str, str]
    workers: dict[int, WorkerReading] = field(default_factory=dict)
    started: bool = False

    def sample(self) -> None:
        for pid in children(self.emulator):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                function = worker_function(command, self.physical_names)
                if function is None:
                    continue
                cpu = cpu_seconds(pid)
                peak = peak_rss_mb(Path(f"/proc/{pid}/status").read_text())
            except (OSError, ValueError, IndexError):
                continue  # it ended meanwhile
            known = self.workers.get(pid)
            if known is None:
                # A worker started within the window counts from its start (its imports included).
                self.workers[pid] = WorkerReading(function, cpu if not self.started else 0.0, cpu, peak, self.started)
            else:
                known.last_cpu, known.peak_mb = cpu, max(known.peak_mb, peak)
        self.started = True

    def cpu_by_function(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for reading in self.workers.values():
            totals[reading.function] = totals.get(reading.function, 0.0) + reading.last_cpu - reading.first_cpu
        return totals

    def starts_by_function(self) -> dict[str, int]:
        """Instances (worker processes) that started within the window."""
        starts: dict[str, int] = {}
        for reading in self.workers.values():
            if reading.new:
                starts[reading.function] = starts.get(reading.function, 0) + 1
        return starts

    def peaks_by_function(self) -> dict[str, int]:
        peaks: dict[str, int] = {}
        for reading in self.workers.values():
            peaks[reading.function] = max(peaks.get(reading.function, 0), reading.peak_mb)
        return peaks


# ---- records outside the logs ---------------------------------------------------------------


def published_event_chunks(start: float, end: float) -> int:
    """EventBridge events (64 KB chunks) the outbox relays published between two epoch times."""
    import psycopg

    chunks = 0
    for url in local_database_urls().values():
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            if connection.execute("SELECT to_regclass('outbox')").fetchone()[0] is None:
                continue
            row = connection.execute(
                "SELECT coalesce(sum(ceil(octet_length(detail::text) / 65536.0)), 0) FROM outbox"
                " WHERE published_at >= to_timestamp(%s) AND published_at < to_timestamp(%s)",
                (start, end),
            ).fetchone()
            chunks += int(row[0])
    return chunks


def table_items(table: str) -> dict[str, dict]:
    """A DynamoDB table's items by their ``id`` (low-level attribute values)."""
    client = aws_client("dynamodb")
    items: dict[str, dict] = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[item["id"]["S"]] = item
    return items


def bucket_bytes(bucket: str) -> int:
    client = aws_client("s3")
    return sum(
        item["Size"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    )


def alarm_count() -> int:
    return sum(1 for resource in read_template()["Resources"].values() if resource["Type"] == "AWS::CloudWatch::Alarm")


def template_memory_mb() -> dict[str, int]:
    """Each function's MemorySize in template.yaml (what a deploy to AWS gives it)."""
    return {name: properties["MemorySize"] for name, properties in serverless_functions(read_template()).items()}


def snapstart_on_aws() -> bool:
    """Whether the template's functions use SnapStart on AWS by default (the UseSnapStart parameter)."""
    template = read_template()
    parameter = template.get("Parameters", {}).get("UseSnapStart", {})
    return "SnapStart" in template.get("Globals", {}).get("Function", {}) and parameter.get("Default") == "true"


# ---- the load run ---------------------------------------------------------------------------


def start_locust(users: int, spawn_rate: int, duration: str, prefix: Path) -> subprocess.Popen:
    """The load mix, headless, as `make loadtest` runs it."""
    return subprocess.Popen(
        locust_command(users, spawn_rate, duration, prefix),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def locust_totals(stats_csv: Path) -> tuple[int, int, int]:
    """(requests, failures, throttled logins) of a Locust run's stats: the requests leave out the
    logins answered 429 and retried, which only the local stack's one bcrypt instance causes
    (PasswordHashingConcurrency 1; unreserved on AWS) and which no function ran."""
    requests = failures = throttled = None
    with stats_csv.open() as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                requests, failures = int(row["Request Count"]), int(row["Failure Count"])
            elif row["Name"] == THROTTLED_LOGIN:
                throttled = int(row["Request Count"])
    if requests is None or failures is None:
        raise ValueError(f"{stats_csv}: no Aggregated row")
    return requests - (throttled or 0), failures, throttled or 0


# ---- measuring a window ---------------------------------------------------------------------


@dataclass
class Window:
    usage: billing.WindowUsage
    started: float
    ended: float
    peaks_mb: dict[str, int]
    api_invocations: int
    failures: int = 0
    throttled_logins: int = 0


def measure(
    stack: str,
    functions: list[StackFunction],
    prices: dict,
    begin: Callable[[], Callable[[], bool]],
    after_seconds: float,
) -> Window:
    """Read the stack's records from ``begin()`` (which starts what is measured and answers a
    ``keep_going``) while ``keep_going()`` is true, then ``after_seconds`` more."""
    pid = emulator_pid()
    if pid is None:
        raise SystemExit("this checkout's MiniStack is not running: make up")
    outputs = stack_outputs(stack)
    if outputs is None:
        raise SystemExit(f"stack {stack} is not deployed: make up")
    groups = {f"/aws/lambda/{f.physical_name}": f.logical_id for f in functions}
    sampler = WorkerSampler(pid, {f.physical_name: f.logical_id for f in functions})
    sampler.sample()
    idempotency_before = table_items(outputs["IdempotencyTableName"])
    logs = aws_client("logs")
    started = time.time()
    keep_going = begin()
    tail = LogTail(logs, groups, int(started * 1000))
    overhead = prices["cloudwatch"]["bytes_per_log_event_overhead"]
    usage = billing.WindowUsage(seconds=0.0, event_source_mappings=sum(f.event_source_mappings for f in functions))
    drain_until: float | None = None
    while True:
        polled = time.time()
        for logical_id, event in tail.poll(int(polled * 1000) - SETTLE_MS):
            usage.add_log_event(logical_id, event["message"], overhead)
        sampler.sample()
        if drain_until is None and not keep_going():
            drain_until = time.time() + after_seconds
        if drain_until is not None and time.time() >= drain_until:
            break
        time.sleep(max(0.0, POLL_SECONDS - (time.time() - polled)))
    ended = time.time() - SETTLE_MS / 1000
    for logical_id, event in tail.poll(int(ended * 1000)):
        usage.add_log_event(logical_id, event["message"], overhead)
    usage.seconds = ended - started
    for function, seconds in sampler.cpu_by_function().items():
        usage.add_cpu_seconds(function, seconds)
    usage.event_chunks = published_event_chunks(started, ended)
    created = [
        item for key, item in table_items(outputs["IdempotencyTableName"]).items() if key not in idempotency_before
    ]
    usage.dynamodb_write_units = billing.idempotency_write_units(created)
    sizes = template_memory_mb()
    starts = sampler.starts_by_function()
    usage.snapstart = snapstart_on_aws()
    usage.instance_starts = sum(starts.values())
    usage.instance_start_gb = sum(count * sizes.get(name, 0) / 1024 for name, count in starts.items())
    api_functions = {f.logical_id for f in functions if f.answers_api}
    api_invocations = sum(u.invocations for name, u in usage.functions.items() if name in api_functions)
    return Window(usage, started, ended, sampler.peaks_by_function(), api_invocations)


# ---- reporting ------------------------------------------------------------------------------


def money(usd: float) -> str:
    return f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def machine() -> str:
    from loadtest.machine import bcrypt_check_ms

    return f"{platform.machine()}, {os.cpu_count()} cores, one bcrypt cost-12 check {bcrypt_check_ms()} ms of CPU"


def latest(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def deployed_memory(functions: list[StackFunction]) -> dict[str, int]:
    """Each function's MemorySize as deployed in the emulator."""
    by_name = {f.physical_name: f.logical_id for f in functions}
    return {
        by_name[config["FunctionName"]]: config["MemorySize"]
        for page in aws_client("lambda").get_paginator("list_functions").paginate()
        for config in page["Functions"]
        if config["FunctionName"] in by_name
    }


def memory_rows(window: Window, functions: list[StackFunction], memory: dict) -> list[tuple]:
    """Per function: peak, size by the rule, size deployed, invocations, GB-s, CPU share of its billed time."""
    deployed = deployed_memory(functions)
    rows = []
    for function in sorted(functions, key=lambda f: f.logical_id):
        name = function.logical_id
        peak = window.peaks_mb.get(name)
        used = window.usage.functions.get(name, billing.FunctionUsage())
        on_path = function.answers_api or name in memory["request_path"]
        billed_s = used.billed_ms / 1000
        rows.append(
            (
                name,
                f"{peak} MB" if peak is not None else "no instance",
                f"{memory_sizes.size_for_peak(peak, on_path)} MB" if peak is not None else "-",
                f"{deployed[name]} MB" if name in deployed else "-",
                used.invocations,
                f"{used.gb_seconds:.2f}",
                f"{used.cpu_seconds / billed_s:.0%}" if billed_s else "-",
            )
        )
    return rows


def write_peaks(window: Window, command: str, memory: dict) -> None:
    peaks = {**memory["peak_mb"], **window.peaks_mb}
    measured = f"{datetime.now(UTC):%Y-%m-%d}, {command}, {machine()}"
    memory_sizes.MEMORY_FILE.write_text(memory_sizes.render_memory_file(peaks, measured, memory["request_path"]))
    print(f"\nwrote {memory_sizes.MEMORY_FILE.relative_to(ROOT)}: run `make template`, then deploy (make up)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--idle", action="store_true", help="measure the stack at rest instead of a load run")
    parser.add_argument("--idle-minutes", type=float, default=10, help="length of the idle window (default 10)")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument(
        "--duration", type=run_time, default="120s", help="the load run's length, e.g. 120s or 3m (default 120s)"
    )
    parser.add_argument("--drain", type=float, default=15, help="seconds read after the load ends (default 15)")
    parser.add_argument("--no-warm", action="store_true", help="do not top up the warm instances first")
    parser.add_argument("--write-peaks", action="store_true", help="rewrite infra/template/memory.toml")
    parser.add_argument("--stack", default=os.environ.get("STACK") or stack_name("local"))
    args = parser.parse_args(argv)
    prices = billing.load_prices()
    functions = stack_functions(args.stack)
    memory = memory_sizes.read_memory_file()
    RESULTS.mkdir(parents=True, exist_ok=True)

    if args.idle:
        print(
            f"[cost] idle for {args.idle_minutes:g} minutes: nothing sent, reading what the schedules run", flush=True
        )

        def idle_until_deadline() -> Callable[[], bool]:
            deadline = time.time() + args.idle_minutes * 60
            return lambda: time.time() < deadline

        window = measure(args.stack, functions, prices, idle_until_deadline, 0)
        command = f"make cost IDLE_MINUTES={args.idle_minutes:g}"
    else:
        if not args.no_warm:
            subprocess.run([sys.executable, "-m", "infra.local.warmup", "--stack", args.stack], cwd=ROOT, check=True)
        prefix = RESULTS / "locust"
        runs: list[subprocess.Popen] = []

        def run_locust() -> Callable[[], bool]:
            runs.append(start_locust(args.users, args.spawn_rate, args.duration, prefix))
            return lambda: runs[0].poll() is None

        print(f"[cost] {args.users} users for {args.duration}, then {args.drain:g} s for the events", flush=True)
        try:
            window = measure(args.stack, functions, prices, run_locust, args.drain)
        finally:
            for run in runs:
                with contextlib.suppress(ProcessLookupError):
                    run.terminate()
        window.usage.api_requests, window.failures, window.throttled_logins = locust_totals(Path(f"{prefix}_stats.csv"))
        command = f"make cost USERS={args.users} SPAWN={args.spawn_rate} DURATION={args.duration}"

    usage = window.usage
    # Lambda compute at the template's sizes (what a deploy to AWS gets); the emulator's durations do not depend on them.
    sizes = template_memory_mb()
    lines = billing.window_bill(usage, prices, memory_mb=sizes)
    as_deployed = billing.window_bill(usage, prices)
    scaled = billing.window_bill(usage, prices, memory_mb=sizes, cpu_share=True)
    outputs = stack_outputs(args.stack) or {}
    fixed = billing.fixed_monthly(
        prices,
        len(usage.custom_metrics),
        alarm_count(),
        bucket_bytes(outputs["WebBucketName"]) if "WebBucketName" in outputs else 0,
        sum(template_memory_mb().values()) / 1024 if snapstart_on_aws() else 0.0,
    )
    fixed_total = billing.total(fixed)
    result: dict = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "window_seconds": round(usage.seconds, 1),
        "prices": f"{prices['region']}, {prices['date']}",
    }
    if args.idle:
        month = [(line, billing.per_month(line.usd, usage.seconds, prices)) for line in lines]
        print_table(
            f"Idle for {usage.seconds / 60:.1f} min, extrapolated to {prices['month']['days']} days",
            ("service", "in the window", "window", "per month"),
            [(line.service, line.usage, money(line.usd), money(per_month_usd)) for line, per_month_usd in month],
        )
        idle_month = sum(usd for _, usd in month)
        result |= {
            "idle_usd_per_month": round(idle_month, 4),
            "idle_per_service_usd_per_month": {line.service: round(usd, 4) for line, usd in month},
            "invocations_per_function": {
                name: f.invocations for name, f in sorted(usage.functions.items()) if f.invocations
            },
            "api_invocations_in_window": window.api_invocations,
        }
        if window.api_invocations:
            print(f"\n[cost] WARNING: {window.api_invocations} API invocations in the window: it was not idle")
        slower = [
            f"{f.logical_id} ({f.schedule})"
            for f in functions
            if f.schedule and not usage.functions.get(f.logical_id, billing.FunctionUsage()).invocations
        ]
        if slower:
            print("[cost] scheduled but not run in the window, so not counted: " + ", ".join(slower))
        load = latest("load")
        result["usd_per_million_requests"] = load["usd_per_million_requests"] if load else None
    else:
        requests = usage.api_requests
        per_million = billing.per_million_requests(lines, requests)
        print_table(
            f"Load: {requests:,} API requests ({window.failures} failed) in {usage.seconds:.0f} s, "
            f"{requests / usage.seconds:.1f} per second",
            ("service", "in the window", "window", "per million requests"),
            [
                (line.service, line.usage, money(line.usd), money(line.usd / requests * billing.MILLION))
                for line in lines
            ],
        )
        print(f"  total per million requests: {money(per_million)}")
        scaled_compute = next(line for line in scaled if line.service == "Lambda compute")
        deployed_compute = next(line for line in as_deployed if line.service == "Lambda compute")
        print(
            f"  Lambda compute is at template.yaml's memory sizes; at those deployed here "
            f"{money(deployed_compute.usd / requests * billing.MILLION)} per million ({deployed_compute.usage}); "
            f"with each function's CPU time at Lambda's CPU share of its size "
            f"{money(scaled_compute.usd / requests * billing.MILLION)} ({scaled_compute.usage})"
        )
        print(
            f"  API invocations seen: {window.api_invocations:,} for the {requests:,} requests "
            f"({window.throttled_logins:,} logins answered 429 by the local bcrypt limit and retried are left out)"
        )
        if window.api_invocations > requests * 1.05:
            print(
                "[cost] WARNING: more API invocations than requests sent: other traffic reached the stack; run it again"
            )
        rps = requests / usage.seconds
        containers = billing.containers_monthly(prices, rps, usage.response_bytes / requests)
        containers_total = billing.total(containers)
        idle = latest("idle")
        idle_month = idle["idle_usd_per_month"] if idle else None
        functions_only = billing.total(line for line in fixed if line.service in billing.FUNCTIONS_ONLY)
        volume = rps * prices["month"]["days"] * billing.SECONDS_PER_DAY
        functions_month = per_million * volume / billing.MILLION + functions_only
        print_table(
            f"The original system's containers: {prices['containers']['assumption']}",
            ("item", "size", "per month"),
            [(line.service, line.usage, money(line.usd)) for line in containers],
        )
        print(
            f"  {money(containers_total)} a month against {money(functions_month)} for the functions at a steady "
            f"{rps:.1f} requests a second ({volume / billing.MILLION:,.0f} million a month"
            + (", SnapStart's cache included" if functions_only else "")
            + "; the shared fixed lines below apart)"
        )
        break_even = billing.break_even_requests_per_month(
            per_million, (idle_month or 0.0) + functions_only, containers_total
        )
        if break_even is not None:
            print(f"  the functions cost less below {break_even / billing.MILLION:,.1f} million requests a month")
        result |= {
            "usd_per_million_requests": round(per_million, 4),
            "per_service_usd_per_million_requests": {
                line.service: round(line.usd / requests * billing.MILLION, 4) for line in lines
            },
            "lambda_compute_usd_per_million_at_aws_cpu_share": round(
                scaled_compute.usd / requests * billing.MILLION, 4
            ),
            "lambda_compute_usd_per_million_as_deployed_here": round(
                deployed_compute.usd / requests * billing.MILLION, 4
            ),
            "api_requests": requests,
            "requests_per_second": round(rps, 1),
            "containers_usd_per_month": round(containers_total, 2),
            "functions_usd_per_month_at_this_rate": round(functions_month, 2),
            "break_even_requests_per_month": round(break_even) if break_even is not None else None,
            "idle_usd_per_month": idle_month,
        }
    print_table(
        "Fixed a month, whatever the traffic (not in usd_per_million_requests)",
        ("item", "basis", "per month"),
        [(line.service, line.usage, money(line.usd)) for line in fixed],
    )
    result |= {
        "fixed_usd_per_month": round(fixed_total, 2),
        "fixed_per_item_usd_per_month": {line.service: round(line.usd, 2) for line in fixed},
    }
    print_table(
        f"Memory: each function's peak resident memory on the emulator and its size by the rule (peak x "
        f"{memory_sizes.HEADROOM} rounded up to {memory_sizes.STEP_MB} MB, at least {memory_sizes.MINIMUM_MB} MB, "
        f"{memory_sizes.REQUEST_PATH_MINIMUM_MB} MB on the API path)",
        ("function", "peak", "size by rule", "deployed", "invocations", "GB-s", "CPU of billed time"),
        memory_rows(window, functions, memory),
    )
    result["peak_mb"] = dict(sorted(window.peaks_mb.items()))
    if args.write_peaks:
        write_peaks(window, command, memory)
    (RESULTS / ("idle.json" if args.idle else "load.json")).write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
