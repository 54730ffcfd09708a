"""The developer's loop without the emulator: what `make sync` pushes or refuses, the pinned API id,
the events `make invoke` builds, and `make logs`' arguments."""

import importlib.util
import json
import re

import pytest

from infra.config import ROOT, samconfig, stack_name
from infra.local import deploy, events, invoke, logs, sync
from infra.template.generate import read_template

# ---- make sync: what a change is -------------------------------------------------------------

DEPLOYED = {
    "template.yaml": "t1",
    "samconfig.toml": "s1",
    "layers/common/requirements.txt": "r1",
    "layers/common/eduplatform/http.py": "h1",
    "functions/course/course/routes.py": "routes1",
    "functions/course/course/service.py": "svc1",
    "functions/course/course/handlers/get_course.py": "gc1",
    "functions/course/course/internal/course_facts.py": "cf1",
    "functions/ops/ops/openapi.json": "doc1",
}


def test_nothing_changed_is_an_empty_plan():
    assert not sync.plan(DEPLOYED, dict(DEPLOYED))


def test_a_changed_handler_or_domain_module_goes_to_its_domain_folder():
    current = {
        **DEPLOYED,
        "functions/course/course/handlers/get_course.py": "gc2",
        "functions/course/course/service.py": "svc2",
        "functions/ops/ops/openapi.json": "doc2",
    }
    plan = sync.plan(DEPLOYED, current)
    assert plan.code == {
        "functions/course/": {"course/handlers/get_course.py": "gc2", "course/service.py": "svc2"},
        "functions/ops/": {"ops/openapi.json": "doc2"},
    }
    assert plan.layer == {}


def test_a_new_or_removed_helper_module_is_code_too():
    current = {**DEPLOYED, "functions/course/course/pricing.py": "p1"}
    del current["functions/course/course/service.py"]
    plan = sync.plan(DEPLOYED, current)
    assert plan.code == {"functions/course/": {"course/pricing.py": "p1", "course/service.py": None}}


def test_a_layer_module_goes_to_the_layer():
    plan = sync.plan(DEPLOYED, {**DEPLOYED, "layers/common/eduplatform/http.py": "h2"})
    assert plan.layer == {"http.py": "h2"} and plan.code == {}


@pytest.mark.parametrize(
    ("path", "content_hash"),
    [
        ("template.yaml", "t2"),
        ("samconfig.toml", "s2"),
        ("layers/common/requirements.txt", "r2"),
        ("functions/course/course/routes.py", "routes2"),
        ("functions/course/course/handlers/new_endpoint.py", "n1"),  # a new route
        ("functions/course/course/handlers/get_course.py", None),  # a route removed
        ("functions/course/course/internal/course_facts.py", None),  # a function removed
        ("functions/payment/payment/internal/refunds.py", "x1"),  # a new function
    ],
)
def test_a_change_the_template_carries_is_not_pushed(path, content_hash):
    current = dict(DEPLOYED)
    if content_hash is None:
        del current[path]
    else:
        current[path] = content_hash
    # Together with a change that could be pushed: nothing is pushed, and the message names the path.
    current["functions/course/course/service.py"] = "svc2"
    with pytest.raises(sync.NeedsDeploy, match=f"{path}.*make up"):
        sync.plan(DEPLOYED, current)


HANDLER = '''"""GET /courses/{course_id}"""
from eduplatform.http import create_app

app = create_app()


@app.get("/courses/<course_id>", summary="One course")
def get_course(course_id: str):
    return {"id": course_id}
'''


@pytest.mark.parametrize(
    ("edit", "template_level"),
    [
        (lambda source: source.replace('return {"id": course_id}', 'return {"id": course_id, "x": 1}'), False),
        (
            lambda source: source.replace('summary="One course"', 'summary="A course"'),
            False,
        ),  # the OpenAPI document only
        (lambda source: source.replace('@app.get("/courses/<course_id>"', '@app.get("/course/<course_id>"'), True),
        (lambda source: source.replace("@app.get(", "@app.put("), True),
        (lambda source: source + '\nFUNCTION_GROUP = "credentials"\n', True),
        (lambda source: source + '\nTEMPLATE_PROPERTIES = {"Timeout": 5}\n', True),
    ],
)
def test_an_edited_handler_is_pushed_unless_its_route_or_function_changed(edit, template_level):
    path = "functions/course/course/handlers/get_course.py"
    before, after = HANDLER.encode(), edit(HANDLER).encode()
    assert before != after
    deployed, current = {path: "before"}, {path: "after"}
    signatures = ({path: events.template_signature(path, before)}, {path: events.template_signature(path, after)})
    if template_level:
        with pytest.raises(sync.NeedsDeploy, match=r"get_course\.py"):
            sync.plan(deployed, current, *signatures)
    else:
        assert sync.plan(deployed, current, *signatures).code == {
            "functions/course/": {"course/handlers/get_course.py": "after"}
        }


def test_an_internal_function_description_is_template_level():
    path = "functions/course/course/internal/course_facts.py"
    assert events.template_signature(path, b'"""Facts."""\nX = 1\n') == events.template_signature(
        path, b'"""Facts."""\nX = 2\n'
    )
    assert events.template_signature(path, b'"""Facts."""\n') != events.template_signature(
        path, b'"""Other facts."""\n'
    )
    assert events.template_signature("functions/course/course/service.py", b"X = 1\n") is None


def test_a_module_that_does_not_parse_is_not_pushed():
    with pytest.raises(sync.NeedsDeploy, match=r"get_course\.py line 1"):
        sync.template_signatures({"functions/course/course/handlers/get_course.py": b"def broken(:\n"})
    files = {"functions/course/course/service.py": b"x = 1\n", "layers/common/eduplatform/http.py": b"\n\ndef f(:\n"}
    work = sync.plan({}, {}, {}, {})
    work.code = {"functions/course/": {"course/service.py": "h"}}
    sync.check_syntax(work, files)
    work.layer = {"http.py": "h"}
    with pytest.raises(sync.NeedsDeploy, match=r"eduplatform/http\.py line 3"):
        sync.check_syntax(work, files)


def test_a_patched_build_folder_has_hash_checked_bytecode_of_the_new_source(tmp_path):
    source, build = tmp_path / "src", tmp_path / "build"
    (source / "pkg").mkdir(parents=True)
    (build / "pkg").mkdir(parents=True)
    (source / "pkg" / "mod.py").write_text("ANSWER = 42\n")
    (build / "pkg" / "old.py").write_text("OLD = 1\n")
    sync.compile_into(build / "pkg" / "old.py")
    sync.patch_folder(build, source, {"pkg/mod.py": "h", "pkg/old.py": None})

    assert (build / "pkg" / "mod.py").read_text() == "ANSWER = 42\n"
    cached = build / "pkg" / "__pycache__" / f"mod.{importlib.util.cache_from_source('x.py').split('.')[-2]}.pyc"
    header = cached.read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b11  # PEP 552: hash-based, checked against the source
    assert header[8:16] == importlib.util.source_hash((build / "pkg" / "mod.py").read_bytes())
    assert not (build / "pkg" / "old.py").exists()
    assert not list((build / "pkg" / "__pycache__").glob("old.*"))


def test_sync_without_a_record_of_the_deploy_says_make_up(tmp_path, monkeypatch):
    monkeypatch.setattr(deploy, "STATE_DIR", tmp_path)
    syncer = sync.Syncer.__new__(sync.Syncer)
    syncer.stack, syncer.root = "never-deployed", ROOT
    with pytest.raises(sync.NeedsDeploy, match="make up"):
        syncer._deployed()


def test_a_record_of_a_deploy_from_before_the_functions_were_recorded_says_make_up(tmp_path, monkeypatch):
    monkeypatch.setattr(deploy, "STATE_DIR", tmp_path)
    deploy.sync_manifest("older").write_text(json.dumps({"files": {}, "templates": {}, "resources": {}}))
    syncer = sync.Syncer.__new__(sync.Syncer)
    syncer.stack, syncer.root = "older", ROOT
    with pytest.raises(sync.NeedsDeploy, match="make up"):
        syncer._deployed()


def test_the_deploy_records_each_functions_code_folder_and_every_route_of_the_api():
    """What `make sync` pushes to and warms without parsing the template: every operation of the
    OpenAPI document belongs to exactly one recorded function, CORS preflights to none."""
    functions = deploy.deployed_functions(read_template(ROOT / "template.yaml"))
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    operations = sorted(f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item)
    recorded = sorted(route for function in functions.values() for route in function["api_routes"])
    assert recorded == operations
    assert {function["code_uri"] for function in functions.values()} == {
        f"functions/{domain}/" for domain in ("course", "enrollment", "identity", "notification", "ops", "payment")
    }


# ---- a stable local URL: the API id pinned by the launcher, never by the template or AWS config -----


def test_the_local_deploy_pins_the_api_id_to_the_stack_name():
    command = deploy.deploy_command("eduplatform", {"StageName": "api"}, "local")
    assert command[:2] == ["deploy", "--config-env"]
    assert command[command.index("--tags") + 1] == "ms-custom-id=eduplatform"
    assert deploy.pinned_api_id(stack_name("local")) == stack_name("local")


def test_an_empty_parameter_reaches_sam_deploy_as_an_empty_value():
    from samcli.cli.types import CfnParameterOverridesType

    command = deploy.deploy_command("eduplatform", {"JwtSecret": "", "StageName": "api"}, "local")
    overrides = command[command.index("--parameter-overrides") + 1 : command.index("--tags")]
    assert CfnParameterOverridesType().convert(tuple(overrides), None, None) == {"JwtSecret": "", "StageName": "api"}


def test_the_pin_stays_out_of_the_template_and_the_aws_config():
    assert "ms-custom-id" not in (ROOT / "template.yaml").read_text()
    assert "ms-custom-id" not in (ROOT / "samconfig.toml").read_text()
    assert "tags" not in samconfig("default")["deploy"]["parameters"]


def test_the_api_definition_reads_the_same_in_short_and_long_form_and_changes_with_a_route():
    import yaml

    source = (ROOT / "template.yaml").read_text()
    template = deploy.read_long_form(source)
    assert template["Resources"]["Api"]["Properties"]["StageName"] == {"Ref": "StageName"}
    # What `sam deploy` uploads: the long form, SAM's Metadata on every resource.
    uploaded = yaml.safe_load(yaml.safe_dump(template))
    for resource in uploaded["Resources"].values():
        resource["Metadata"] = {"SamResourceId": "x"}
    assert deploy.api_definition_digest(uploaded) == deploy.api_definition_digest(template)
    uploaded["Resources"]["CourseApiFunction"]["Properties"]["Events"]["Extra"] = {
        "Type": "Api",
        "Properties": {"Path": "/extra", "Method": "get"},
    }
    assert deploy.api_definition_digest(uploaded) != deploy.api_definition_digest(template)


# ---- make invoke: the event and the function's environment --------------------------------------


def test_the_event_of_a_route_with_path_query_body_and_token():
    event = events.proxy_event(
        "PUT",
        "/courses/{course_id}",
        {"course_id": "c-1"},
        body={"title": "T"},
        query={"limit": 5},
        headers={"X-Trace": "1"},
        token="tok",
    )
    assert event["resource"] == "/courses/{course_id}"
    assert event["path"] == "/courses/c-1"
    assert event["httpMethod"] == "PUT"
    assert event["pathParameters"] == {"course_id": "c-1"}
    assert event["queryStringParameters"] == {"limit": "5"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"]}
    assert json.loads(event["body"]) == {"title": "T"}
    assert event["headers"]["Authorization"] == "Bearer tok"
    assert event["headers"]["X-Trace"] == "1"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert event["requestContext"]["resourcePath"] == "/courses/{course_id}"
    assert event["requestContext"]["requestId"]
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    forwarded = events.proxy_event("GET", "/courses", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
    assert forwarded["requestContext"]["identity"]["sourceIp"] == "203.0.113.7"


def test_an_event_without_parameters_or_body_has_none():
    event = events.proxy_event("GET", "/courses")
    assert event["pathParameters"] is None and event["queryStringParameters"] is None and event["body"] is None


@pytest.mark.parametrize(
    ("path_params", "message"),
    [
        ({}, "missing course_id"),
        ({"course_id": "1", "id": "2"}, "unknown id"),
    ],
)
def test_path_parameters_must_match_the_resource(path_params, message):
    with pytest.raises(events.BadRoute, match=message):
        events.proxy_event("GET", "/courses/{course_id}", path_params)


@pytest.mark.parametrize("route", ["GET", "FETCH /courses", "GET courses", "GET /a /b"])
def test_a_malformed_route_is_refused(route):
    with pytest.raises(events.BadRoute, match="expected '<METHOD> /path'"):
        events.parse_route(route)


def test_a_route_is_found_in_its_domain_routes_table():
    assert events.find_route("GET", "/courses/{course_id}") == ("course", "course.handlers.get_course")
    assert events.find_route("POST", "/login")[0] == "identity"
    with pytest.raises(events.BadRoute, match=r"(?s)GET /courses/\{id\}.*GET /courses/\{course_id\}"):
        events.find_route("GET", "/courses/{id}")


def test_the_function_environment_resolves_parameters_the_stack_name_and_flags_missing_resources(monkeypatch):
    monkeypatch.setattr(invoke, "_deployed_resources", lambda stack: {})
    template = invoke._template()
    parameters = {"CourseDatabaseUrl": "postgresql://course@db/course", "JwtSecret": "s" * 32}
    logical_id = invoke.function_for("GET", "/courses/{course_id}", template)
    environment, unresolved = invoke.function_environment(logical_id, template, parameters, "my-stack")
    assert logical_id == "CourseApiFunction"
    assert environment["DATABASE_URL"] == "postgresql://course@db/course"
    assert environment["JWT_SECRET"] == "s" * 32
    assert environment["BCRYPT_ROUNDS"] == "12"  # the template's default
    assert environment["CACHE_KEY_PREFIX"] == "my-stack:"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "course"
    enrollment_environment, unresolved = invoke.function_environment(
        invoke.function_for("POST", "/enrollments", template), template, parameters, "my-stack"
    )
    assert any(item.startswith("COURSE_FACTS_FUNCTION") for item in unresolved)
    assert "COURSE_FACTS_FUNCTION" not in enrollment_environment


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["GET /courses/{id}"], "no endpoint serves GET /courses/{id}"),
        (["GET /courses/{course_id}", "--path", "course_id"], "expected name=value"),
        (["GET /courses", "--header", "no colon"], "expected 'Name: value'"),
        (["POST /courses", "--body", "{not json"], "--body is not JSON"),
    ],
)
def test_invoke_refuses_bad_arguments_with_the_reason(argv, message, capsys):
    assert invoke.main(argv) == 2
    assert message in capsys.readouterr().err


# ---- make logs ------------------------------------------------------------------------------------


def test_logs_takes_a_domain_or_a_logical_id():
    ids = ["CourseApiFunction", "IdentityApiFunction", "IdentityCredentialsFunction"]
    assert logs.logical_id_for("course", ids) == "CourseApiFunction"
    assert logs.logical_id_for("IdentityCredentialsFunction", ids) == "IdentityCredentialsFunction"
    with pytest.raises(logs.BadArgument, match="course, identity"):
        logs.logical_id_for("billing", ids)


def test_logs_since():
    assert logs.since_millis("10m", now=1000.0) == 400_000
    assert logs.since_millis("2h", now=10_000.0) == 2_800_000
    with pytest.raises(logs.BadArgument):
        logs.since_millis("ten minutes")


def test_logs_leave_out_metric_records():
    assert logs.is_metric_record('{"_aws": {"Timestamp": 1}, "Requests": [1]}')
    assert not logs.is_metric_record('{"level": "INFO", "message": "request handled"}')
    assert not logs.is_metric_record("START RequestId: 1 Version: $LATEST")


# ---- GET /docs (the browser test is tests/e2e/test_swagger_ui.py) -----------------------------------


def test_the_swagger_ui_page_is_self_contained_and_carries_the_whole_document():
    from tests.support.lambda_events import call

    page = call("ops.handlers.docs")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text and ".swagger-ui{" in page.text  # Powertools' assets, inlined
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page.text)  # nothing from a CDN
    document = call("ops.handlers.docs", query={"format": "json"}).json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert document["paths"] == committed["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["servers"] == [{"url": ".", "description": "The API this page is served from"}]
    assert call("ops.handlers.docs", query={"format": "yaml"}).status == 422
