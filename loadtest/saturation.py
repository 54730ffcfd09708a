"""The saturation curve: the load scenario at growing user counts, steady figures per step.

For each user count, Locust runs headless against the running stack (as `make loadtest`
with WARM=0), and the step's steady figures (from 10 s after the last user started and the
last login ended, logins excluded: loadtest/steady.py) are printed as a Markdown table row,
with the CPU split of the stack over the step (loadtest/stack_sampler.py). Every step logs its
users in anew: at 300 users that is ~80 s of bcrypt before the steady part starts, hence 180 s
steps.

    .venv/bin/python -m loadtest.saturation --users 150 200 250 300 350 --duration 180s
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from infra.config import ROOT
from loadtest.mix import duration_seconds, locust_command, run_time

RESULTS = ROOT / ".local" / "loadtest" / "saturation"


def run_step(users: int, spawn_rate: int, duration: str) -> tuple[dict, str]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    prefix = RESULTS / f"users{users}"
    seconds = duration_seconds(duration)
    # The sampler ends just before Locust does, so that Locust's own CPU is still counted.
    sampler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadtest.stack_sampler",
            "--seconds",
            str(seconds - 3),
            "--interval",
            str(max(5, seconds // 6)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    subprocess.run(
        locust_command(users, spawn_rate, duration, prefix),
        cwd=ROOT,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cpu = next((line for line in sampler.communicate()[0].splitlines() if line.startswith("cpu split")), "")
    return json.loads(Path(f"{prefix}_summary.json").read_text()), cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[150, 200, 250, 300, 350])
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--duration", type=run_time, default="180s", help="per step, e.g. 180s or 3m")
    args = parser.parse_args(argv)
    print(
        "| users | steady RPS | failures | steady p50 / p95 / p99 ms | steady search p99 ms | over 1 s "
        "| CPU split over the step (% of a core) | machine: bcrypt ms, steal % |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for users in args.users:
        summary, cpu = run_step(users, args.spawn_rate, args.duration)
        steady, search = summary["steady"], summary["steady_per_request"].get("/courses?q=[term]", {})
        machine = summary.get("machine", {})
        print(
            f"| {users} | {steady['rps']} | {steady['failures']} | {steady['p50']} / {steady['p95']} / {steady['p99']} "
            f"| {search.get('p99')} | {steady['over_1s']} | {cpu.split(':', 1)[-1].strip()} "
            f"| {machine.get('bcrypt_check_ms')}, {machine.get('steal_pct')} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
