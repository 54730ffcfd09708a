"""Provision warm function instances (the emulator's "provisioned concurrency").

The emulator starts a new instance of a function for every request that arrives while
its instances are busy, like AWS; unlike AWS, every cold start runs on the same two cores
as the functions being measured, so a burst that meets no warm instances builds a queue
that dominates the latency figures. This sends WIDTH simultaneous requests to every route
of the API, invokes every internal function WIDTH times at once, every queue consumer with
an empty batch and every scheduled function with an event that asks for one ordinary run, so
that each domain function has WIDTH warm instances that have imported its endpoints' modules
(idle instances are kept for LAMBDA_WARM_TTL_SECONDS, which the launcher sets to a working day).
An outbox relay gets WIDTH instances besides the one its listening run holds: under load a
run listens (started by the first commit that found none) while the schedule's pass starts,
and on a fresh stack that first overlap, within a minute of the deploy, otherwise started every
relay's second instance at once, in the middle of the first load. `make up` runs it (WARM_INSTANCES); `make loadtest`
runs it again (WARM) unless WARM=0. Requests carry no token and an empty body, so they are
answered with 401/422/404: warming needs an instance, not a success.

    .venv/bin/python -m infra.local.warmup [--width 3]
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
from infra.local.aws import aws_client, function_name
from infra.local.deploy import api_url
from infra.local.relays import OUTBOX_RELAY_SUFFIX
from infra.template.generate import api_routes, read_template, serverless_functions

# Warm instances per function that `make up` leaves (and provisions: past them the local emulator
# starts another instance only after a request has waited INSTANCE_SPAWN_GRACE_MS for a busy one,
# infra/emulator/patient_instances.py): what the seed's 100-user mix keeps busy at once, first burst
# included (docs/performance.md, "Patient instance starts"). Functions not listed get one (the read
# models' fallback functions among them); the bcrypt function cannot exceed PasswordHashingConcurrency.
INSTANCES = {
    "CourseApiFunction": 4,
    "EnrollmentApiFunction": 3,
    "PaymentApiFunction": 2,
    # Not on any request path: the read models' rebuild and the exports it reads.
    "CourseInternalCourseFactsPageFunction": 0,
    "PaymentInternalCompletedPaymentsPageFunction": 0,
    "EnrollmentInternalRebuildReadModelsFunction": 0,
    "PaymentInternalRebuildReadModelsFunction": 0,
}


def template_functions() -> tuple[list[tuple[str, str, str]], list[str], list[str], list[str]]:
    """(function, method, path) of every API route, and the logical ids of the internal functions
    (no event source), of the queue consumers and of the scheduled functions."""
    routes, internal, consumers, scheduled = [], [], [], []
    for logical_id, properties in serverless_functions(read_template()).items():
        events = (properties.get("Events") or {}).values()
        routes.extend((logical_id, method, path) for method, path in api_routes(properties))
        if not properties.get("Events") and "Internal" in logical_id:
            internal.append(logical_id)
        if any(e["Type"] == "SQS" for e in events):
            consumers.append(logical_id)
        if any(e["Type"] == "Schedule" for e in events):
            scheduled.append(logical_id)
    return routes, internal, consumers, scheduled


def scheduled_instances(logical_id: str, width: int) -> tuple[int, int]:
    """(instances to provision, instances to start now) for a scheduled function warmed to ``width``.

    An outbox relay's listening run (started by a commit, until idle) holds an instance of its
    own: it is provisioned one more, so that the ``width`` ordinary runs started beside it each
    get a new instance at once.
    """
    if width and logical_id.endswith(OUTBOX_RELAY_SUFFIX):
        return width + 1, width
    return width, width


def _concurrently(width: int, call) -> list:
    barrier = threading.Barrier(width)

    def fire(_index: int):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(fire, range(width)))


def warm_route(base: str, method: str, path: str, width: int) -> list[int]:
    url = base + re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), path)
    return _concurrently(
        width, lambda: requests.request(method, url, json={} if method != "GET" else None, timeout=120).status_code
    )


def provision(stack: str, logical_id: str, width: int) -> None:
    """Record ``width`` provisioned instances: the local emulator starts that many without waiting
    for a busy one to come free, and beyond them only patiently (infra/emulator/patient_instances.py)."""
    aws_client("lambda").put_provisioned_concurrency_config(
        FunctionName=function_name(stack, logical_id), Qualifier="$LATEST", ProvisionedConcurrentExecutions=width
    )


def warm_invoked(stack: str, logical_id: str, width: int, payload: dict) -> list[str]:
    """Invoke a function ``width`` times at once with ``payload`` (an unknown id, an empty batch)."""
    client = aws_client("lambda")
    name = function_name(stack, logical_id)
    body = json.dumps(payload).encode()
    return _concurrently(width, lambda: client.invoke(FunctionName=name, Payload=body).get("FunctionError", "ok"))


def warm_stack(stack: str, width: int | None = None) -> dict[str, int]:
    """Warm ``width`` instances of every function of a deployed stack (None: as many as ``INSTANCES`` says).

    Returns the number of instances warmed per function.
    """
    base = api_url(stack)
    routes, internal, consumers, scheduled = template_functions()
    widths = {
        logical_id: width if width is not None else INSTANCES.get(logical_id, 1)
        for logical_id in {route[0] for route in routes} | set(internal) | set(consumers) | set(scheduled)
    }
    schedules = {logical_id: scheduled_instances(logical_id, widths[logical_id]) for logical_id in scheduled}
    provisioned = {**widths, **{logical_id: provision_count for logical_id, (provision_count, _) in schedules.items()}}
    for logical_id, instances in provisioned.items():
        if instances:
            provision(stack, logical_id, instances)
    for logical_id, method, path in routes:
        statuses = warm_route(base, method, path, widths[logical_id])
        if any(status >= 500 for status in statuses):
            print(f"  {method} {path}: {statuses}", flush=True)
    invocations = [
        *(
            (logical_id, widths[logical_id], {"course_id": str(uuid.uuid4()), "payment_id": str(uuid.uuid4())})
            for logical_id in internal
        ),
        # Consumers: an empty batch starts an instance that the first events then find warm.
        *((logical_id, widths[logical_id], {"Records": []}) for logical_id in consumers),
        # Scheduled functions: one ordinary run each (an outbox relay publishes what is pending, a
        # mail relay sends what is pending), the work their schedule gives them anyway.
        *((logical_id, started, {}) for logical_id, (_, started) in schedules.items()),
    ]
    invocations = [invocation for invocation in invocations if invocation[1]]
    # Different functions' instances start side by side: each start is mostly one core's work.
    with ThreadPoolExecutor(max_workers=max(1, len(invocations))) as pool:
        list(pool.map(lambda invocation: warm_invoked(stack, *invocation), invocations))
    return widths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=None, help="warm instances per function (default: INSTANCES)")
    parser.add_argument("--stack", default=stack_name("local"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    widths = warm_stack(args.stack, args.width)
    print(f"warmed {sum(widths.values())} instances of {len(widths)} functions in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
