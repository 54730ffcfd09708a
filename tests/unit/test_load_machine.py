"""What a load run's summary records about the machine: its CPU split from /proc/stat, a bcrypt yardstick."""

import time

import bcrypt
import pytest

from loadtest.machine import CpuTimes, MachineRecord, bcrypt_check_ms, cpu_split
from seed.generate import BCRYPT_ROUNDS


def test_cpu_split_counts_busy_idle_and_steal_between_two_readings():
    before = CpuTimes.parse("cpu  1000 100 200 5000 50 0 30 20 0 0")
    # 400 ticks later: 120 user, 30 nice, 40 system, 10 softirq busy; 150 idle + 10 iowait; 40 stolen.
    after = CpuTimes.parse("cpu  1120 130 240 5150 60 0 40 60 0 0")
    assert cpu_split(before, after) == {"busy_pct": 50.0, "idle_pct": 40.0, "steal_pct": 10.0}


def test_cpu_split_refuses_readings_out_of_order():
    reading = CpuTimes.parse("cpu  1 2 3 4 5 6 7 8 0 0")
    with pytest.raises(ValueError, match="after the first"):
        cpu_split(reading, reading)


@pytest.mark.parametrize("line", ["cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3", "intr 1 2 3 4 5 6 7 8"])
def test_only_the_aggregate_cpu_line_parses(line):
    with pytest.raises(ValueError, match="aggregate cpu line"):
        CpuTimes.parse(line)


def test_the_machine_reading_is_this_machine():
    reading = CpuTimes.now()
    assert reading.total() > 0
    assert CpuTimes.now().total() >= reading.total()


def test_bcrypt_yardstick_is_the_median_check(monkeypatch):
    checked = []
    monkeypatch.setattr(bcrypt, "checkpw", lambda password, hashed: checked.append(hashed) or True)
    # process_time before and after each of three checks: 0.30 s, 0.25 s and 0.90 s of CPU.
    readings = iter([10.0, 10.30, 11.0, 11.25, 12.0, 12.90])
    monkeypatch.setattr(time, "process_time", lambda: next(readings))
    assert bcrypt_check_ms(checks=3, rounds=4) == 300.0
    assert len(checked) == 3 and checked[0].startswith(b"$2b$04$")


def test_record_summarises_the_run_with_the_seeded_cost():
    record = MachineRecord()
    record.start()
    time.sleep(0.05)  # a few clock ticks of the machine between the two readings
    summary = record.summary()
    assert summary["bcrypt_rounds"] == BCRYPT_ROUNDS
    assert isinstance(summary["bcrypt_check_ms"], float) and summary["bcrypt_check_ms"] > 0
    assert summary["cores"] and summary["cores"] >= 1
    assert {"busy_pct", "idle_pct", "steal_pct"} <= summary.keys()


def test_record_without_a_start_has_no_split():
    summary = MachineRecord().summary()
    assert summary["bcrypt_check_ms"] is None
    assert "busy_pct" not in summary
