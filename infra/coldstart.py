"""Measure each API function's first answer from a cold process, against a bare Powertools handler.

For every function of the SAM build (.aws-sam/build) with an API event, its code and the layer
are zipped and unzipped into a temporary folder, as the emulator does for a new instance
(unzipping resets every file's modification time). Each run starts a fresh interpreter on the
emulator's own Python worker (MiniStack's worker script with the launcher's changes to it:
infra/emulator/lazy_invoke_depth.py, runtime_packages.py), which imports the handler module, and
sends it one typical first request as an API Gateway REST proxy event (``FIRST_REQUESTS``), with
the environment the running local stack gives that function: its database through PgBouncer,
Redis, the JWT secret. Connecting counts. Timed from the process's start: ``init`` until the
worker says it is ready (interpreter start, bootstrap, the handler module's imports), ``request``
from the event sent until its answer is read, ``first answer`` both. The authenticated reads carry
a token signed with the function's own JWT secret, for a student of the enrollment database;
``POST /login`` logs the stack's admin in, each run from an address of its own (the login limit
counts per address).

In the same runs a bare handler goes the same way: Python 3.12, Powertools' APIGatewayRestResolver
with ``enable_validation=True`` and one route answering a small pydantic model, nothing else, on
the same layer. Each round starts every function and the bare handler once; the figures are
medians over ``--runs`` rounds.

The budget: a first answer within ``BUDGET_MS`` and within ``BUDGET_RATIO`` times the bare
handler's. ``POST /login`` checks a password with bcrypt at cost BCRYPT_ROUNDS, a cost chosen on
purpose (docs/performance.md); the check is timed on its own beside each run and that function is
judged on its first answer minus that time; its first answer, bcrypt included, is printed too.
The last line is JSON: ``{"bare_ms": ..., "functions": {"<FunctionLogicalId>": ms, ...}}`` (first
answers, bcrypt included).

With ``--instructions`` each function and the bare handler start once more, under valgrind's
callgrind, which counts the instructions the process executes from its start to its first answer
(the worker then reads the end of its input and exits, so callgrind writes its totals). Unlike wall
time, the count stays the same whatever else the machine is doing: the figure to compare two
versions of the code by on a busy or noisy machine. POST /login's count includes its bcrypt check.

Needs the local stack running (`make up`; nothing is deployed here) and its build current.

    .venv/bin/python -m infra.coldstart [--runs 5] [--only CourseApiFunction] [--without-bytecode]
                                        [--importtime FOLDER] [--instructions] [--build .aws-sam/build]
"""

import argparse
import io
import json
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.config import EMULATOR_URL, ROOT, deploy_parameters, stack_name
from infra.local.events import proxy_event
from infra.template.generate import LAYER_DIR, read_template, serverless_functions
from loadtest.machine import CpuTimes, cpu_split

BUILD_DIR = ROOT / ".aws-sam" / "build"
BUDGET_MS = 300.0
BUDGET_RATIO = 2.0
ANSWER_TIMEOUT_SECONDS = 30.0
# Under callgrind a process runs some fifty times slower.
INSTRUMENTED_TIMEOUT_SECONDS = 900.0
CALLGRIND_TOTALS = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class FirstRequest:
    """A function's typical first request: its route, as whom, with what body."""

    route: str
    as_student: bool = False  # with the bearer token of a student who has enrollments
    body: Callable[[dict[str, str]], dict[str, Any]] | None = None  # from samconfig's local parameters
    headers: dict[str, str] = field(default_factory=dict)
    password_check: bool = False  # checks a password with bcrypt: judged without that check


# The first request a new instance of each API function typically serves; a function is measured
# with the first of these among its routes (its API events).
FIRST_REQUESTS = (
    FirstRequest("GET /courses"),
    FirstRequest(
        "POST /login",
        body=lambda parameters: {"email": parameters["AdminEmail"], "password": parameters["AdminPassword"]},
        password_check=True,
    ),
    FirstRequest("GET /health"),
    FirstRequest("GET /me", as_student=True),
    FirstRequest("GET /enrollments/me", as_student=True),
    FirstRequest("GET /payments/me", as_student=True),
    FirstRequest("GET /notifications/me", as_student=True),
    FirstRequest(
        "OPTIONS /courses", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}
    ),
)

BARE = "bare handler"
BARE_ROUTE = "GET /status"
BARE_HANDLER = """
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

app = APIGatewayRestResolver(enable_validation=True)


class Status(BaseModel):
    status: str
    version: int


@app.get("/status")
def status() -> Status:
    return Status(status="ok", version=1)


def handler(event, context):
    return app.resolve(event, context)
"""


@dataclass
class Target:
    """What one cold process runs: a handler, its environment and the event of its first request."""

    name: str
    route: str
    code: Path
    handler: str
    environment: dict[str, str]
    event: Callable[[int], dict[str, Any]]  # run number -> event
    password_check: bool = False


@dataclass
class Timing:
    init_ms: float
    request_ms: float

    @property
    def first_answer_ms(self) -> float:
        return self.init_ms + self.request_ms


@dataclass
class Setup:
    script: Path
    layer: Path
    targets: list[Target]
    bcrypt_rounds: int | None  # of the function that checks a password, if one is measured
    caller: str


def worker_script(folder: Path) -> str:
    """The Python worker a new emulator instance runs, with the launcher's changes to it (the
    runtime's packages linked under ``folder``, as the emulator links them in its own)."""
    from ministack.core import lambda_runtime

    from infra.emulator.lazy_invoke_depth import lazy_invoke_depth
    from infra.emulator.runtime_packages import runtime_packages

    shipped = lambda_runtime._PYTHON_WORKER_SCRIPT
    try:
        lazy_invoke_depth()
        runtime_packages(folder / "lambda-runtime")
        return lambda_runtime._PYTHON_WORKER_SCRIPT
    finally:
        # The changes apply to MiniStack's module, and apply only to the script it ships.
        lambda_runtime._PYTHON_WORKER_SCRIPT = shipped


def unzipped_copy(source: Path, target: Path, with_bytecode: bool) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in source.rglob("*"):
            if path.is_file() and (with_bytecode or "__pycache__" not in path.parts):
                archive.write(path, path.relative_to(source))
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        archive.extractall(target)


def instance_environment(target: Target, layer: Path) -> dict[str, str]:
    """The environment the emulator gives a new instance: its own, the function's variables, and
    what Lambda sets (lambda_runtime.Worker._spawn)."""
    name = f"coldstart-{target.name.replace(' ', '-')}"
    environment = {
        **os.environ,
        **target.environment,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "_LAMBDA_LAYERS_DIRS": str(layer),
        # The launcher runs the emulator so: nothing is written into the unzipped copy.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for variable, value in (
        ("AWS_ENDPOINT_URL", EMULATOR_URL),
        ("LAMBDA_TASK_ROOT", str(target.code)),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("_LAMBDA_TIMEOUT", "30"),
    ):
        environment.setdefault(variable, value)
    return environment


def _read_line(stream: IO[str], what: str, timeout: float) -> dict[str, Any]:
    readable, _, _ = select.select([stream], [], [], timeout)
    if not readable:
        raise SystemExit(f"{what}: no answer within {timeout:.0f} s")
    answer: dict[str, Any] = json.loads(stream.readline() or "{}")
    return answer


def cold_answer(
    setup: Setup,
    target: Target,
    run: int,
    python_options: tuple[str, ...] = (),
    logs: IO[str] | None = None,
    wrapper: tuple[str, ...] = (),
) -> Timing:
    """Start a fresh worker for ``target``, send it its first request, time both, check the answer
    (2xx). Under a ``wrapper`` (valgrind) the worker is left to exit by itself once answered."""
    module, handler = target.handler.rsplit(".", 1)
    environment = instance_environment(target, setup.layer)
    init = {
        "code_dir": str(target.code),
        "module": module,
        "handler": handler,
        "env": target.environment,
        "function_name": environment["AWS_LAMBDA_FUNCTION_NAME"],
        "memory": 512,
    }
    event = target.event(run)
    invocation = {"event": event, "ctx": {"request_id": str(uuid.uuid4())}}
    with tempfile.TemporaryFile("w+") as own_logs:
        stderr = logs if logs is not None else own_logs
        started = time.perf_counter()
        worker = subprocess.Popen(
            [*wrapper, sys.executable, *python_options, str(setup.script)],
            cwd=target.code,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
            env=environment,
        )
        assert worker.stdin is not None and worker.stdout is not None
        try:
            worker.stdin.write(json.dumps(init) + "\n")
            worker.stdin.flush()
            timeout = INSTRUMENTED_TIMEOUT_SECONDS if wrapper else ANSWER_TIMEOUT_SECONDS
            ready = _read_line(worker.stdout, f"{target.name}: init", timeout)
            initialised = time.perf_counter()
            if ready.get("status") != "ready":
                stderr.seek(0)
                raise SystemExit(f"{target.name}: init failed: {ready.get('error')}\n{stderr.read()[-3000:]}")
            worker.stdin.write(json.dumps(invocation) + "\n")
            worker.stdin.flush()
            answer = _read_line(worker.stdout, f"{target.name}: {target.route}", timeout)
            answered = time.perf_counter()
            if wrapper:
                worker.stdin.close()  # the end of its input: the worker returns and the process exits
                worker.wait(timeout)
        finally:
            worker.kill()
            worker.wait()
    result = answer.get("result") if answer.get("status") == "ok" else None
    status = result.get("statusCode") if isinstance(result, dict) else None
    if not isinstance(status, int) or not 200 <= status < 300:
        detail = answer.get("trace") or (result or {}).get("body") or answer
        raise SystemExit(f"{target.name}: {target.route} answered {status}, not its first answer: {detail}")
    return Timing((initialised - started) * 1000, (answered - initialised) * 1000)


def instructions(setup: Setup, target: Target, run: int) -> int:
    """The instructions a cold process of ``target`` executes until its first answer, counted by callgrind."""
    with tempfile.TemporaryDirectory(prefix="coldstart-callgrind-") as folder:
        counts = Path(folder) / "callgrind.out"
        callgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={counts}")
        with tempfile.TemporaryFile("w+") as logs:
            cold_answer(setup, target, run, logs=logs, wrapper=callgrind)
            totals = CALLGRIND_TOTALS.search(counts.read_text()) if counts.exists() else None
            if totals is None:
                logs.seek(0)
                raise SystemExit(f"{target.name}: callgrind wrote no totals\n{logs.read()[-3000:]}")
    return int(totals.group(1))


def report_instructions(setup: Setup, counts: dict[str, int]) -> None:
    bare = counts[BARE]
    print(f"\n{'function':<30} {'first request':<22} {'instructions':>14} {'x bare':>7}")
    for target in setup.targets:
        count = counts[target.name]
        print(f"{target.name:<30} {target.route:<22} {count / 1e6:>12,.0f} M {count / bare:>6.2f}x")
    if setup.bcrypt_rounds is not None:
        print(f"POST /login's count includes its bcrypt check at cost {setup.bcrypt_rounds}.")


def password_check_ms(rounds: int) -> float:
    """The wall time of one bcrypt check at cost ``rounds``: what POST /login spends on purpose."""
    import bcrypt

    hashed = bcrypt.hashpw(b"cold-start password", bcrypt.gensalt(rounds))
    started = time.perf_counter()
    bcrypt.checkpw(b"cold-start password", hashed)
    return (time.perf_counter() - started) * 1000


def api_functions(build: Path, only: list[str] | None) -> dict[str, dict[str, Any]]:
    """The build's functions with an API event (logical id -> properties), those of ``only`` if given."""
    if not (build / "template.yaml").exists():
        raise SystemExit(f"no build in {build}: `make up` builds it")
    functions = {
        logical_id: properties
        for logical_id, properties in serverless_functions(read_template(build / "template.yaml")).items()
        if any(event["Type"] == "Api" for event in (properties.get("Events") or {}).values())
        and (not only or logical_id in only)
    }
    if not functions:
        raise SystemExit("no API function of the build matches --only")
    return functions


def first_request_of(logical_id: str, properties: dict[str, Any]) -> FirstRequest:
    routes = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for event in (properties.get("Events") or {}).values()
        if event["Type"] == "Api"
    }
    for request in FIRST_REQUESTS:
        if request.route in routes:
            return request
    raise SystemExit(f"{logical_id}: none of its routes has a typical first request; add one to FIRST_REQUESTS")


def deployed_environments(stack: str, logical_ids: list[str]) -> dict[str, dict[str, str]]:
    """Each function's environment variables as the running local stack has them."""
    from infra.local.aws import aws_client, stack_resources

    try:
        resources = stack_resources(stack)
    except Exception as exc:  # no emulator, no stack: nothing to measure against
        raise SystemExit(f"the local stack {stack!r} is not running on {EMULATOR_URL} (make up): {exc}") from None
    client = aws_client("lambda")
    environments = {}
    for logical_id in logical_ids:
        if logical_id not in resources:
            raise SystemExit(f"{logical_id} is built but not deployed in {stack!r}: make up")
        configuration = client.get_function_configuration(FunctionName=resources[logical_id])
        environments[logical_id] = (configuration.get("Environment") or {}).get("Variables") or {}
    return environments


@contextmanager
def process_environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def student_token(environment: dict[str, str], student_id: uuid.UUID) -> str:
    """An access token the function with ``environment`` accepts: signed with its own JWT secret."""
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
    from eduplatform.principal import Role
    from eduplatform.security import issue_token
    from eduplatform.settings import get_settings

    with process_environment(environment):
        get_settings.cache_clear()
        try:
            return issue_token(student_id, Role.STUDENT, True, email_verified=True, session_id=uuid.uuid4())
        finally:
            get_settings.cache_clear()


def a_student(environments: dict[str, dict[str, str]]) -> tuple[uuid.UUID, str]:
    """A student with enrollments in the stack's enrollment database (seeded: payments and
    notifications too); a new id, whose lists are empty, when there is none."""
    import psycopg

    urls = [env["DATABASE_URL"] for env in environments.values() if env.get("POWERTOOLS_SERVICE_NAME") == "enrollment"]
    if urls:
        with psycopg.connect(urls[0], prepare_threshold=None) as conn:
            row = conn.execute("SELECT student_id FROM enrollments LIMIT 1").fetchone()
        if row:
            return row[0], "a student with enrollments"
    return uuid.uuid4(), "a student without enrollments (none in the database)"


def event_maker(
    request: FirstRequest, token: str | None, parameters: dict[str, str]
) -> Callable[[int], dict[str, Any]]:
    method, resource = request.route.split(" ", 1)

    def event(run: int) -> dict[str, Any]:
        # Each run from an address of its own: POST /login allows 20 logins a minute per address.
        headers = {**request.headers, "X-Forwarded-For": f"198.18.{run // 250}.{run % 250 + 1}"}
        body = request.body(parameters) if request.body else None
        return proxy_event(method, resource, body=body, headers=headers, token=token)

    return event


@contextmanager
def cold_copies(build: Path, only: list[str] | None, with_bytecode: bool) -> Iterator[Setup]:
    """The worker script, the unzipped layer and, per function, its unzipped code and first request."""
    functions = api_functions(build, only)
    parameters = deploy_parameters("local")
    # Every API function's, also those --only leaves out: the student is found in enrollment's database.
    environments = deployed_environments(
        os.environ.get("STACK") or stack_name("local"), list(api_functions(build, None))
    )
    requests = {logical_id: first_request_of(logical_id, properties) for logical_id, properties in functions.items()}
    student_id, caller = a_student(environments)
    bcrypt_rounds = next(
        (int(environments[i].get("BCRYPT_ROUNDS") or 12) for i, r in requests.items() if r.password_check), None
    )
    with tempfile.TemporaryDirectory(prefix="coldstart-") as temporary:
        folder = Path(temporary)
        script = folder / "_worker.py"
        script.write_text(worker_script(folder))
        layer = folder / "layer"
        unzipped_copy(build / "CommonLayer", layer, with_bytecode)
        bare_code = folder / "bare"
        bare_code.mkdir()
        (bare_code / "bare_handler.py").write_text(BARE_HANDLER)
        bare_method, bare_resource = BARE_ROUTE.split(" ", 1)
        targets = [
            Target(
                BARE,
                BARE_ROUTE,
                bare_code,
                "bare_handler.handler",
                {"POWERTOOLS_SERVICE_NAME": "bare"},
                lambda run: proxy_event(bare_method, bare_resource),
            )
        ]
        for logical_id, properties in functions.items():
            code = folder / logical_id
            unzipped_copy(build / logical_id, code, with_bytecode)
            request = requests[logical_id]
            token = student_token(environments[logical_id], student_id) if request.as_student else None
            targets.append(
                Target(
                    logical_id,
                    request.route,
                    code,
                    properties["Handler"],
                    environments[logical_id],
                    event_maker(request, token, parameters),
                    request.password_check,
                )
            )
        yield Setup(script, layer, targets, bcrypt_rounds, caller)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return f"{os.cpu_count()} cores ({cpu}), load average {os.getloadavg()[0]:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold processes per function (median), default 5")
    parser.add_argument("--only", action="append", help="logical id to measure (repeatable)")
    parser.add_argument("--without-bytecode", action="store_true", help="drop the build's __pycache__ first")
    parser.add_argument(
        "--build", type=Path, default=BUILD_DIR, help="another SAM build to measure (its functions deployed here)"
    )
    parser.add_argument(
        "--importtime",
        type=Path,
        metavar="FOLDER",
        help="first, one untimed run of each with -X importtime, logged here",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="then one run of each under callgrind: instructions to the first answer (needs valgrind)",
    )
    args = parser.parse_args(argv)
    if args.instructions and not shutil.which("valgrind"):
        parser.error("--instructions counts with valgrind, which is not installed (apt-get install valgrind)")
    with cold_copies(args.build, args.only, not args.without_bytecode) as setup:
        print(f"{len(setup.targets) - 1} API functions of the build and the bare handler, {args.runs} cold starts each")
        print(f"authenticated reads as {setup.caller}; machine: {machine()}", flush=True)
        if args.importtime:
            args.importtime.mkdir(parents=True, exist_ok=True)
            for target in setup.targets:
                with open(args.importtime / f"{target.name.replace(' ', '-')}.log", "w+") as log:
                    cold_answer(setup, target, args.runs, ("-X", "importtime"), log)
        before = CpuTimes.now()
        timings: dict[str, list[Timing]] = {target.name: [] for target in setup.targets}
        checks: list[float] = []
        for run in range(args.runs):
            for target in setup.targets:
                timings[target.name].append(cold_answer(setup, target, run))
            if setup.bcrypt_rounds is not None:
                checks.append(password_check_ms(setup.bcrypt_rounds))
        split = cpu_split(before, CpuTimes.now())
        report(setup, timings, checks)
        counts = (
            {target.name: instructions(setup, target, args.runs + 1) for target in setup.targets}
            if args.instructions
            else None
        )
        if counts:
            report_instructions(setup, counts)
    print(
        f"machine over the runs: {split['busy_pct']} % of its cores busy (the runs included), {split['steal_pct']} % steal"
    )
    summary: dict[str, Any] = {
        "bare_ms": round(first_answer(timings[BARE]), 1),
        "functions": first_answers(setup, timings),
    }
    if counts:
        summary["bare_instructions"] = counts[BARE]
        summary["instructions"] = {name: count for name, count in counts.items() if name != BARE}
    print(json.dumps(summary))
    return 0


def first_answer(samples: list[Timing]) -> float:
    return statistics.median(sample.first_answer_ms for sample in samples)


def first_answers(setup: Setup, timings: dict[str, list[Timing]]) -> dict[str, float]:
    return {
        target.name: round(first_answer(timings[target.name]), 1) for target in setup.targets if target.name != BARE
    }


def report(setup: Setup, timings: dict[str, list[Timing]], checks: list[float]) -> None:
    bare_ms = first_answer(timings[BARE])
    check_ms = statistics.median(checks) if checks else 0.0
    print()
    print(
        f"{'function':<30} {'first request':<22} {'first answer':>12} {'init':>6} {'request':>8} {'x bare':>7}"
        f"  budget: {BUDGET_MS:.0f} ms and {BUDGET_RATIO:g}x bare"
    )
    over = []
    for target in setup.targets:
        samples = timings[target.name]
        first = first_answer(samples)
        init = statistics.median(sample.init_ms for sample in samples)
        request = statistics.median(sample.request_ms for sample in samples)
        # Each run's login less the check timed right after it in the same round.
        judged = (
            statistics.median(sample.first_answer_ms - check for sample, check in zip(samples, checks, strict=True))
            if target.password_check
            else first
        )
        within = judged <= BUDGET_MS and judged <= BUDGET_RATIO * bare_ms
        verdict = "" if target.name == BARE else ("ok" if within else "OVER")
        if target.password_check:
            verdict += f" (judged without the bcrypt check: {judged:.0f} ms, {judged / bare_ms:.2f}x bare)"
        if not within and target.name != BARE:
            over.append(target.name)
        print(
            f"{target.name:<30} {target.route:<22} {first:>9.0f} ms {init:>6.0f} {request:>8.0f} {first / bare_ms:>6.2f}x"
            f"  {verdict}"
        )
    if checks:
        print(
            f"\nPOST /login checks the password with bcrypt at cost {setup.bcrypt_rounds}: {check_ms:.0f} ms (median; one "
            "check timed on its own in each round). That cost is chosen (docs/performance.md), so the login function is "
            "judged on its first answer minus its round's check; its first answer above includes it."
        )
    print(f"over budget: {', '.join(over)}" if over else "every function within budget")


if __name__ == "__main__":
    sys.exit(main())
