"""What the machine under a load run was like, so that runs on different machines can be compared.

The stack shares the load client's cores, and the project's machines differ from one session to
the next: the same code served the 200-user run at a steady p99 of ~50 ms on one two-core VM and
~140-190 ms on another. A load run's summary therefore records the machine too:

- ``bcrypt_check_ms``: CPU milliseconds of one bcrypt check at the seeded accounts' cost, measured
  before the load starts (what each login of the run costs, and a yardstick of the cores' speed);
- the machine's CPU split over the run from ``/proc/stat``: busy, idle and ``steal`` (time the
  hypervisor gave the VM's cores to someone else), as shares of all cores.

Kept apart from the locustfile (which imports Locust and gevent's monkey-patching) so the unit
tests can import it.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from seed.generate import BCRYPT_ROUNDS

PROC_STAT = Path("/proc/stat")
CALIBRATION_CHECKS = 3


@dataclass(frozen=True)
class CpuTimes:
    """The machine's cumulative CPU time by state (clock ticks), the first line of /proc/stat."""

    user: int
    nice: int
    system: int
    idle: int
    iowait: int
    irq: int
    softirq: int
    steal: int

    @classmethod
    def parse(cls, line: str) -> "CpuTimes":
        label, *fields = line.split()
        if label != "cpu" or len(fields) < 8:
            raise ValueError(f"not the aggregate cpu line of /proc/stat: {line!r}")
        return cls(*(int(field) for field in fields[:8]))

    @classmethod
    def now(cls, stat: Path = PROC_STAT) -> "CpuTimes":
        return cls.parse(stat.read_text().splitlines()[0])

    def total(self) -> int:
        return self.user + self.nice + self.system + self.idle + self.iowait + self.irq + self.softirq + self.steal


def cpu_split(before: CpuTimes, after: CpuTimes) -> dict[str, float]:
    """Percent of all cores' time between two readings: busy (user, nice, system, interrupts), idle
    (iowait included) and steal."""
    elapsed = after.total() - before.total()
    if elapsed <= 0:
        raise ValueError("the second reading must come after the first")

    def share(*states: str) -> float:
        return round(sum(getattr(after, state) - getattr(before, state) for state in states) * 100 / elapsed, 1)

    return {
        "busy_pct": share("user", "nice", "system", "irq", "softirq"),
        "idle_pct": share("idle", "iowait"),
        "steal_pct": share("steal"),
    }


def bcrypt_check_ms(checks: int = CALIBRATION_CHECKS, rounds: int = BCRYPT_ROUNDS) -> float:
    """CPU milliseconds of one ``bcrypt.checkpw`` at ``rounds``, the median of ``checks``."""
    hashed = bcrypt.hashpw(b"calibration", bcrypt.gensalt(rounds))
    times = []
    for _ in range(checks):
        started = time.process_time()
        bcrypt.checkpw(b"calibration", hashed)
        times.append((time.process_time() - started) * 1000)
    return round(sorted(times)[len(times) // 2], 1)


class MachineRecord:
    """Read at the start of a run (calibration, CPU times) and summarised at its end."""

    def __init__(self) -> None:
        self.bcrypt_ms: float | None = None
        self.before: CpuTimes | None = None

    def start(self) -> None:
        self.bcrypt_ms = bcrypt_check_ms()
        self.before = CpuTimes.now()

    def summary(self) -> dict[str, object]:
        record: dict[str, object] = {
            "cores": os.cpu_count(),
            "bcrypt_rounds": BCRYPT_ROUNDS,
            "bcrypt_check_ms": self.bcrypt_ms,
        }
        if self.before is not None:
            record.update(cpu_split(self.before, CpuTimes.now()))
        return record
