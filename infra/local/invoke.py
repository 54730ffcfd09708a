"""`make invoke`: run one route's handler in this process, as its Lambda function would, and print the response.

No emulator and no deploy: the route's domain entry point (``<domain>.routes.handler``) gets an
API Gateway proxy event built here, with the function's environment resolved from template.yaml
and samconfig's ``local`` parameters, so it reads and writes the dev databases of `make up`
(``<DOMAIN>_DB_URL`` overrides one, as for `make migrate`). A `breakpoint()` in a handler stops
here; an IDE debugs ``python -m infra.local.invoke ...`` like any script. Calls the code makes to
other functions or AWS services (facts, events, idempotency table) go to the emulator's running
stack when there is one.

    python -m infra.local.invoke 'GET /courses/{course_id}' --path course_id=<uuid>
    python -m infra.local.invoke 'POST /courses' --as teacher --body '{"title": "..."}'
    python -m infra.local.invoke 'GET /me' --token <access token>
"""

import argparse
import json
import os
import sys
import uuid
from typing import Any

from infra.config import DOMAINS, EMULATOR_URL, ROOT, stack_name
from infra.local import events
from infra.local.aws import stack_resources
from infra.local.deploy import local_parameters
from infra.template.generate import FUNCTIONS_DIR, LAYER_DIR, OPS_DOMAIN, serverless_functions

ROLES = ("student", "teacher", "admin")


class _Reference:
    """A `!Ref`/`!Sub` value of the template, kept to be resolved."""

    def __init__(self, kind: str, value: Any) -> None:
        self.kind, self.value = kind, value


def _template() -> dict:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor(
        "!",
        lambda loader, tag, node: (
            _Reference(tag, loader.construct_scalar(node)) if isinstance(node, yaml.ScalarNode) else None
        ),
    )
    with open(ROOT / "template.yaml") as handle:
        return yaml.load(handle, Loader=Loader)


def function_for(method: str, resource: str, template: dict) -> str:
    """The logical id of the function whose API event is this route."""
    for logical_id, properties in serverless_functions(template).items():
        for event in (properties.get("Events") or {}).values():
            if (
                event["Type"] == "Api"
                and event["Properties"]["Method"].upper() == method
                and event["Properties"]["Path"] == resource
            ):
                return logical_id
    raise events.BadRoute(f"template.yaml has no function for {method} {resource}: run `make template`")


def _deployed_resources(stack: str) -> dict[str, str]:
    """Logical -> physical id of the running local stack's resources; empty when the emulator or stack is not there."""
    try:
        return stack_resources(stack)
    except Exception:  # no emulator, no stack: the in-process call still runs, only its calls out fail
        return {}


def function_environment(
    logical_id: str, template: dict, parameters: dict[str, str], stack: str
) -> tuple[dict[str, str], list[str]]:
    """The function's environment variables with the template's references resolved; and the ones left unset."""
    declared = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **(template["Resources"][logical_id]["Properties"].get("Environment") or {}).get("Variables", {}),
    }
    defaults = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    resources: dict[str, str] | None = None
    environment, unresolved = {}, []
    for name, value in declared.items():
        if isinstance(value, dict) and len(value) == 1:  # the generated part writes the long form
            ((kind, target),) = value.items()
            value = _Reference(kind.removeprefix("Fn::"), target)
        if isinstance(value, _Reference) and value.kind == "Ref" and value.value in defaults:
            environment[name] = parameters.get(value.value, defaults[value.value])
        elif isinstance(value, _Reference) and value.kind == "Ref":
            resources = _deployed_resources(stack) if resources is None else resources
            target = value.value
            if target.endswith(".Alias"):  # SAM's name of the function's alias, resource <Function>Alias<name>
                target = f"{target.removesuffix('.Alias')}Alias{template['Globals']['Function']['AutoPublishAlias']}"
            if target in resources:
                environment[name] = resources[target]
            else:
                unresolved.append(f"{name} (the stack's {value.value}: not deployed on {EMULATOR_URL})")
        elif isinstance(value, _Reference) and value.kind == "Sub" and isinstance(value.value, str):
            environment[name] = value.value.replace("${AWS::StackName}", stack)
        elif isinstance(value, _Reference):
            unresolved.append(f"{name} (!{value.kind} is not resolved by make invoke)")
        else:
            environment[name] = str(value)
    return environment, unresolved


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, separator, item = value.partition("=")
        if not separator or not key:
            raise events.BadRoute(f"{what} {value!r}: expected name=value")
        pairs[key] = item
    return pairs


def _headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, separator, item = value.partition(":")
        if not separator or not name.strip():
            raise events.BadRoute(f"header {value!r}: expected 'Name: value'")
        headers[name.strip()] = item.strip()
    return headers


class InvokeContext:
    """What the handlers read of the Lambda context."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def prepare(
    route: str,
    path_params: dict[str, str],
    query: dict[str, str],
    headers: dict[str, str],
    body: str | None,
    token: str | None,
    role: str | None,
) -> tuple[str, dict, str, list[str]]:
    """(domain, event, logical id, unresolved variables); the process environment set up for the function."""
    method, resource = events.parse_route(route)
    domain, _module = events.find_route(method, resource)
    if body is not None:
        try:
            json.loads(body)
        except ValueError:
            if not any(name.lower() == "content-type" for name in headers):
                raise events.BadRoute(
                    "--body is not JSON; give its Content-Type with --header to send it anyway"
                ) from None
    template = _template()
    logical_id = function_for(method, resource, template)
    environment, unresolved = function_environment(
        logical_id, template, local_parameters(), os.environ.get("STACK") or stack_name("local")
    )
    os.environ.update(environment)
    os.environ.setdefault("AWS_ENDPOINT_URL", EMULATOR_URL)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    for folder in (LAYER_DIR, *(FUNCTIONS_DIR / d for d in (OPS_DOMAIN, *DOMAINS))):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    if role is not None:
        from eduplatform.principal import Role
        from eduplatform.security import issue_token

        token = issue_token(uuid.uuid4(), Role(role), True)
    event = events.proxy_event(
        method, resource, path_params, body=body, query=query, headers=headers, token=token, stage="local"
    )
    return domain, event, logical_id, unresolved


def invoke(domain: str, event: dict, logical_id: str) -> dict:
    import importlib

    entry_point = importlib.import_module(f"{domain}.routes")
    return entry_point.handler(event, InvokeContext(logical_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[-3:]),
    )
    parser.add_argument("route", help="'METHOD /resource', as declared: 'GET /courses/{course_id}'")
    parser.add_argument("--path", action="append", default=[], metavar="NAME=VALUE", help="a path parameter")
    parser.add_argument("--query", action="append", default=[], metavar="NAME=VALUE", help="a query string parameter")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    parser.add_argument("--body", help="the request body (JSON)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--token", help="an access token (Authorization: Bearer ...)")
    auth.add_argument("--as", dest="role", choices=ROLES, help="a token for a new verified user of this role")
    parser.add_argument("--event", action="store_true", help="print the event too")
    args = parser.parse_args(argv)
    try:
        domain, event, logical_id, unresolved = prepare(
            args.route,
            _pairs(args.path, "path parameter"),
            _pairs(args.query, "query parameter"),
            _headers(args.header),
            args.body,
            args.token,
            args.role,
        )
    except events.BadRoute as exc:
        print(f"invoke: {exc}", file=sys.stderr)
        return 2
    for variable in unresolved:
        print(f"invoke: {variable} is unset: calls that need it fail", file=sys.stderr)
    if args.event:
        print(json.dumps(event, indent=2))
    response = invoke(domain, event, logical_id)
    print("---- response " + "-" * 50)
    print(f"HTTP {response['statusCode']}  ({logical_id}, in-process)")
    for name, value in (response.get("headers") or {}).items():
        print(f"{name}: {value}")
    for name, values in (response.get("multiValueHeaders") or {}).items():
        print(f"{name}: {', '.join(values)}")
    body = response.get("body") or ""
    try:
        print(json.dumps(json.loads(body), indent=2))
    except ValueError:
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
