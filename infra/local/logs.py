"""`make logs FN=<domain>`: follow a function's CloudWatch Logs log group in the emulator.

FN is a domain (its API function: ``course`` -> CourseApiFunction), or any function's logical
id (``IdentityCredentialsFunction``, ``NotificationConsumerFunction``). Lines come from
FilterLogEvents, polled every second; the Embedded Metric Format records every request also
writes are left out unless ``--metrics``.

    python -m infra.local.logs course [--since 10m] [--no-follow] [--stack NAME]
"""

import argparse
import contextlib
import json
import os
import re
import sys
import time
from datetime import UTC, datetime

from infra.config import EMULATOR_URL, stack_name
from infra.local.aws import aws_client, function_name, stack_outputs
from infra.local.emulator import emulator_running
from infra.template.generate import domain_function_id, read_template, serverless_functions

DURATION = re.compile(r"^(\d+)([smhd])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class BadArgument(ValueError):
    pass


def logical_id_for(name: str, logical_ids: list[str]) -> str:
    """A domain or a logical id -> the logical id; BadArgument naming the choices."""
    if name in logical_ids:
        return name
    candidate = domain_function_id(name.lower())
    if candidate in logical_ids:
        return candidate
    domains = sorted({lid.removesuffix("ApiFunction").lower() for lid in logical_ids if lid.endswith("ApiFunction")})
    raise BadArgument(
        f"FN={name!r} is neither a domain ({', '.join(domains)}) nor a function of the template "
        f"({', '.join(sorted(logical_ids))})"
    )


def since_millis(text: str, now: float | None = None) -> int:
    """'10m' -> the epoch milliseconds ten minutes ago."""
    match = DURATION.match(text.strip())
    if not match:
        raise BadArgument(f"--since {text!r}: expected a number and a unit (s, m, h, d), e.g. 10m")
    now = time.time() if now is None else now
    return int((now - int(match.group(1)) * SECONDS[match.group(2)]) * 1000)


def is_metric_record(message: str) -> bool:
    try:
        return "_aws" in json.loads(message)
    except (ValueError, TypeError):
        return False


def render(event: dict) -> str:
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, tz=UTC).strftime("%H:%M:%S.%f")[:-3]
    return f"{stamp} {event['message'].rstrip()}"


def follow(log_group: str, start: int, keep_following: bool, metrics: bool) -> None:
    client = aws_client("logs")
    seen: set[tuple] = set()  # the emulator gives no eventId: an event is its stream, time and text
    while True:
        token = None
        newest = start
        while True:
            arguments = {"logGroupName": log_group, "startTime": start, "interleaved": True}
            if token:
                arguments["nextToken"] = token
            try:
                page = client.filter_log_events(**arguments)
            except client.exceptions.ResourceNotFoundException:
                page = {"events": []}  # no invocation has logged yet
            for event in page["events"]:
                key = (event.get("logStreamName"), event["timestamp"], event["message"])
                if key in seen:
                    continue
                seen.add(key)
                newest = max(newest, event["timestamp"])
                if metrics or not is_metric_record(event["message"]):
                    print(render(event), flush=True)
            token = page.get("nextToken")
            if not token:
                break
        if not keep_following:
            return
        start = newest  # events of the same millisecond again: `seen` drops them
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", help="a domain (course) or a function's logical id")
    parser.add_argument("--since", default="5m", help="how far back to start (default 5m)")
    parser.add_argument("--no-follow", action="store_true", help="print what is there and stop")
    parser.add_argument("--metrics", action="store_true", help="include the EMF metric records")
    parser.add_argument("--stack", default=os.environ.get("STACK") or stack_name("local"))
    args = parser.parse_args(argv)
    try:
        logical_id = logical_id_for(args.function, list(serverless_functions(read_template())))
        start = since_millis(args.since)
    except BadArgument as exc:
        print(f"logs: {exc}", file=sys.stderr)
        return 2
    if not emulator_running():
        print(f"logs: no emulator answers on {EMULATOR_URL}: run `make up`", file=sys.stderr)
        return 1
    outputs = stack_outputs(args.stack)
    if outputs is None:
        print(f"logs: stack {args.stack} is not deployed on {EMULATOR_URL}: run `make up`", file=sys.stderr)
        return 1
    name = function_name(args.stack, logical_id)
    log_group = f"/aws/lambda/{name}"
    print(f"[logs] {log_group}{'' if args.no_follow else ' (Ctrl-C stops)'}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        follow(log_group, start, not args.no_follow, args.metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
