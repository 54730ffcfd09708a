"""`sam deploy` into the emulator, skipped when the stack there was deployed from the same build and
parameters; what `make sync` later compares with; the REST API's id pinned to the stack's name."""

import hashlib
import json
import os
import time
from pathlib import Path

import yaml

from infra import web
from infra.config import DOMAINS, EMULATOR_URL, PARAMETER_FOR_DOMAIN, ROOT, deploy_parameters
from infra.local.aws import aws_client, function_name, stack_outputs, stack_resources
from infra.local.build import BUILD_DIR, build, run_sam, source_files, sources_digest
from infra.local.events import SourceError, template_signature
from infra.local.processes import STATE_DIR, log
from infra.local.relays import publish_pending_events
from infra.openapi import ship_copy
from infra.template.generate import api_routes, read_template, serverless_functions


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


# The emulator's REST API id is pinned to the stack's name (MiniStack's `ms-custom-id` tag), so
# the local URL survives `make down`/`make up` and emulator restarts. A stack-level tag given
# only by this launcher: MiniStack copies stack tags onto the RestApi it creates, and
# template.yaml and the AWS config (samconfig's default) never carry it.
API_ID_TAG = "ms-custom-id"


def pinned_api_id(name: str) -> str:
    return name


def deploy_command(name: str, parameters: dict[str, str], config_env: str = "local") -> list[str]:
    """The `sam deploy` arguments of an emulator deploy (always an emulator: this is the local launcher)."""
    # SAM reads an empty value only quoted (`Key=""`); bare, `Key=` is refused as malformed.
    overrides = [f"{key}={value}" if value else f'{key}=""' for key, value in parameters.items()]
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
    """The API's routes as a template declares them (the REST API's definition is built from them, and
    from the functions' alias), in long form.

    The same for the work tree's template and the one `sam deploy` uploaded (long form, with
    SAM's Metadata added), when the routes are the same.
    """
    api = {logical_id: properties.get("Events") for logical_id, properties in serverless_functions(template).items()}
    api["Api"] = template["Resources"]["Api"]["Properties"]
    # The integrations call each function's alias (its name is in the URIs).
    api["AutoPublishAlias"] = template.get("Globals", {}).get("Function", {}).get("AutoPublishAlias")
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
    if "WebBucketName" in outputs:
        web.empty_bucket(aws_client("s3"), outputs["WebBucketName"])
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
    point_aliases_at_latest(name)
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


def point_aliases_at_latest(stack: str) -> None:
    """Point every function's alias (``live``, which the API, the queues, the schedules and the
    internal invokes call) at $LATEST, as the launcher left it after the last deploy.

    On AWS the alias follows the versions a deploy publishes. Here `make sync` updates $LATEST's code
    without a deploy, and the warm-up provisions and starts $LATEST's instances: an alias left on the
    deploy's version would serve neither. The template turns SnapStart off on emulators for the same
    reason (its SnapStartOn condition)."""
    client = aws_client("lambda")
    resources = aws_client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    for resource in resources:
        if resource["ResourceType"] == "AWS::Lambda::Alias":
            function, _, alias = resource["PhysicalResourceId"].rpartition(":")
            client.update_alias(FunctionName=function, Name=alias, FunctionVersion="$LATEST")


def bootstrap_admin(stack: str) -> dict:
    response = aws_client("lambda").invoke(FunctionName=function_name(stack, "IdentityBootstrapAdminFunction"))
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise SystemExit(f"admin bootstrap failed: {payload}")
    return payload


def api_url(stack: str, emulator_url: str = EMULATOR_URL) -> str:
    """The stack's API base URL, on the emulator as this process reaches it unless another address is given."""
    outputs = stack_outputs(stack)
    if outputs is None:
        raise SystemExit(f"stack {stack} is not deployed on {EMULATOR_URL}: run `make up`")
    return f"{emulator_url}/_aws/execute-api/{outputs['ApiId']}/{outputs['Stage']}"


def web_app_url(stack: str) -> str:
    outputs = stack_outputs(stack)
    if outputs is None or "WebAppUrl" not in outputs:
        raise SystemExit(f"stack {stack} is not deployed on {EMULATOR_URL}: run `make up`")
    return outputs["WebAppUrl"]


def publish_web_app(stack: str, browser_emulator_url: str = EMULATOR_URL) -> str:
    """The web app built if its sources changed and uploaded to the stack's bucket: its address.
    The app calls the API at the emulator's address as a browser reaches it."""
    outputs = stack_outputs(stack)
    if outputs is None:
        raise SystemExit(f"stack {stack} is not deployed on {EMULATOR_URL}: run `make up`")
    return web.publish(outputs, api_url(stack, browser_emulator_url), aws_client)


def publish(
    name: str, parameters: dict[str, str], config_env: str = "local", browser_emulator_url: str = EMULATOR_URL
) -> str:
    """Build and deploy the app into the running emulator, make sure the admin exists and upload
    the web app: the API URL."""
    ship_copy()  # GET /openapi.json's document, not committed: into the ops function before the build
    files = source_files()
    digest = sources_digest(files)
    build(digest, config_env)
    deploy(name, parameters, digest, config_env, files)
    bootstrap_admin(name)
    publish_pending_events(name)
    publish_web_app(name, browser_emulator_url)
    return api_url(name)


def local_parameters() -> dict[str, str]:
    """samconfig's local parameters, each domain's database replaced by <DOMAIN>_DB_URL when that is set."""
    parameters = dict(deploy_parameters("local"))
    for domain in DOMAINS:
        override = os.environ.get(f"{domain.upper()}_DB_URL")
        if override:
            parameters[PARAMETER_FOR_DOMAIN[domain]] = override
    return parameters
