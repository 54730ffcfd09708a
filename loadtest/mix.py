"""The load mix (loadtest/locustfile.py) run headless: the Locust command line of every load run.

`make loadtest` runs it through this module, `make cost` (loadtest/cost.py) and the saturation
curve (loadtest/saturation.py) through locust_command.

    .venv/bin/python -m loadtest.mix --users 100 --spawn-rate 10 --duration 3m --csv .local/loadtest/run
        [--html .local/loadtest/report.html]

from the checkout's root (as make runs it) becomes that Locust run: its output, its exit status.
"""

import argparse
import os
import re
import sys
from pathlib import Path

LOCUSTFILE = "loadtest/locustfile.py"
RUN_TIME = re.compile(r"^(\d+)([sm])$")


def duration_seconds(text: str) -> int:
    """The seconds of a run time as the load tools take it: 120s or 3m."""
    match = RUN_TIME.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of seconds or minutes, e.g. 120s or 3m")
    return int(match[1]) * (60 if match[2] == "m" else 1)


def run_time(text: str) -> str:
    """An argparse type: the run time as given (Locust's --run-time), once it reads as one."""
    duration_seconds(text)
    return text


def locust_command(
    users: int, spawn_rate: int, duration: str, csv_prefix: Path | str, html: Path | str | None = None
) -> list[str]:
    """Locust running the load mix headless for ``duration``, its CSV stats (and the run summary the
    locustfile writes) under ``csv_prefix``, an HTML report at ``html`` if given. Run it from the
    checkout's root."""
    return [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        LOCUSTFILE,
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        duration,
        "--stop-timeout",
        "5",
        "--csv",
        str(csv_prefix),
        *(["--html", str(html)] if html is not None else []),
        "--only-summary",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--spawn-rate", type=int, required=True)
    parser.add_argument("--duration", required=True, help="Locust's --run-time, e.g. 180s or 3m")
    parser.add_argument("--csv", required=True, help="the prefix of the CSV stats and the run summary")
    parser.add_argument("--html", help="where to write the HTML report")
    args = parser.parse_args(argv)
    command = locust_command(args.users, args.spawn_rate, args.duration, args.csv, args.html)
    # Locust replaces this process, so Ctrl-C stops it as it stops `locust` run directly (it still
    # writes its reports) and its exit status is this command's.
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
