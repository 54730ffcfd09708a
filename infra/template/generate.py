"""Generate template.yaml: the hand-written base plus one function per HTTP endpoint.

The route table has one source, the handlers: every module
``functions/<domain>/<domain>/handlers/<name>.py`` declares its single route with a
Powertools decorator. This script imports each module, reads the route from the
resolver's OpenAPI schema and writes the matching ``AWS::Serverless::Function`` with
its API event, plus the preflight function with an OPTIONS event for every path.

Modules ``functions/<domain>/<domain>/internal/<name>.py`` become functions with no API
event: other domains invoke them with the Lambda API (logical id
``<Domain>Internal<Name>Function``).

A module may define ``TEMPLATE_PROPERTIES`` (a dict in CloudFormation long form, e.g.
``{"Environment": {"Variables": {"X": {"Ref": "Y"}}}, "Policies": [...]}``), merged into
its function's Properties: extra environment variables and policies are added, other keys set.

    python -m infra.template.generate           # rewrite template.yaml
    python -m infra.template.generate --check   # exit 1 when template.yaml is stale
"""

import copy
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.config import DOMAINS, PARAMETER_FOR_DOMAIN, ROOT
from infra import generated_files

FUNCTIONS_DIR = ROOT / "functions"
LAYER_DIR = ROOT / "layers" / "common"
BASE_TEMPLATE = Path(__file__).resolve().parent / "base.yaml"
TEMPLATE = ROOT / "template.yaml"
# Functions outside the five domains: the health check sees every domain database.
OPS_DOMAIN = "ops"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Every HTTP endpoint may issue or verify access tokens: on AWS it reads the JWT secret from SSM.
JWT_SECRET_POLICY = {
    "Statement": [{
        "Effect": "Allow",
        "Action": "ssm:GetParameter",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtSecretParameterName}"},
    }],
}


@dataclass(frozen=True)
class Endpoint:
    domain: str
    module: str  # e.g. identity.handlers.register
    method: str  # lower case
    path: str  # OpenAPI form, /courses/{course_id}
    extra_properties: dict

    @property
    def logical_id(self) -> str:
        return logical_id(self.domain, self.module)


@dataclass(frozen=True)
class InternalFunction:
    domain: str
    module: str  # e.g. course.internal.course_facts
    description: str
    extra_properties: dict

    @property
    def logical_id(self) -> str:
        return logical_id(self.domain, self.module, "Internal")


def logical_id(domain: str, module: str, infix: str = "") -> str:
    name = "".join(part.capitalize() for part in module.rsplit(".", 1)[-1].split("_"))
    return f"{domain.capitalize()}{infix}{name}Function"


def domain_modules(domain: str, kind: str) -> list[str]:
    folder = FUNCTIONS_DIR / domain / domain / kind
    return sorted(f"{domain}.{kind}.{path.stem}" for path in folder.glob("*.py") if path.stem != "__init__")


def _import_functions_code() -> None:
    # Importing a handler must not need configuration; give settings a placeholder secret.
    os.environ.setdefault("JWT_SECRET", "template-generation-placeholder-secret")
    sys.path[:0] = [str(LAYER_DIR)] + [str(FUNCTIONS_DIR / d) for d in (*DOMAINS, OPS_DOMAIN)]


def discover_internal_functions() -> list[InternalFunction]:
    functions = []
    for domain in DOMAINS:
        for module_name in domain_modules(domain, "internal"):
            module = importlib.import_module(module_name)
            summary = (module.__doc__ or module_name).strip().splitlines()[0]
            functions.append(InternalFunction(domain, module_name, summary, getattr(module, "TEMPLATE_PROPERTIES", {})))
    return functions


def discover_endpoints() -> list[Endpoint]:
    endpoints = []
    for domain in (OPS_DOMAIN, *DOMAINS):
        if not (FUNCTIONS_DIR / domain).is_dir():
            continue
        for module_name in domain_modules(domain, "handlers"):
            module = importlib.import_module(module_name)
            paths = module.app.get_openapi_schema().paths or {}
            operations = [
                (method, path) for path, item in paths.items() for method in HTTP_METHODS if getattr(item, method, None)
            ]
            if len(operations) != 1:
                raise SystemExit(f"{module_name} must declare exactly one route, found {operations}")
            method, path = operations[0]
            endpoints.append(Endpoint(domain, module_name, method, path, getattr(module, "TEMPLATE_PROPERTIES", {})))
    seen: dict[tuple[str, str], str] = {}
    for endpoint in endpoints:
        key = (endpoint.method, endpoint.path)
        if key in seen:
            raise SystemExit(f"{endpoint.method.upper()} {endpoint.path} is declared by {seen[key]} and {endpoint.module}")
        seen[key] = endpoint.module
    return endpoints


def environment(domain: str) -> dict[str, object]:
    variables: dict[str, object] = {"POWERTOOLS_SERVICE_NAME": domain}
    if domain == OPS_DOMAIN:
        variables.update({f"{d.upper()}_DB_URL": {"Ref": PARAMETER_FOR_DOMAIN[d]} for d in DOMAINS})
    else:
        variables["DATABASE_URL"] = {"Ref": PARAMETER_FOR_DOMAIN[domain]}
    return {"Variables": variables}


def api_event(method: str, path: str) -> dict[str, object]:
    return {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": path, "Method": method}}


def with_extras(properties: dict, extras: dict) -> dict:
    merged = dict(properties)
    for key, value in extras.items():
        if key == "Environment":
            variables = {**merged["Environment"]["Variables"], **value.get("Variables", {})}
            merged["Environment"] = {"Variables": variables}
        elif key == "Policies":
            merged["Policies"] = [*merged.get("Policies", []), *value]
        else:
            merged[key] = value
    return merged


def function_resources(endpoints: list[Endpoint], internal: list[InternalFunction]) -> dict[str, object]:
    resources: dict[str, object] = {}
    for endpoint in endpoints:
        resources[endpoint.logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": with_extras({
                "Description": f"{endpoint.method.upper()} {endpoint.path}",
                "CodeUri": f"functions/{endpoint.domain}/",
                "Handler": f"{endpoint.module}.handler",
                "Environment": environment(endpoint.domain),
                "Events": {"Api": api_event(endpoint.method, endpoint.path)},
                "Policies": [copy.deepcopy(JWT_SECRET_POLICY)],
            }, endpoint.extra_properties),
        }
    for function in internal:
        resources[function.logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": with_extras({
                "Description": f"internal: {function.description}",
                "CodeUri": f"functions/{function.domain}/",
                "Handler": f"{function.module}.handler",
                "Environment": environment(function.domain),
            }, function.extra_properties),
        }
    paths = sorted({endpoint.path for endpoint in endpoints})
    resources["OpsPreflightFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Description": "Answers CORS preflight (OPTIONS) on every path",
            "CodeUri": f"functions/{OPS_DOMAIN}/",
            "Handler": "ops.preflight.handler",
            "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": OPS_DOMAIN}},
            "Events": {f"Options{index:02d}": api_event("options", path) for index, path in enumerate(paths)},
        },
    }
    return resources


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads a template with CloudFormation's short-form tags (!Ref, !Sub...) as None."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def read_template(path: Path = TEMPLATE) -> dict:
    """A SAM template as a dict (values written with short-form tags read as None)."""
    return yaml.load(path.read_text(), Loader=_CloudFormationLoader)


def serverless_functions(template: dict) -> dict[str, dict]:
    """Logical id -> Properties of every AWS::Serverless::Function of a template."""
    return {logical_id: resource["Properties"] for logical_id, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"}


class _PlainDumper(yaml.SafeDumper):
    """Writes a value shared by several functions out in full each time (no &anchors)."""

    def ignore_aliases(self, data) -> bool:
        return True


def render() -> str:
    _import_functions_code()
    resources = function_resources(discover_endpoints(), discover_internal_functions())
    generated = yaml.dump(resources, Dumper=_PlainDumper, sort_keys=False, width=120)
    indented = "".join(f"  {line}" if line.strip() else line for line in generated.splitlines(keepends=True))
    header = (
        "# GENERATED by `make template` (python -m infra.template.generate); do not edit by hand.\n"
        "# Edit infra/template/base.yaml, or the route a handler declares, then regenerate.\n"
    )
    return f"{header}{BASE_TEMPLATE.read_text().rstrip()}\n\n  # ---- generated: one function per HTTP endpoint and per internal function ----\n{indented}"


def main(argv: list[str] | None = None) -> int:
    return generated_files.run(argv, "Generate template.yaml from the handlers' routes", [TEMPLATE], render, "template")

if __name__ == "__main__":
    sys.exit(main())
