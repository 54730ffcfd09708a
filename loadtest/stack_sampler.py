"""Sample the local stack's processes during a load run: function workers, memory, emulator CPU.

Every ``--interval`` seconds for ``--seconds``: the number of function worker processes
(children of this checkout's MiniStack), their total PSS (proportional set size: shared
library pages counted once across processes, unlike RSS), the emulator's own RSS and its
CPU seconds so far. Prints one line per sample and the peaks at the end, then the CPU split
over the whole window: CPU seconds of each part of the stack (the emulator's own process, the
function workers, PostgreSQL, PgBouncer, Redis, Locust, the metrics bridge) as a share of one
core, from /proc (PostgreSQL and Redis are the machine's: anything else using them counts too).

    .venv/bin/python -m loadtest.stack_sampler --seconds 200 --interval 5
"""

import argparse
import os
import sys
import time
from pathlib import Path

from infra.local.emulator import emulator_pid

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if parent_pid(int(entry.name)) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def memory_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """CPU seconds of the process (user + system); with ``reaped_children``, plus those of its
    children that have ended (PostgreSQL's backends come and go with PgBouncer's connections)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped_children else 0)
    return ticks / CLOCK_TICKS


def reaped_children_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


# Parts of the stack besides the emulator and its workers, by the command line of their processes.
PARTS = {
    "postgresql": lambda command: command.startswith("postgres"),
    "pgbouncer": lambda command: "pgbouncer" in command,
    "redis": lambda command: command.startswith("redis-server"),
    "locust": lambda command: "locust" in command,
    "metrics bridge": lambda command: "infra.metrics.bridge" in command,
}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class CpuByPart:
    """CPU seconds of each part of the stack over a window, from readings of /proc taken at every sample.

    A process that ends during the window (a Locust run that is over) keeps the CPU it had at
    its last reading, so its part still counts it (less its last interval), unless its parent is
    one of the processes read: then the parent's count of its ended children has it (PostgreSQL's
    backends, the emulator's workers).
    """

    def __init__(self, emulator: int) -> None:
        self.emulator = emulator
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float, int]] = {}
        self.alive: set[int] = set()
        self.reaped_first = self.reaped_last = reaped_children_cpu_seconds(emulator)
        self.read(first=True)

    def read(self, first: bool = False) -> None:
        # Workers that ended (reaped by the emulator) count as functions.
        self.reaped_last = reaped_children_cpu_seconds(self.emulator)
        self.alive = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                parent = parent_pid(pid)
                if pid == self.emulator:
                    part, seconds = "emulator", cpu_seconds(pid)
                elif parent == self.emulator:
                    part, seconds = "functions", cpu_seconds(pid, reaped_children=True)
                else:
                    command = command_line(pid)
                    part = next((name for name, matches in PARTS.items() if matches(command)), "")
                    if not part:
                        continue
                    seconds = cpu_seconds(pid, reaped_children=True)
            except (OSError, IndexError, ValueError):
                continue
            if first:
                self.first[pid] = seconds
            self.last[pid] = (part, seconds, parent)
            self.alive.add(pid)

    def seconds(self) -> dict[str, float]:
        totals = {"emulator": 0.0, "functions": self.reaped_last - self.reaped_first, **dict.fromkeys(PARTS, 0.0)}
        for pid, (part, seconds, parent) in self.last.items():
            if pid in self.alive or parent not in self.last:
                totals[part] += max(0.0, seconds - self.first.get(pid, 0.0))
        return totals


def sample(emulator: int) -> dict[str, float]:
    workers = children(emulator)
    return {
        "workers": len(workers),
        "workers_pss_mb": sum(memory_kb(pid, "Pss") for pid in workers) / 1024,
        "emulator_rss_mb": memory_kb(emulator, "Rss") / 1024,
        "emulator_cpu_s": cpu_seconds(emulator),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=200)
    parser.add_argument("--interval", type=float, default=5)
    args = parser.parse_args(argv)
    emulator = emulator_pid()
    if emulator is None:
        raise SystemExit("this checkout's MiniStack is not running: make up")
    peaks: dict[str, float] = {}
    started, cpu = time.monotonic(), CpuByPart(emulator)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        values = sample(emulator)
        cpu.read()
        peaks = {key: max(value, peaks.get(key, 0)) for key, value in values.items()}
        print(time.strftime("%H:%M:%S"), " ".join(f"{key}={value:.0f}" for key, value in values.items()), flush=True)
        time.sleep(args.interval)
    print("peak", " ".join(f"{key}={value:.0f}" for key, value in peaks.items()))
    cpu.read()
    elapsed = time.monotonic() - started
    shares = {part: seconds / elapsed * 100 for part, seconds in cpu.seconds().items()}
    print(
        f"cpu split over {elapsed:.0f}s (% of one core):",
        ", ".join(f"{part} {share:.0f}" for part, share in shares.items()),
        f"| total {sum(shares.values()):.0f}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
