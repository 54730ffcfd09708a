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

from infra.local.stack import emulator_pid

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
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


def cpu_by_part(emulator: int) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (processes alive now)."""
    # Workers that ended (reaped by the emulator) count as functions.
    totals = {
        "emulator": cpu_seconds(emulator),
        "functions": reaped_children_cpu_seconds(emulator),
        **dict.fromkeys(PARTS, 0.0),
    }
    workers = set(children(emulator))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if pid in workers:
                totals["functions"] += cpu_seconds(pid, reaped_children=True)
                continue
            command = command_line(pid)
            part = next((name for name, matches in PARTS.items() if matches(command)), None)
            if part:
                totals[part] += cpu_seconds(pid, reaped_children=True)
        except (OSError, IndexError, ValueError):
            continue
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
    started, cpu_before = time.monotonic(), cpu_by_part(emulator)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        values = sample(emulator)
        peaks = {key: max(value, peaks.get(key, 0)) for key, value in values.items()}
        print(time.strftime("%H:%M:%S"), " ".join(f"{key}={value:.0f}" for key, value in values.items()), flush=True)
        time.sleep(args.interval)
    print("peak", " ".join(f"{key}={value:.0f}" for key, value in peaks.items()))
    elapsed, cpu_after = time.monotonic() - started, cpu_by_part(emulator)
    # A process that ended during the window without a parent in its part (a Locust run over)
    # drops its part's count: end the sampling before it.
    shares = {part: max(0.0, cpu_after[part] - cpu_before.get(part, 0.0)) / elapsed * 100 for part in cpu_after}
    print(
        f"cpu split over {elapsed:.0f}s (% of one core):",
        ", ".join(f"{part} {share:.0f}" for part, share in shares.items()),
        f"| total {sum(shares.values()):.0f}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
