"""Provision warm function instances before a load run (the emulator's "provisioned concurrency").

The emulator starts a new instance of a function for every request that arrives while
its instances are busy, like AWS; unlike AWS, every cold start (~0.6 s of imports) runs
on the same two cores as the functions being measured. At the start of a load run,
dozens of instances start at once, and the queue they build up dominates the latency
figures. This sends WIDTH simultaneous requests to every route of the API, and invokes
every internal function WIDTH times at once, so that each has WIDTH warm instances
before the measured run starts (idle instances are kept for LAMBDA_WARM_TTL_SECONDS,
300 s by default). Requests carry no token and an empty body, so they are answered
with 401/422/404: warming needs an instance, not a success.

    .venv/bin/python -m loadtest.warmup [--width 3]
"""

import argparse
import json
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from infra.config import stack_name
from infra.local.stack import api_url, aws_client
from infra.template.generate import read_template, serverless_functions


def template_functions() -> tuple[list[tuple[str, str]], list[str]]:
    """(method, path) of every API route, and the logical ids of functions with no API event."""
    routes, internal = [], []
    for logical_id, properties in serverless_functions(read_template()).items():
        api_events = [e["Properties"] for e in (properties.get("Events") or {}).values() if e["Type"] == "Api"]
        routes.extend((event["Method"].upper(), event["Path"]) for event in api_events if event["Method"] != "options")
        if not properties.get("Events") and "Internal" in logical_id:
            internal.append(logical_id)
    return routes, internal


def _concurrently(width: int, call) -> list:
    barrier = threading.Barrier(width)

    def fire(_index: int):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(fire, range(width)))


def warm_route(base: str, method: str, path: str, width: int) -> list[int]:
    url = base + re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), path)
    return _concurrently(width, lambda: requests.request(method, url, json={} if method != "GET" else None, timeout=120).status_code)


def warm_internal(stack: str, logical_id: str, width: int) -> list[str]:
    client = aws_client("lambda")
    name = aws_client("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id)["StackResourceDetail"]["PhysicalResourceId"]
    payload = json.dumps({"course_id": str(uuid.uuid4()), "lesson_id": str(uuid.uuid4()), "payment_id": str(uuid.uuid4())})
    return _concurrently(width, lambda: client.invoke(FunctionName=name, Payload=payload.encode()).get("FunctionError", "ok"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=3, help="warm instances per function")
    parser.add_argument("--stack", default=stack_name("local"))
    args = parser.parse_args(argv)
    base = api_url(args.stack)
    routes, internal = template_functions()
    started = time.monotonic()
    for method, path in routes:
        statuses = warm_route(base, method, path, args.width)
        if any(status >= 500 for status in statuses):
            print(f"  {method} {path}: {statuses}", flush=True)
    for logical_id in internal:
        warm_internal(args.stack, logical_id, args.width)
    print(f"warmed {len(routes)} routes and {len(internal)} internal functions x {args.width} in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
