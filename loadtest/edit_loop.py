"""Timed "edit -> new behaviour" cycles of the developer's loop, for docs/performance.md.

Each cycle flips a one-line change in a handler (GET /health's status word, ``ok`` <-> ``edited``),
runs `make sync` (or `make up WARM_INSTANCES=0`), then makes ONE request and fails unless it answers
with the new behaviour; the cycle is timed from the edit to that answer. The handler is put back as
it was at the end, whatever happened (and pushed again when the last cycle left it edited).

    .venv/bin/python -m loadtest.edit_loop [--runs 6] [--stack eduplatform] sync|up

Prints each cycle, then min/median/max, then one JSON line with the same figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import requests

from infra.config import EMULATOR_URL, ROOT, stack_name

HANDLER = ROOT / "functions" / "ops" / "ops" / "handlers" / "health.py"
STATUS_LINE = 'status="{}" if healthy'
WORDS = ("ok", "edited")


def current_word(text: str) -> str:
    found = [word for word in WORDS if STATUS_LINE.format(word) in text]
    if len(found) != 1:
        raise SystemExit(f"{HANDLER.relative_to(ROOT)} no longer has {STATUS_LINE.format('ok')!r}: update this script")
    return found[0]


def make(mode: str, stack: str) -> None:
    """`make sync` or `make up WARM_INSTANCES=0` for ``stack``; its output is shown only when it fails."""
    target = ["sync"] if mode == "sync" else ["up", "WARM_INSTANCES=0"]
    result = subprocess.run(
        ["make", "--no-print-directory", *target],
        cwd=ROOT,
        env=dict(os.environ, STACK=stack),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"make {' '.join(target)} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")


def health_url(stack: str) -> str:
    # The REST API's id is pinned to the stack's name (infra/local/deploy.py): known in advance.
    return f"{EMULATOR_URL}/_aws/execute-api/{stack}/api/health"


def cycle(mode: str, stack: str) -> float:
    """One edit, push and request; the seconds it took."""
    started = time.perf_counter()
    text = HANDLER.read_text()
    before = current_word(text)
    after = WORDS[1 - WORDS.index(before)]
    HANDLER.write_text(text.replace(STATUS_LINE.format(before), STATUS_LINE.format(after)))
    make(mode, stack)
    answered = requests.get(health_url(stack), timeout=30).json().get("status")
    elapsed = time.perf_counter() - started
    if answered != after:
        raise SystemExit(f"expected status {after!r} after the edit, the API answered {answered!r}")
    return elapsed


def summary(mode: str, seconds: list[float]) -> dict:
    return {
        "mode": mode,
        "runs": len(seconds),
        "min_s": round(min(seconds), 3),
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "each_s": [round(s, 3) for s in seconds],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["sync", "up"], help="push the edit with `make sync` or `make up`")
    parser.add_argument("--runs", type=int, default=6, help="timed cycles (default 6)")
    parser.add_argument("--stack", default=os.environ.get("STACK") or stack_name("local"))
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    original = HANDLER.read_text()
    current_word(original)
    seconds: list[float] = []
    try:
        for run in range(1, args.runs + 1):
            seconds.append(cycle(args.mode, args.stack))
            print(f"run {run}: {seconds[-1]:.2f}s", flush=True)
    finally:
        if HANDLER.read_text() != original:
            HANDLER.write_text(original)
            # The stack runs the edited handler: push the original back (not timed).
            subprocess.run(
                ["make", "--no-print-directory", "sync"],
                cwd=ROOT,
                env=dict(os.environ, STACK=args.stack),
                capture_output=True,
            )
    result = summary(args.mode, seconds)
    print(f"{args.mode}: min {result['min_s']:.2f}s, median {result['median_s']:.2f}s, max {result['max_s']:.2f}s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
