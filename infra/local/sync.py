"""`make sync` and `make watch`: push changed code to a running stack without `sam deploy`.

The launcher records, at every deploy, the content hash of each source file the stack was
deployed from (``.local/deployed-<stack>.sources.json``). ``sync`` compares the work tree with
that record and pushes the difference straight into the emulator's Lambda service:

- a file under ``functions/<domain>/`` reaches every function whose ``CodeUri`` is that folder:
  the file is copied into the function's folder of the SAM build, compiled to hash-checked
  bytecode like the rest of the build (infra/bytecode.py), and the folder goes up with
  ``UpdateFunctionCode``;
- a file of the layer's package (``layers/common/eduplatform/``) is copied into the build's
  layer folder, which is published as a new layer version; every function of the stack that
  used the old one is pointed at it (``UpdateFunctionConfiguration``).

Both calls make the emulator retire the functions' warm instances; ``sync`` then starts one new
instance of each updated API function (a request the layer refuses before the endpoint's code
runs), so the next request meets the new code warm, and starts each updated outbox relay
listening (as `make up` does).

A change that the template has to carry is not pushed: ``sync`` says that `make up` is needed.
That is a change to template.yaml, samconfig.toml, the layer's requirements or a routes table, a
new or removed endpoint or internal module, or, read from the source with ``ast`` before any push
(events.template_signature), a changed route, FUNCTION_GROUP, TEMPLATE_PROPERTIES or internal
function description. `make watch` also checks, after each push, that the generated files
(template.yaml, the routes tables, the OpenAPI document) still match the handlers; `make lint`
and the tests do too. After a push the build and deploy markers name the new sources, so
`make up` finds the stack up to date.

    python -m infra.local.sync [--stack NAME]          # once
    python -m infra.local.sync --watch [--stack NAME]  # on every save (watchfiles)
"""

import argparse
import hashlib
import io
import json
import os
import py_compile
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.util import cache_from_source
from pathlib import Path

from infra import web
from infra.config import EMULATOR_URL, ROOT, stack_name
from infra.local import build, deploy, events, relays
from infra.local.aws import aws_client
from infra.local.processes import STATE_DIR

LAYER_PACKAGE = "layers/common/eduplatform/"
LAYER_LOGICAL_ID = "CommonLayer"
FUNCTION_CODE = "functions/"


class NeedsDeploy(Exception):
    """The change cannot be pushed: the template carries it (`make up`)."""


class GeneratedFilesStale(NeedsDeploy):
    """The code was pushed, but the handlers' routes or models differ from the generated files."""


@dataclass
class Plan:
    """What a sync pushes: changed/removed paths per function code folder, and the layer's."""

    code: dict[str, dict[str, str | None]] = field(default_factory=dict)  # "functions/identity/" -> {rel: sha or None}
    layer: dict[str, str | None] = field(default_factory=dict)  # path inside eduplatform/ -> sha or None

    def __bool__(self) -> bool:
        return bool(self.code or self.layer)


def file_hashes(files: dict[str, bytes]) -> dict[str, str]:
    return {path: hashlib.sha256(content).hexdigest() for path, content in files.items()}


def plan(
    deployed: dict[str, str],
    current: dict[str, str],
    deployed_templates: dict[str, str] | None = None,
    current_templates: dict[str, str] | None = None,
) -> Plan:
    """Sort the difference between the deployed sources and the work tree; NeedsDeploy when the template is concerned.

    ``*_templates``: each handler and internal module's template signature (events.template_signature),
    deployed and now; a module whose route or function declaration changed goes through `make up`.
    """
    changed = sorted(path for path in deployed.keys() | current.keys() if deployed.get(path) != current.get(path))
    deployed_templates, current_templates = deployed_templates or {}, current_templates or {}
    result = Plan()
    template_level = []
    for path in changed:
        parts = path.split("/")
        if path.startswith(LAYER_PACKAGE):
            result.layer[path[len(LAYER_PACKAGE) :]] = current.get(path)
        elif path.startswith(FUNCTION_CODE) and len(parts) >= 3:
            domain = parts[1]
            added_or_removed = path not in deployed or path not in current
            if path == f"functions/{domain}/{domain}/routes.py" or (
                events.is_template_module(path)
                and (added_or_removed or deployed_templates.get(path) != current_templates.get(path))
            ):
                template_level.append(path)
            else:
                folder = f"functions/{domain}/"
                result.code.setdefault(folder, {})[path[len(folder) :]] = current.get(path)
        else:
            template_level.append(path)
    if template_level:
        raise NeedsDeploy(
            f"{', '.join(template_level)} changed what the template carries (a file of it, a route, "
            "a function): run `make template` if the routes changed, then `make up`"
        )
    return result


def template_signatures(files: dict[str, bytes]) -> dict[str, str]:
    try:
        return {
            path: signature
            for path, content in files.items()
            if (signature := events.template_signature(path, content)) is not None
        }
    except events.SourceError as exc:
        raise NeedsDeploy(f"{exc}: fix it, then sync again") from None


def check_syntax(work: Plan, files: dict[str, bytes]) -> None:
    """NeedsDeploy naming the first changed module that does not compile: nothing is pushed then."""
    changed = [f"{folder}{path}" for folder, changes in work.code.items() for path, digest in changes.items() if digest]
    changed += [f"{LAYER_PACKAGE}{path}" for path, digest in work.layer.items() if digest]
    for path in changed:
        if path.endswith(".py"):
            try:
                compile(files[path], path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                raise NeedsDeploy(f"{path} line {exc.lineno}: {exc.msg}: fix it, then sync again") from None


def stale_generated_files() -> list[str]:
    """The generated files (template.yaml, routes tables, OpenAPI document) the work tree's handlers no longer match."""
    # One process for both: they import the same handlers.
    code = (
        "import sys\nfrom infra import openapi\nfrom infra.template import generate\n"
        "sys.exit(max(generate.main(['--check']), openapi.main(['--check'])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if result.returncode != 0:
        return [line for line in result.stderr.strip().splitlines() if line] or ["run `make template`"]
    return []


def compile_into(target: Path) -> None:
    """Hash-checked bytecode next to a copied module, as infra/bytecode.py compiles the whole build."""
    py_compile.compile(
        str(target),
        cfile=cache_from_source(str(target)),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )


def patch_folder(folder: Path, source_root: Path, changes: dict[str, str | None]) -> None:
    """Bring one build folder up to date with the changed source files."""
    for relative, content_hash in changes.items():
        target = folder / relative
        if content_hash is None:
            target.unlink(missing_ok=True)
            if target.suffix == ".py":
                Path(cache_from_source(str(target))).unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_root / relative, target)
        if target.suffix == ".py":
            compile_into(target)


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return buffer.getvalue()


class Syncer:
    """Pushes a work tree's changes into one deployed stack of the running emulator."""

    def __init__(self, stack: str, root: Path = ROOT, check_generated: bool = True) -> None:
        self.stack = stack
        self.root = root
        self.check_generated = check_generated and root == ROOT
        self._lambda = aws_client("lambda")
        self._api_routes: dict[str, list[str]] = {}

    def _deployed(self) -> dict:
        recorded = deploy.recorded_deploy(self.stack)
        if recorded is None or not (build.BUILD_DIR / "template.yaml").exists():
            raise NeedsDeploy(f"no record of what stack {self.stack} was deployed from: run `make up` first")
        return recorded

    def _functions(self, deployed: dict) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        """Logical id -> (physical name, source CodeUri) of every function of the stack; logical -> physical id of all."""
        physical = dict(deployed["resources"])
        # SAM names a layer version's logical id after its content (CommonLayer<hash>).
        layers = [
            arn for logical_id, arn in physical.items() if logical_id.startswith(LAYER_LOGICAL_ID) and ":layer:" in arn
        ]
        if layers:
            physical[LAYER_LOGICAL_ID] = layers[-1]
        # Recorded by the deploy (the template changes only with one): parsing it here took 0.25 s.
        functions = {
            logical_id: function for logical_id, function in deployed["functions"].items() if logical_id in physical
        }
        self._api_routes = {physical[logical_id]: function["api_routes"] for logical_id, function in functions.items()}
        return {
            logical_id: (physical[logical_id], function["code_uri"]) for logical_id, function in functions.items()
        }, physical

    def run(self) -> list[str]:
        """Push what changed; the names of the functions updated (empty when nothing changed)."""
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}
        deployed = self._deployed()
        files = build.source_files(self.root)
        current = file_hashes(files)
        work = plan(deployed["files"], current, deployed["templates"], template_signatures(files))
        check_syntax(work, files)
        updated: list[str] = []
        if work:
            functions, physical = self._functions(deployed)
            # Until the push has finished, neither the build folder nor the stack is what a marker says:
            # a push that fails half-way leaves `make up` to build and deploy again.
            (STATE_DIR / "build.sha256").unlink(missing_ok=True)
            deploy.deploy_marker(self.stack).unlink(missing_ok=True)
            from botocore.exceptions import ClientError, EndpointConnectionError

            try:
                updated = self._push(work, functions, physical)
            except EndpointConnectionError as exc:
                raise NeedsDeploy(f"no emulator answers on {EMULATOR_URL}: run `make up`") from exc
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                raise NeedsDeploy(
                    f"stack {self.stack} is not deployed on {EMULATOR_URL} ({exc}): run `make up`"
                ) from exc
            deploy.record_deployed_sources(
                self.stack, files, deployed["parameters"], deployed["resources"], deployed["functions"]
            )
            digest = build.sources_digest(files)
            (STATE_DIR / "build.sha256").write_text(digest)
            deploy.deploy_marker(self.stack).write_text(deploy.deployment_key(digest, deployed["parameters"]))
        if work:
            steps = ", ".join(f"{step} at {seconds:.2f}s" for step, seconds in self.timings.items())
            print(
                f"[sync] live: {len(updated)} function(s) updated ({steps}): {', '.join(sorted(updated))}", flush=True
            )
        else:
            print(f"[sync] stack {self.stack} already runs the work tree's code", flush=True)
        return updated

    def check_generated_files(self) -> None:
        """GeneratedFilesStale when the handlers' routes or models no longer match the generated files.

        The generators import every handler (~1 s of CPU): `make watch` runs this after a push, where
        nobody waits for it; `make sync` leaves it to `make lint` and the tests (routes and function
        declarations are caught before any push, by their template signatures).
        """
        stale = stale_generated_files() if self.check_generated else []
        if stale:
            raise GeneratedFilesStale("; ".join(stale))

    def _push(self, work: Plan, functions: dict[str, tuple[str, str]], physical: dict[str, str]) -> list[str]:
        calls = []
        for folder, changes in work.code.items():
            for logical_id, (name, code_uri) in functions.items():
                if code_uri.rstrip("/") + "/" == folder:
                    patch_folder(build.BUILD_DIR / logical_id, self.root / folder, changes)
                    calls.append((name, logical_id))
        # Each folder is patched once per function that has it (each has its own copy in the build).
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(
                pool.map(
                    lambda call: self._lambda.update_function_code(
                        FunctionName=call[0], ZipFile=zipped(build.BUILD_DIR / call[1])
                    ),
                    calls,
                )
            )
        updated = {name for name, _ in calls}
        if work.layer:
            updated |= self._push_layer(work.layer, functions, physical)
        self.timings["pushed"] = time.monotonic() - self.started
        changed_modules = {
            f"{folder[len(FUNCTION_CODE) :]}{path}"[:-3].replace("/", ".").split(".", 1)[1]
            for folder, changes in work.code.items()
            for path in changes
            if path.endswith(".py")
        }
        self._start_instances(
            {
                name: self._api_routes[name]
                for name, _ in functions.values()
                if name in updated and self._api_routes.get(name)
            },
            changed_modules,
        )
        relays.publish_pending_events(
            self.stack, {logical_id for logical_id, (name, _) in functions.items() if name in updated}
        )
        self.timings["instances started"] = time.monotonic() - self.started
        return sorted(updated)

    def _start_instances(self, routes: dict[str, list[str]], changed_modules: set[str]) -> None:
        """Start a new instance of each updated API function, so the next request meets the new code warm.

        Each gets one request for a route whose module changed (else its first route), with a body
        declared as text: the function imports that endpoint's module and answers 415 before any
        of the endpoint's own code runs, touching no data.
        """
        tables = {
            route: module for table in events.routes_tables(self.root).values() for route, module in table.items()
        }

        def start(name: str) -> None:
            served = routes[name]
            route = next((r for r in served if tables.get(r) in changed_modules), served[0])
            method, resource = events.parse_route(route)
            parameters = dict.fromkeys(events.PATH_PARAMETER.findall(resource), "warm-up")
            event = events.proxy_event(
                method, resource, parameters, headers={"Content-Type": "text/plain"}, body="warm-up"
            )
            self._lambda.invoke(FunctionName=name, Payload=json.dumps(event).encode())

        with ThreadPoolExecutor(max_workers=max(1, len(routes))) as pool:
            list(pool.map(start, routes))

    def _push_layer(
        self, changes: dict[str, str | None], functions: dict[str, tuple[str, str]], physical: dict[str, str]
    ) -> set[str]:
        layer_folder = build.BUILD_DIR / LAYER_LOGICAL_ID
        patch_folder(layer_folder / "python" / "eduplatform", self.root / LAYER_PACKAGE, changes)
        deployed_arn = physical[LAYER_LOGICAL_ID]
        layer_name = deployed_arn.split(":")[6]
        published = self._lambda.publish_layer_version(
            LayerName=layer_name,
            Content={"ZipFile": zipped(layer_folder)},
            CompatibleRuntimes=["python3.12"],
            Description="make sync of the work tree's layer",
        )
        new_arn = published["LayerVersionArn"]
        layer_base = deployed_arn.rsplit(":", 1)[0]

        replaced: set[str] = set()

        def repoint(name: str) -> str | None:
            layers = [
                layer["Arn"] for layer in self._lambda.get_function_configuration(FunctionName=name).get("Layers", [])
            ]
            if not any(arn.rsplit(":", 1)[0] == layer_base for arn in layers):
                return None
            replaced.update(arn for arn in layers if arn.rsplit(":", 1)[0] == layer_base)
            self._lambda.update_function_configuration(
                FunctionName=name, Layers=[new_arn if arn.rsplit(":", 1)[0] == layer_base else arn for arn in layers]
            )
            return name

        with ThreadPoolExecutor(max_workers=4) as pool:
            updated = {name for name in pool.map(repoint, [name for name, _ in functions.values()]) if name}
        # The versions earlier syncs published and nothing uses any more (the emulator keeps each in
        # memory); the one the stack deployed stays, CloudFormation owns it.
        for arn in replaced - {deployed_arn, new_arn}:
            self._lambda.delete_layer_version(LayerName=layer_name, VersionNumber=int(arn.rsplit(":", 1)[1]))
        return updated


def sync_once(syncer: Syncer, check_generated: bool = False) -> int:
    try:
        if not web.build_is_current():
            print(f"[sync] web app: {deploy.publish_web_app(syncer.stack)}", file=sys.stderr, flush=True)
        updated = syncer.run()
        if check_generated and updated:
            syncer.check_generated_files()
    except GeneratedFilesStale as exc:
        print(f"[sync] code pushed; the generated files lag behind the handlers: {exc}", file=sys.stderr, flush=True)
        return 2
    except NeedsDeploy as exc:
        print(f"[sync] nothing pushed: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


def watch(syncer: Syncer) -> int:
    from watchfiles import watch as watch_files

    def relevant(change, path: str) -> bool:
        return "__pycache__" not in path and not path.endswith((".pyc", "~", ".swp"))

    paths = [ROOT / source for source in build.SOURCES]
    print(f"[sync] watching {', '.join(build.SOURCES)} for stack {syncer.stack} (Ctrl-C stops)", flush=True)
    sync_once(syncer, check_generated=True)
    for _ in watch_files(*paths, watch_filter=relevant, debounce=200, step=50):
        sync_once(syncer, check_generated=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    # botocore imports the AWS CRT bindings when installed (SAM CLI installs them), ~0.08 s of
    # every `make sync`; nothing this process asks the local emulator needs them.
    os.environ.setdefault("BOTO_DISABLE_CRT", "true")
    parser = argparse.ArgumentParser(description="Push the work tree's changed code to the running stack")
    parser.add_argument("--stack", default=os.environ.get("STACK") or stack_name("local"))
    parser.add_argument("--watch", action="store_true", help="sync again on every save")
    args = parser.parse_args(argv)
    syncer = Syncer(args.stack)
    try:
        return watch(syncer) if args.watch else sync_once(syncer)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
