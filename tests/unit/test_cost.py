"""`make cost`: the records it reads (captured from the emulator in tests/unit/records/) and the arithmetic
that turns them into an AWS bill, the memory sizes made from measured peaks."""

import json
import math
from pathlib import Path

import pytest

import loadtest.cost
from infra.template import memory as memory_sizes
from infra.template.generate import read_template, serverless_functions, with_base_memory_sizes
from loadtest import billing
from loadtest.cost import LogTail, locust_totals, peak_rss_mb, worker_function

RECORDS = Path(__file__).parent / "records" / "emulator_log_events.json"
# Four invocations as the emulator logged them: GET /courses, POST /login, a consumer's batch of two
# events, and the mail relay sending one email.
EVENTS = json.loads(RECORDS.read_text())
PRICES = billing.load_prices()


def usage_of(events: list[dict], seconds: float = 60.0) -> billing.WindowUsage:
    usage = billing.WindowUsage(seconds=seconds)
    for event in events:
        usage.add_log_event(event["function"], event["message"], PRICES["cloudwatch"]["bytes_per_log_event_overhead"])
    return usage


def test_the_emulators_report_lines_are_billed_a_millisecond_over_their_cut_down_duration():
    reports = [billing.parse_report(e["message"]) for e in EVENTS if e["message"].startswith("REPORT")]
    assert [(r.duration_ms, r.memory_mb, r.whole_milliseconds) for r in reports] == [
        (12.0, 512, True),
        (295.0, 512, True),
        (4.0, 512, True),
        (79.0, 512, True),
    ]
    assert [r.aws_billed_ms() for r in reports] == [13, 296, 5, 80]


def test_an_aws_report_line_is_billed_its_billed_duration():
    line = (
        "REPORT RequestId: 3f1e7d3c-0c8b-4a55-9d47-0f8f6a2e1b11\tDuration: 102.25 ms\tBilled Duration: 103 ms"
        "\tMemory Size: 256 MB\tMax Memory Used: 91 MB\tInit Duration: 412.06 ms\t"
    )
    report = billing.parse_report(line)
    assert report is not None
    assert (report.whole_milliseconds, report.max_memory_used_mb, report.init_ms) == (False, 91, 412.06)
    assert report.aws_billed_ms() == 103
    assert billing.parse_report("END RequestId: 3f1e7d3c-0c8b-4a55-9d47-0f8f6a2e1b11") is None


def test_a_window_of_recorded_events_counts_invocations_messages_emails_bytes_and_metrics():
    usage = usage_of(EVENTS)
    assert {name: (f.invocations, f.billed_ms, f.memory_mb) for name, f in usage.functions.items()} == {
        "CourseApiFunction": (1, 13, 512),
        "IdentityCredentialsFunction": (1, 296, 512),
        "NotificationConsumerFunction": (1, 5, 512),
        "IdentityInternalMailRelayFunction": (1, 80, 512),
    }
    assert (usage.queue_records, usage.queue_batches, usage.queue_deletes) == (2, 1, 1)
    assert usage.emails == 1
    assert usage.response_bytes == 994 + 564  # the two API answers' ResponseSize
    assert usage.log_events == len(EVENTS)
    assert usage.log_bytes == sum(len(e["message"].encode()) + 26 for e in EVENTS)
    # GET /courses 200 and POST /login 200 (Requests, Duration, ResponseSize each), EmailsSent and EmailsRelayed.
    assert len(usage.custom_metrics) == 8


def test_a_batch_with_every_record_failed_deletes_nothing():
    line = json.dumps({"level": "INFO", "message": "batch processed", "records": 3, "failed": 3})
    usage = billing.WindowUsage(seconds=1)
    usage.add_log_event("NotificationConsumerFunction", line, 26)
    assert (usage.queue_records, usage.queue_batches, usage.queue_deletes) == (3, 1, 0)
    assert billing.consumer_batch('{"message": "event handled"}') is None


def test_the_bill_multiplies_each_service_by_its_list_price():
    usage = billing.WindowUsage(seconds=600, api_requests=1_000_000, event_source_mappings=5)
    usage.functions["CourseApiFunction"] = billing.FunctionUsage(
        invocations=1_000_000, billed_ms=10_000_000, memory_mb=512
    )
    usage.event_chunks, usage.queue_records, usage.queue_batches, usage.queue_deletes = (
        200_000,
        400_000,
        100_000,
        100_000,
    )
    usage.dynamodb_write_units, usage.emails = 2_000_000, 10_000
    usage.log_bytes, usage.response_bytes = 2 * billing.GB, 10 * billing.GB
    bill = {line.service: line.usd for line in billing.window_bill(usage, PRICES)}
    assert bill["API Gateway (REST)"] == pytest.approx(3.50)
    assert bill["Lambda requests"] == pytest.approx(0.20)
    assert bill["Lambda compute"] == pytest.approx(5_000 * 0.0000166667)  # 10,000 s at 0.5 GB
    assert bill["EventBridge"] == pytest.approx(0.20)
    # 600,000 requests for the messages and 5 mappings x 5 pollers x 600 s / 20 s = 750 empty polls.
    assert bill["SQS"] == pytest.approx(600_750 / 1e6 * 0.40)
    assert bill["DynamoDB"] == pytest.approx(2 * 0.625)
    assert bill["SES"] == pytest.approx(1.00)
    assert bill["CloudWatch Logs"] == pytest.approx(1.00)
    assert bill["Data transfer out"] == pytest.approx(0.90)
    assert billing.per_million_requests(list(billing.window_bill(usage, PRICES)), 1_000_000) == pytest.approx(
        sum(bill.values())
    )


def test_cpu_time_at_lambdas_share_of_a_core_lengthens_only_the_cpu_part():
    used = billing.FunctionUsage(invocations=10, billed_ms=4_000, memory_mb=512, cpu_seconds=1.0)
    assert used.gb_seconds == pytest.approx(2.0)
    assert used.gb_seconds_at(256) == pytest.approx(1.0)
    # 3 s waiting as measured, 1 CPU second at 512/1769 of a core; above 1769 MB a whole core.
    assert used.gb_seconds_at(512, mb_per_vcpu=1769) == pytest.approx((3 + 1769 / 512) * 0.5)
    assert used.gb_seconds_at(3538, mb_per_vcpu=1769) == pytest.approx(4 * 3538 / 1024)


def test_the_bill_can_price_the_measured_time_at_the_templates_memory_sizes():
    usage = billing.WindowUsage(seconds=60)
    usage.functions["A"] = billing.FunctionUsage(invocations=1, billed_ms=1_000, memory_mb=512)
    compute = {line.service: line.usd for line in billing.window_bill(usage, PRICES, memory_mb={"A": 128})}
    assert compute["Lambda compute"] == pytest.approx(0.125 * 0.0000166667)


def test_an_idle_window_extrapolates_to_thirty_days():
    assert billing.per_month(1.0, 600, PRICES) == pytest.approx(30 * 86_400 / 600)


def test_no_requests_give_no_price_per_request():
    with pytest.raises(ValueError, match="no API requests"):
        billing.per_million_requests([], 0)


def test_fixed_lines_and_the_containers_come_from_the_price_file():
    fixed = {line.service: line.usd for line in billing.fixed_monthly(PRICES, custom_metrics=40, alarms=2, web_bytes=0)}
    assert fixed["RDS PostgreSQL"] == pytest.approx(0.016 * 730 + 20 * 0.115)
    assert fixed["ElastiCache"] == pytest.approx(0.016 * 730)
    assert fixed["CloudWatch metrics"] == pytest.approx(12.0)
    containers = {line.service: line.usd for line in billing.containers_monthly(PRICES, 50, 5_000)}
    assert containers["Fargate tasks"] == pytest.approx(5 * (0.25 * 0.04048 + 0.5 * 0.004445) * 730)
    assert containers["Application Load Balancer"] == pytest.approx((0.0225 + 0.008) * 730)  # under 1 GB an hour
    assert containers["Public IPv4"] == pytest.approx(7 * 0.005 * 730)


def test_the_break_even_volume_is_where_the_functions_bill_meets_the_containers():
    volume = billing.break_even_requests_per_month(6.0, 2.0, 92.0)
    assert volume == pytest.approx(15_000_000)
    assert 2.0 + 6.0 * volume / 1e6 == pytest.approx(92.0)
    assert billing.break_even_requests_per_month(0.0, 2.0, 92.0) is None


def test_dynamodb_sizes_and_the_idempotency_records_write_units():
    assert billing.dynamodb_item_bytes({"id": {"S": "abc"}}) == 2 + 3
    assert billing.dynamodb_item_bytes({"n": {"N": "-12.50"}}) == 1 + math.ceil(3 / 2) + 1
    record = {"id": {"S": "x" * 100}, "data": {"S": "y" * 2000}, "expiration": {"N": "1796643252"}}
    assert billing.idempotency_write_units([record]) == 1 + 3  # the in-progress put, then the 2.1 KB update


def test_the_log_tail_hands_out_every_event_once_across_polls_and_full_pages(monkeypatch):
    class Logs:
        class exceptions:
            class ResourceNotFoundException(Exception):
                pass

        def __init__(self, events: list[dict], limit: int) -> None:
            self.events, self.limit = events, limit

        def filter_log_events(self, logGroupName, startTime, endTime, limit):
            if logGroupName == "/aws/lambda/missing":
                raise self.exceptions.ResourceNotFoundException
            found = [e for e in self.events if startTime <= e["timestamp"] <= endTime]
            return {"events": found[: min(limit, self.limit)]}

    # Pages of three: the first ends inside millisecond 101, whose events then come again whole.
    events = [{"timestamp": ts, "message": f"line {n}"} for n, ts in enumerate([99, 100, 100, 101, 101, 102, 150, 199])]
    monkeypatch.setattr(loadtest.cost, "PAGE_LIMIT", 3)
    tail = LogTail(Logs(events, limit=3), {"/aws/lambda/f": "F", "/aws/lambda/missing": "M"}, start_ms=100)
    first = tail.poll(until_ms=150)
    second = tail.poll(until_ms=200)
    assert [e["message"] for _, e in first] == [f"line {n}" for n in range(1, 6)]
    assert [e["message"] for _, e in second] == ["line 6", "line 7"]
    assert {function for function, _ in first + second} == {"F"}


def test_a_worker_process_is_its_functions_and_only_the_stacks():
    names = {"eduplatform-CourseApiFunction-CD6833CA29BB3": "CourseApiFunction"}
    command = (
        "/work/main/.venv/bin/python /work/main/.local/ministack-tmp/"
        "ministack-lambda-eduplatform-CourseApiFunction-CD6833CA29BB3-x16qm1_b/_worker.py"
    )
    assert worker_function(command, names) == "CourseApiFunction"
    other_stack = command.replace("eduplatform-Course", "eduplatform-e2e-Course")
    assert worker_function(other_stack, names) is None
    assert worker_function("/usr/bin/python -m infra.emulator", names) is None


def test_the_peak_is_the_processes_high_water_mark():
    status = "Name:\tpython\nVmPeak:\t  468296 kB\nVmHWM:\t   104768 kB\nVmRSS:\t   89692 kB\n"
    assert peak_rss_mb(status) == 102


def test_locusts_requests_leave_out_the_throttled_login_retries(tmp_path):
    stats = tmp_path / "run_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count\n"
        "GET,/courses,9,0\nPOST,/login,16,0\n"
        'POST,"/login [429, retried]",85,0\n'
        ",Aggregated,110,1\n"
    )
    assert locust_totals(stats) == (25, 1, 85)


def test_memory_sizes_follow_the_peak_with_headroom_and_keep_the_api_path_cpu():
    assert memory_sizes.size_for_peak(70, on_request_path=False) == 128  # 105 MB
    assert memory_sizes.size_for_peak(90, on_request_path=False) == 256  # 135 MB
    assert memory_sizes.size_for_peak(90, on_request_path=True) == 512
    assert memory_sizes.size_for_peak(400, on_request_path=True) == 640  # 600 MB
    memory = {"peak_mb": {"A": 70, "B": 70}, "request_path": ["B"]}
    assert memory_sizes.memory_size("A", answers_api=False, memory=memory) == 128
    assert memory_sizes.memory_size("B", answers_api=False, memory=memory) == 512
    assert memory_sizes.memory_size("C", answers_api=False, memory=memory) == memory_sizes.UNMEASURED_MB


def test_hand_written_functions_get_their_size_and_may_not_set_one():
    base = "Resources:\n  Consumer:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: a.b\n"
    memory = {"peak_mb": {"Consumer": 70}, "request_path": []}
    assert "    Properties:\n      MemorySize: 128\n      Handler: a.b\n" in with_base_memory_sizes(base, memory)
    with pytest.raises(SystemExit, match="sets MemorySize"):
        with_base_memory_sizes(base.replace("Handler: a.b", "MemorySize: 256"), memory)


def test_every_function_of_the_template_has_the_size_its_measured_peak_gives():
    memory = memory_sizes.read_memory_file()
    for name, properties in serverless_functions(read_template()).items():
        answers_api = any(e["Type"] == "Api" for e in (properties.get("Events") or {}).values())
        assert properties["MemorySize"] == memory_sizes.memory_size(name, answers_api, memory), name
