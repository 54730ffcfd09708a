"""The local stack launcher behind `make up`, `make down` and `make url`.

No Docker and no AWS account: the machine's PostgreSQL holds the five domain databases
and MiniStack (an AWS emulator on :4566, run from this project's Python 3.12) hosts
Lambda, API Gateway and the rest. SAM builds and deploys the app into the emulator.

Every step is idempotent, and the slow ones are skipped when nothing changed: the
build when the sources hash the same as last time, the deploy when the emulator still
has the stack deployed from that build.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from infra.bytecode import compile_build
from infra.config import (
    DOMAINS,
    EMULATOR_URL,
    LISTEN_PARAMETER_FOR_DOMAIN,
    METRICS_PORT,
    PARAMETER_FOR_DOMAIN,
    POOLER_PORT,
    POSTGRES_ADMIN_URL,
    ROOT,
    deploy_parameters,
    local_database_urls,
    stack_name,
)
from infra.local import pooler
from infra.local.processes import listener_description, port_accepts, recorded_pid, stop_group
from infra.template.generate import api_routes, read_template, serverless_functions

STATE_DIR = ROOT / ".local"
BUILD_DIR = ROOT / ".aws-sam" / "build"
EMULATOR_PID = STATE_DIR / "ministack.pid"
EMULATOR_LOG = STATE_DIR / "ministack.log"
EMULATOR_TMP = STATE_DIR / "ministack-tmp"
SOURCES = ("template.yaml", "samconfig.toml", "functions", "layers")
# How long MiniStack keeps an idle function instance (its LAMBDA_WARM_TTL_SECONDS; its own
# default is 300 s): a working day, so the instances `make up` warms are still there for the
# first burst of traffic hours later. An instance costs ~60 MB while it waits.
WARM_TTL_SECONDS = int(os.environ.get("WARM_TTL_SECONDS", str(10 * 3600)))
# Warm instances `make up` leaves for each function: unset, as many as each needs under the
# seed's 100-user mix (loadtest/warmup.py INSTANCES); `make up WARM_INSTANCES=0` skips warming.
WARM_INSTANCES = int(os.environ["WARM_INSTANCES"]) if os.environ.get("WARM_INSTANCES") else None


def emulator_environment() -> dict[str, str]:
    """Environment for SAM CLI and boto3 that points every AWS call at the emulator."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=EMULATOR_URL,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        SAM_CLI_TELEMETRY="0",
        # sam build needs the functions' runtime (python3.12) on PATH: this venv's.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def aws_client(service: str):
    # botocore's own session: boto3's import (its resource layer and s3transfer) is not needed
    # here and costs `make sync` ~0.05 s.
    import botocore.session

    env = emulator_environment()
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def log(message: str) -> None:
    print(f"[up] {message}", flush=True)


# ---- emulator -------------------------------------------------------------------------------


def url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_in_background(
    name: str,
    command: list[str],
    log_path: Path,
    pid_path: Path,
    cwd: Path,
    env: dict[str, str],
    ready: Callable[[], bool],
    seconds: float,
) -> None:
    """Start a long-running process detached, record its pid, and wait until ``ready()``."""
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    pid_path.write_text(str(process.pid))
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name} did not start; see {log_path}")
        time.sleep(0.3)


def emulator_running() -> bool:
    return url_answers(f"{EMULATOR_URL}/_ministack/health")


def emulator_pid() -> int | None:
    """The pid of the MiniStack this checkout started, when it still runs."""
    return recorded_pid(EMULATOR_PID, b"ministack")


def start_emulator() -> bool:
    """Start MiniStack in the background unless this checkout's already answers; True when started here.

    An emulator on the port that this checkout did not start (another checkout's) is an error:
    deploying into it would test that checkout's MiniStack, not this one's.
    """
    if emulator_running():
        if emulator_pid() is not None:
            return False
        port = int(urlsplit(EMULATOR_URL).port or 80)
        raise SystemExit(
            f"{EMULATOR_URL} is answered by {listener_description(port)}, not by this checkout's MiniStack. "
            "Stop it (`make down` in the checkout that started it) or give this checkout another port: "
            "EMULATOR_URL=http://localhost:<free port>"
        )
    STATE_DIR.mkdir(exist_ok=True)
    # Every function instance unpacks its code and the layer into a temporary folder, and
    # a killed emulator leaves them behind: keep them where `stop_emulator` can remove them.
    shutil.rmtree(EMULATOR_TMP, ignore_errors=True)
    EMULATOR_TMP.mkdir()
    # LOG_LEVEL is MiniStack's own: at INFO it logs a line per request and per instance started.
    env = dict(
        os.environ,
        GATEWAY_PORT=EMULATOR_URL.rsplit(":", 1)[-1],
        TMPDIR=str(EMULATOR_TMP),
        LOG_LEVEL="WARNING",
        LAMBDA_WARM_TTL_SECONDS=str(WARM_TTL_SECONDS),
    )
    # Run as a script, not -m: the functions' workers inherit the emulator's environment, not its sys.path.
    command = [sys.executable, str(Path(__file__).with_name("ministack_tuned.py"))]
    start_in_background("MiniStack", command, EMULATOR_LOG, EMULATOR_PID, STATE_DIR, env, emulator_running, seconds=60)
    return True


def stop_emulator() -> bool:
    pid = emulator_pid()
    EMULATOR_PID.unlink(missing_ok=True)
    if pid is not None:
        stop_group(pid, grace_seconds=5)
    shutil.rmtree(EMULATOR_TMP, ignore_errors=True)
    return pid is not None


# ---- metrics bridge ------------------------------------------------------------------------

METRICS_BRIDGE_PID = STATE_DIR / "metrics-bridge.pid"
METRICS_BRIDGE_LOG = STATE_DIR / "metrics-bridge.log"


def metrics_bridge_pid() -> int | None:
    """The pid of the bridge `make up` started, when it still runs."""
    return recorded_pid(METRICS_BRIDGE_PID, b"infra.metrics.bridge")


def start_metrics_bridge(stack: str) -> bool:
    """Start the EMF -> Prometheus bridge (infra/metrics) for a stack's functions; True when started here."""
    if metrics_bridge_pid() is not None:
        return False
    if port_accepts(METRICS_PORT):
        raise SystemExit(
            f"port {METRICS_PORT} is taken by {listener_description(METRICS_PORT)}, not by this checkout's metrics bridge. "
            "Stop it (`make down` in the checkout that started it) or give this checkout another port: METRICS_PORT=<free port>"
        )
    STATE_DIR.mkdir(exist_ok=True)
    # Each poll makes the emulator scan every log stream of every function, holding the lock its
    # log writes need: every 10 s, not every 2 s.
    # --prune-streams: the emulator keeps every log stream (one per function and 10 s) until it is deleted.
    command = [
        sys.executable,
        "-m",
        "infra.metrics.bridge",
        "--stack",
        stack,
        "--port",
        str(METRICS_PORT),
        "--interval",
        "10",
        "--prune-streams",
    ]
    start_in_background(
        "the metrics bridge",
        command,
        METRICS_BRIDGE_LOG,
        METRICS_BRIDGE_PID,
        ROOT,
        emulator_environment(),
        lambda: url_answers(f"http://127.0.0.1:{METRICS_PORT}/metrics"),
        seconds=30,
    )
    return True


def stop_metrics_bridge() -> bool:
    pid = metrics_bridge_pid()
    METRICS_BRIDGE_PID.unlink(missing_ok=True)
    if pid is None:
        return False
    stop_group(pid, grace_seconds=10)  # the bridge saves its cursor and totals on SIGTERM
    return True


# ---- build and deploy ---------------------------------------------------------------------


def source_files(root: Path = ROOT) -> dict[str, bytes]:
    """Every file the build is made from (relative path -> content), in a stable order."""
    files: dict[str, bytes] = {}
    for source in SOURCES:
        path = root / source
        found = (
            [path]
            if path.is_file()
            else sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        )
        for file in found:
            files[str(file.relative_to(root))] = file.read_bytes()
    return files


def sources_digest(files: dict[str, bytes] | None = None) -> str:
    digest = hashlib.sha256()
    for name, content in (source_files() if files is None else files).items():
        digest.update(name.encode())
        digest.update(content)
    return digest.hexdigest()


def deployment_key(digest: str, parameters_digest: str) -> str:
    """What a stack's deploy marker holds: the sources it was deployed from and its parameters."""
    return hashlib.sha256(f"{digest}:{parameters_digest}".encode()).hexdigest()


def parameters_digest(parameters: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()


def deploy_marker(name: str) -> Path:
    return STATE_DIR / f"deployed-{name}.sha256"


def sync_manifest(name: str) -> Path:
    """The content hash of every source file as deployed to a stack (`make sync` pushes the difference)."""
    return STATE_DIR / f"deployed-{name}.sources.json"


def recorded_deploy(name: str) -> dict | None:
    """The deploy's record of a stack (record_deployed_sources) when it holds all `make sync` reads; else None."""
    manifest = sync_manifest(name)
    recorded = json.loads(manifest.read_text()) if manifest.exists() else {}
    return recorded if {"resources", "functions"} <= recorded.keys() else None


def stack_resources(name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource of a deployed stack."""
    resources = aws_client("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in resources}


def deployed_functions(template: dict) -> dict[str, dict]:
    """Logical id -> the function's code folder (``code_uri``) and API routes (``api_routes``,
    "METHOD /path" without the CORS preflights) of every function the template declares."""
    return {
        logical_id: {
            "code_uri": properties["CodeUri"],
            "api_routes": [f"{method} {path}" for method, path in api_routes(properties)],
        }
        for logical_id, properties in serverless_functions(template).items()
    }


def record_deployed_sources(
    name: str,
    files: dict[str, bytes],
    parameters_hash: str,
    resources: dict[str, str] | None = None,
    functions: dict[str, dict] | None = None,
) -> None:
    """What `make sync` compares with and pushes to: the sources' hashes, the stack's resources
    (read from the stack unless given) and its functions' code folders and routes (read from the
    template unless given); the last two change only with a deploy."""
    from infra.local.events import SourceError, template_signature

    signatures = {}
    for path, content in files.items():
        try:
            signature = template_signature(path, content)
        except SourceError:
            signature = "unparsable"
        if signature is not None:
            signatures[path] = signature
    manifest = {
        "parameters": parameters_hash,
        "templates": signatures,
        "resources": stack_resources(name) if resources is None else resources,
        "functions": deployed_functions(read_template(ROOT / "template.yaml")) if functions is None else functions,
        "files": {path: hashlib.sha256(content).hexdigest() for path, content in files.items()},
    }
    sync_manifest(name).write_text(json.dumps(manifest, indent=1, sort_keys=True))


def run_sam(arguments: list[str]) -> None:
    """Run SAM CLI against the emulator; its chatter goes to .local/sam.log, shown on failure."""
    STATE_DIR.mkdir(exist_ok=True)
    sam_log = STATE_DIR / "sam.log"
    with open(sam_log, "w") as output:
        result = subprocess.run(
            ["sam", *arguments],
            cwd=ROOT,
            env=emulator_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    if result.returncode != 0:
        sys.stderr.write(sam_log.read_text()[-4000:])
        raise SystemExit(f"sam {arguments[0]} failed (exit {result.returncode}); full output in {sam_log}")


def build(digest: str, config_env: str = "local") -> None:
    marker = STATE_DIR / "build.sha256"
    if marker.exists() and marker.read_text() == digest and (BUILD_DIR / "template.yaml").exists():
        log("build is up to date")
        return
    started = time.monotonic()
    run_sam(["build", "--config-env", config_env])
    compile_build(BUILD_DIR)
    STATE_DIR.mkdir(exist_ok=True)
    marker.write_text(digest)
    log(f"sam build: {time.monotonic() - started:.1f}s")


def stack_outputs(name: str) -> dict[str, str] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = aws_client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return None
    if not stacks or not stacks[0]["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stacks[0]["StackStatus"]:
        return None
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


# The emulator's REST API id is pinned to the stack's name (MiniStack's `ms-custom-id` tag), so
# the local URL survives `make down`/`make up` and emulator restarts. A stack-level tag given
# only by this launcher: MiniStack copies stack tags onto the RestApi it creates, and
# template.yaml and the AWS config (samconfig's default) never carry it.
API_ID_TAG = "ms-custom-id"


def pinned_api_id(name: str) -> str:
    return name


def deploy_command(name: str, parameters: dict[str, str], config_env: str = "local") -> list[str]:
    """The `sam deploy` arguments of an emulator deploy (always an emulator: this is the local launcher)."""
    overrides = [f"{key}={value}" for key, value in parameters.items()]
    return [
        "deploy",
        "--config-env",
        config_env,
        "--stack-name",
        name,
        "--parameter-overrides",
        *overrides,
        "--tags",
        f"{API_ID_TAG}={pinned_api_id(name)}",
    ]


class _LongFormLoader(yaml.SafeLoader):
    """Reads a template with CloudFormation's short-form tags as the long form (`!Ref X` -> {"Ref": "X"})."""


def _long_form(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if tag == "Ref" else f"Fn::{tag}": value}


_LongFormLoader.add_multi_constructor("!", _long_form)


def api_definition_digest(template: dict) -> str:
    """The API's routes as a template declares them (the REST API's definition is built from them), in long form.

    The same for the work tree's template and the one `sam deploy` uploaded (long form, with
    SAM's Metadata added), when the routes are the same.
    """
    api = {logical_id: properties.get("Events") for logical_id, properties in serverless_functions(template).items()}
    api["Api"] = template["Resources"]["Api"]["Properties"]
    return hashlib.sha256(json.dumps(api, sort_keys=True, default=str).encode()).hexdigest()


def read_long_form(text: str) -> dict:
    return yaml.load(text, Loader=_LongFormLoader)


def remove_stack_for_new_api(name: str, outputs: dict[str, str] | None, template: dict | None = None) -> None:
    """Delete a deployed stack whose REST API an update could not keep under its pinned id.

    MiniStack replaces a REST API whose definition (the routes) changed by creating the new one
    before deleting the old, which a pinned id refuses as "already in use"; and a stack deployed
    before the id was pinned keeps its random id. Either way the stack is deleted and created anew
    (its databases are outside it and keep their data). The routes deployed are read from the
    stack's own template (GetTemplate), so no local state is needed to tell.
    """
    if outputs is None:
        return
    client = aws_client("cloudformation")
    wanted = api_definition_digest(template or read_long_form((BUILD_DIR / "template.yaml").read_text()))
    deployed = read_long_form(client.get_template(StackName=name, TemplateStage="Original")["TemplateBody"])
    if outputs.get("ApiId") == pinned_api_id(name) and api_definition_digest(deployed) == wanted:
        return
    log(f"stack {name}: the API's routes changed (or its id is not pinned); deleting the stack to recreate its API")
    client.delete_stack(StackName=name)
    client.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})


def deploy(
    name: str, parameters: dict[str, str], digest: str, config_env: str = "local", files: dict[str, bytes] | None = None
) -> None:
    marker = deploy_marker(name)
    parameters_hash = parameters_digest(parameters)
    wanted = deployment_key(digest, parameters_hash)
    outputs = stack_outputs(name)
    if marker.exists() and marker.read_text() == wanted and outputs is not None:
        if recorded_deploy(name) is None:
            # Deployed from exactly these sources (the marker says so): what `make sync` compares with.
            record_deployed_sources(name, source_files() if files is None else files, parameters_hash)
        log(f"stack {name} is up to date")
        return
    started = time.monotonic()
    remove_stack_for_new_api(name, outputs)
    run_sam(deploy_command(name, parameters, config_env))
    apply_reserved_concurrency(name, parameters)
    marker.write_text(wanted)
    record_deployed_sources(name, source_files() if files is None else files, parameters_hash)
    log(f"sam deploy {name}: {time.monotonic() - started:.1f}s")


def apply_reserved_concurrency(stack: str, parameters: dict[str, str]) -> None:
    """Set the password-hashing functions' reserved concurrency through the Lambda API.

    MiniStack's CloudFormation ignores ReservedConcurrentExecutions (its Lambda API honours
    it), so the value the template gives those functions is applied here after a deploy.
    """
    limit = int(parameters.get("PasswordHashingConcurrency", "0"))
    client = aws_client("lambda")
    template = read_template(BUILD_DIR / "template.yaml")
    for logical_id, properties in serverless_functions(template).items():
        if "ReservedConcurrentExecutions" not in properties:
            continue
        name = function_name(stack, logical_id)
        if limit:
            client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=limit)
        else:
            client.delete_function_concurrency(FunctionName=name)


def function_name(stack: str, logical_id: str) -> str:
    resource = aws_client("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def bootstrap_admin(stack: str) -> dict:
    response = aws_client("lambda").invoke(FunctionName=function_name(stack, "IdentityBootstrapAdminFunction"))
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise SystemExit(f"admin bootstrap failed: {payload}")
    return payload


def api_url(stack: str) -> str:
    outputs = stack_outputs(stack)
    if outputs is None:
        raise SystemExit(f"stack {stack} is not deployed on {EMULATOR_URL}: run `make up`")
    return f"{EMULATOR_URL}/_aws/execute-api/{outputs['ApiId']}/{outputs['Stage']}"


def prepare_databases(urls: dict[str, str]) -> None:
    # Imported here: psycopg costs ~0.25 s to import, which `make sync` (it imports this module) never needs.
    from infra.local.databases import autovacuum_warning, ensure_database
    from infra.migrate import migrate

    for domain in DOMAINS:
        created = ensure_database(urls[domain])
        applied = migrate(domain, urls[domain])
        if created or applied:
            log(f"{domain} database: {'created, ' if created else ''}{', '.join(applied) or 'up to date'}")
    if warning := autovacuum_warning():
        log(warning)


def check_cache(url: str) -> None:
    """Say what to do when the Redis the functions are configured with does not answer (they work without it, slower)."""
    if not url:
        return
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        log(
            f"WARNING: Redis at {url} does not answer ({exc}); the functions will read PostgreSQL only, slower. "
            "Start it (`apt-get install redis-server && redis-server --daemonize yes`), or set CacheUrl= "
            "(empty) in samconfig.toml to run without the cache."
        )


def deploy_stack(name: str, parameters: dict[str, str]) -> str:
    """Databases migrated, emulator running, app built and deployed, admin present: the API URL."""
    direct_urls = {domain: parameters[PARAMETER_FOR_DOMAIN[domain]] for domain in DOMAINS}
    prepare_databases(direct_urls)
    check_cache(parameters.get("CacheUrl", ""))
    if pooler.start(
        POSTGRES_ADMIN_URL, [urlsplit(url).username or "postgres" for url in direct_urls.values()] + ["postgres"]
    ):
        log(f"PgBouncer started on 127.0.0.1:{POOLER_PORT} (log: {pooler.LOG_FILE.relative_to(ROOT)})")
    if start_emulator():
        log(f"MiniStack started on {EMULATOR_URL} (log: {EMULATOR_LOG.relative_to(ROOT)})")
    template_parameters = read_template()["Parameters"]
    function_parameters = {
        **parameters,
        **{PARAMETER_FOR_DOMAIN[d]: pooler.pooled_url(url) for d, url in direct_urls.items()},
        # The outbox relays' LISTEN bypasses PgBouncer, which does not carry notifications.
        **{
            LISTEN_PARAMETER_FOR_DOMAIN[d]: url
            for d, url in direct_urls.items()
            if LISTEN_PARAMETER_FOR_DOMAIN[d] in template_parameters
        },
    }
    return publish(name, function_parameters)


def publish(name: str, parameters: dict[str, str], config_env: str = "local") -> str:
    """Build and deploy the app into the running emulator and make sure the admin exists: the API URL."""
    files = source_files()
    digest = sources_digest(files)
    build(digest, config_env)
    deploy(name, parameters, digest, config_env, files)
    bootstrap_admin(name)
    start_outbox_listeners(name)
    return api_url(name)


OUTBOX_RELAY_SUFFIX = "InternalOutboxRelayFunction"


def start_outbox_listeners(stack: str, logical_ids: set[str] | None = None) -> list[str]:
    """Start each outbox relay (or those among ``logical_ids``) listening now: an asynchronous invoke
    with its schedule's input.

    Their schedule starts them too, but only a minute after a deploy or `make sync`; until then
    events would wait in the outboxes. A run already listening hands over to the new one.
    """
    started = []
    for logical_id, properties in serverless_functions(read_template()).items():
        if not logical_id.endswith(OUTBOX_RELAY_SUFFIX) or (logical_ids is not None and logical_id not in logical_ids):
            continue
        schedule = properties["Events"]["Schedule"]["Properties"]
        aws_client("lambda").invoke(
            FunctionName=function_name(stack, logical_id), InvocationType="Event", Payload=schedule["Input"].encode()
        )
        started.append(logical_id)
    return started


def local_parameters() -> dict[str, str]:
    """samconfig's local parameters, each domain's database replaced by <DOMAIN>_DB_URL when that is set."""
    parameters = dict(deploy_parameters("local"))
    for domain in DOMAINS:
        override = os.environ.get(f"{domain.upper()}_DB_URL")
        if override:
            parameters[PARAMETER_FOR_DOMAIN[domain]] = override
    return parameters


def warm_functions(stack: str, width: int | None) -> None:
    """Leave warm instances of every function that serves requests (loadtest/warmup.py)."""
    from loadtest import warmup

    if width == 0:
        return
    started = time.monotonic()
    widths = warmup.warm_stack(stack, width)
    log(f"warm instances: {sum(widths.values())} of {len(widths)} functions ({time.monotonic() - started:.1f}s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local EduPlatform stack")
    parser.add_argument("command", choices=["up", "down", "url", "databases"])
    parser.add_argument(
        "--warm",
        type=int,
        default=WARM_INSTANCES,
        help="warm instances per function after `up` (default: each function's own number)",
    )
    args = parser.parse_args(argv)
    # STACK=<name> and <DOMAIN>_DB_URL=...: a second local stack on other databases (as `make migrate` takes them).
    name = os.environ.get("STACK") or stack_name("local")
    if args.command == "up":
        started = time.monotonic()
        url = deploy_stack(name, local_parameters())
        warm_functions(name, args.warm)
        if start_metrics_bridge(name):
            log(
                f"metrics bridge started on http://127.0.0.1:{METRICS_PORT}/metrics (log: {METRICS_BRIDGE_LOG.relative_to(ROOT)})"
            )
        log(f"ready in {time.monotonic() - started:.1f}s")
        print(f"API base URL: {url}")
    elif args.command == "url":
        print(api_url(name))
    elif args.command == "databases":
        prepare_databases(local_database_urls())
    elif args.command == "down":
        stopped = [
            name
            for name, stop in (
                ("metrics bridge", stop_metrics_bridge),
                ("MiniStack", stop_emulator),
                ("PgBouncer", pooler.stop),
            )
            if stop()
        ]
        print(f"stopped: {', '.join(stopped)}" if stopped else "nothing started by `make up` is running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
