"""Sample the local stack's processes during a load run: function workers, memory, emulator CPU.

Every ``--interval`` seconds for ``--seconds``: the number of function worker processes
(children of this checkout's MiniStack), their total PSS (proportional set size: shared
library pages counted once across processes, unlike RSS), the emulator's own RSS and its
CPU seconds so far. Prints one line per sample and the peaks at the end.

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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


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
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        values = sample(emulator)
        peaks = {key: max(value, peaks.get(key, 0)) for key, value in values.items()}
        print(time.strftime("%H:%M:%S"), " ".join(f"{key}={value:.0f}" for key, value in values.items()), flush=True)
        time.sleep(args.interval)
    print("peak", " ".join(f"{key}={value:.0f}" for key, value in peaks.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
