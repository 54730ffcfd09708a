"""Lambda SnapStart: the runtime hooks the layer registers, and the template's published versions.

The hooks are handed to a stand-in for the Lambda runtime's ``snapshot_restore_py`` (in
``sys.modules``), which captures what is registered; the tests then run what it captured, as
Lambda does before a snapshot and after each restore, against real PostgreSQL, Redis and an HTTP
server counting connections. The template's side is read from template.yaml and from what SAM's
translator makes of it.
"""

import copy
import http.server
import json
import random
import subprocess
import sys
import threading
import types

import boto3
import psycopg
import pytest
import redis
import yaml
from samtranslator.translator.transform import transform

from infra.config import ROOT
from infra.local import deploy, invoke
from infra.template.env_json import load_template
from infra.template.generate import serverless_functions

from eduplatform import aws_clients, cache, db, limits, settings, snapstart

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeRuntime(types.ModuleType):
    """What the tests need of ``snapshot_restore_py``: the registration functions, recording."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before_snapshot: list = []
        self.after_restore: list = []

    def register_before_snapshot(self, func, *args, **kwargs):
        self.before_snapshot.append((func, args, kwargs))
        return func

    def register_after_restore(self, func, *args, **kwargs):
        self.after_restore.append((func, args, kwargs))
        return func

    def snapshot(self) -> None:
        """As Lambda runs them: before-snapshot hooks in reverse order of registration."""
        for func, args, kwargs in reversed(self.before_snapshot):
            func(*args, **kwargs)

    def restore(self) -> None:
        """After-restore hooks in order of registration."""
        for func, args, kwargs in self.after_restore:
            func(*args, **kwargs)


@pytest.fixture
def runtime(monkeypatch) -> FakeRuntime:
    fake = FakeRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    assert snapstart.register_with_runtime()
    return fake


# ---- registration ---------------------------------------------------------------------------------


def test_the_layer_hands_one_hook_of_each_kind_to_the_runtime_when_it_has_snapshot_restore_py(runtime):
    assert [func for func, _, _ in runtime.before_snapshot] == [snapstart.run_before_snapshot]
    assert [func for func, _, _ in runtime.after_restore] == [snapstart.run_after_restore]


def test_without_snapshot_restore_py_nothing_is_registered(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import raises ImportError
    assert snapstart.register_with_runtime() is False


IMPORT_WITH_A_RUNTIME = """
import json, sys, types
registered = {"before": [], "after": []}
runtime = types.ModuleType("snapshot_restore_py")
runtime.register_before_snapshot = lambda func, *a, **k: registered["before"].append(func.__qualname__)
runtime.register_after_restore = lambda func, *a, **k: registered["after"].append(func.__qualname__)
if sys.argv[1] == "runtime":
    sys.modules["snapshot_restore_py"] = runtime
import eduplatform.db, eduplatform.cache, eduplatform.limits, eduplatform.aws_clients
from eduplatform import snapstart
print(json.dumps({
    **registered,
    "runs_after_restore": [f"{hook.__module__}.{hook.__qualname__}" for hook in snapstart._after_restore],
}))
"""


@pytest.mark.parametrize("environment", ["runtime", "none"])
def test_importing_the_layer_registers_the_hooks_once_and_only_on_the_lambda_runtime(environment):
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITH_A_RUNTIME, environment],
        cwd=ROOT / "layers" / "common",
        capture_output=True,
        text=True,
        check=True,
    )
    registered = json.loads(result.stdout)
    if environment == "runtime":
        assert registered["before"] == ["run_before_snapshot"] and registered["after"] == ["run_after_restore"]
    else:
        assert registered["before"] == [] and registered["after"] == []
    # What a restore runs: random first (eduplatform/__init__ imports snapstart), then each module's own.
    assert registered["runs_after_restore"] == [
        "eduplatform.snapstart.reseed_random",
        "eduplatform.db.close_connections",
        "eduplatform.cache.reset_cache",
        "eduplatform.limits.reset_limits",
        "eduplatform.aws_clients.close_connections",
    ]


# ---- database connections -------------------------------------------------------------------------


def backend_pid(database: db.Database) -> int:
    return database.statement("SELECT pg_backend_pid() AS pid")[0]["pid"]


def backend_alive(url: str, pid: int) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0] == 1


def wait_until_gone(url: str, pid: int) -> bool:
    for _ in range(50):
        if not backend_alive(url, pid):
            return True
        threading.Event().wait(0.1)
    return False


def test_a_restored_instance_opens_new_database_connections(runtime, domain_database):
    url = domain_database("identity")
    domain, other = db.database(), db.Database(url, name="health")
    before = {backend_pid(domain), backend_pid(other)}
    assert all(backend_alive(url, pid) for pid in before)

    runtime.restore()

    after = {backend_pid(domain), backend_pid(other)}
    assert len(after) == 2 and not after & before
    assert all(wait_until_gone(url, pid) for pid in before)


def test_the_snapshot_holds_no_database_connection(runtime, domain_database):
    url = domain_database("identity")
    database = db.database()
    pid = backend_pid(database)

    runtime.snapshot()

    assert wait_until_gone(url, pid)
    assert backend_pid(database) != pid  # the next use connects again


# ---- AWS clients ----------------------------------------------------------------------------------


class CountingServer(http.server.ThreadingHTTPServer):
    """Answers every request with an empty Lambda ListFunctions page; counts the TCP connections."""

    daemon_threads = True

    def __init__(self) -> None:
        self.connections = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection

            def do_GET(self) -> None:
                body = b'{"Functions": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def get_request(self):
        self.connections += 1
        return super().get_request()


@pytest.fixture
def counting_server():
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_restored_instance_keeps_its_aws_clients_but_opens_new_connections(runtime, counting_server):
    endpoint = f"http://127.0.0.1:{counting_server.server_address[1]}"
    held = aws_clients.InstanceClient(
        lambda: boto3.client(
            "lambda", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
    )
    client = held.get()
    client.list_functions()
    client.list_functions()
    assert counting_server.connections == 1  # one kept-alive connection

    runtime.restore()

    assert held.get() is client
    client.list_functions()
    assert counting_server.connections == 2


# ---- Redis ----------------------------------------------------------------------------------------


@pytest.fixture
def stores(monkeypatch):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis must answer on 127.0.0.1:6379 for these tests (`redis-server --daemonize yes`): {exc}")
    monkeypatch.setenv("CACHE_URL", REDIS_URL)
    settings.get_settings.cache_clear()
    cache.reset_cache()
    limits.reset_limits()
    yield
    cache.reset_cache()
    limits.reset_limits()
    settings.get_settings.cache_clear()


def test_a_restored_instance_opens_its_own_redis_connections(runtime, stores):
    before = (cache.cache()._client.client_id(), limits.limits()._client.client_id())

    runtime.restore()

    after = (cache.cache()._client.client_id(), limits.limits()._client.client_id())
    assert not set(after) & set(before)


# ---- randomness -----------------------------------------------------------------------------------


def test_instances_restored_from_one_snapshot_draw_different_random_numbers(runtime):
    saved = random.getstate()
    try:
        random.seed(7)
        snapshot = random.getstate()

        def restored_instance(hooks: bool) -> list[float]:
            random.setstate(snapshot)
            if hooks:
                runtime.restore()
            return [random.random() for _ in range(4)]

        # What the hook is for: without it, every instance restored from the snapshot draws alike.
        assert restored_instance(hooks=False) == restored_instance(hooks=False)
        assert restored_instance(hooks=True) != restored_instance(hooks=True)
    finally:
        random.setstate(saved)


# ---- the template ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def test_every_function_is_published_behind_its_alias_with_snapstart_off_on_emulators(template):
    function_globals = template["Globals"]["Function"]
    assert function_globals["AutoPublishAlias"] == "live"
    assert function_globals["AutoPublishAliasAllProperties"] is True
    assert function_globals["VersionDeletionPolicy"] == "Delete"
    assert function_globals["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    on, emulators_off = template["Conditions"]["SnapStartOn"]["Fn::And"]
    assert on == {"Fn::Equals": [{"Ref": "UseSnapStart"}, "true"]}
    assert list(emulators_off) == ["Fn::Not"] and "ServedByEmulator" in json.dumps(emulators_off)
    assert template["Resources"]["CommonLayer"]["Properties"]["PublishLambdaVersion"] is True
    functions = serverless_functions(template)
    assert len(functions) > 20
    for logical_id, properties in functions.items():
        assert properties["VersionDescription"] == {"Ref": "FunctionsRevision"}, logical_id


def test_internal_invokes_name_the_alias_of_the_function_they_call(template):
    functions = serverless_functions(template)
    named = 0
    for logical_id, properties in functions.items():
        for variable, value in properties.get("Environment", {}).get("Variables", {}).items():
            if variable.endswith("_FUNCTION"):
                assert value["Ref"].removesuffix(".Alias") in functions and value["Ref"].endswith(".Alias"), (
                    logical_id,
                    variable,
                )
                named += 1
    assert named


def translated(template: dict, parameters: dict[str, str], code_key: str = "code", layer_key: str = "layer") -> dict:
    """What SAM's translator makes of the template (the code and the layer as `sam deploy` uploads them)."""
    template = copy.deepcopy(template)
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if "CodeUri" in properties:
            properties["CodeUri"] = f"s3://bucket/{logical_id}-{code_key}.zip"
        if "ContentUri" in properties:
            properties["ContentUri"] = f"s3://bucket/{layer_key}.zip"
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    values.update(CursorSigningKey="k" * 32, **parameters)

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    return transform(template, values, NoManagedPolicies())["Resources"]


def version_of(resources: dict, logical_id: str) -> tuple[str, dict]:
    (version,) = [key for key in resources if key.startswith(f"{logical_id}Version")]
    return version, resources[version]


def test_a_deploy_publishes_a_version_for_new_code_a_new_layer_and_a_new_functions_revision(template, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    function = "CourseApiFunction"
    deployed = translated(template, {})
    version, resource = version_of(deployed, function)
    assert resource["DeletionPolicy"] == "Delete"
    assert deployed[f"{function}Aliaslive"]["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}
    # The API, the queues and the schedules call the alias.
    assert f"${{{function}Aliaslive}}" in json.dumps(deployed["Api"]["Properties"]["Body"])
    assert version_of(translated(template, {}), function)[0] == version  # nothing changed: no new version

    assert version_of(translated(template, {}, code_key="code-2"), function)[0] != version
    assert version_of(translated(template, {}, layer_key="layer-2"), function)[0] != version

    # SAM does not see a parameter's value: a deploy changing LogLevel alone would leave the alias
    # on the version before it. A new revision changes what CloudFormation publishes from (the
    # function's configuration) and replaces the version (its description).
    assert version_of(translated(template, {"LogLevel": "DEBUG"}), function)[0] == version
    revised = translated(template, {"FunctionsRevision": "2"})
    revised_version, revised_resource = version_of(revised, function)
    assert revised_version == version
    assert revised_resource["Properties"]["Description"] == {"Ref": "FunctionsRevision"}
    assert revised[function]["Properties"]["Environment"]["Variables"]["FUNCTIONS_REVISION"] == {
        "Ref": "FunctionsRevision"
    }


# ---- the launcher ---------------------------------------------------------------------------------


def test_a_new_alias_name_is_a_new_api_definition_for_the_launcher():
    template = deploy.read_long_form((ROOT / "template.yaml").read_text())
    renamed = yaml.safe_load(yaml.safe_dump(template))
    renamed["Globals"]["Function"]["AutoPublishAlias"] = "other"
    assert deploy.api_definition_digest(renamed) != deploy.api_definition_digest(template)


def test_make_invoke_resolves_an_internal_function_to_its_deployed_alias(monkeypatch):
    alias = "arn:aws:lambda:us-east-1:000000000000:function:course-facts:live"
    monkeypatch.setattr(
        invoke, "_deployed_resources", lambda stack: {"CourseInternalCourseFactsFunctionAliaslive": alias}
    )
    template = invoke._template()
    logical_id = invoke.function_for("POST", "/enrollments", template)
    environment, unresolved = invoke.function_environment(logical_id, template, {}, "my-stack")
    assert environment["COURSE_FACTS_FUNCTION"] == alias
    assert not any(item.startswith("COURSE_FACTS_FUNCTION") for item in unresolved)
