"""API Gateway REST proxy events, and which function module serves a route.

One builder for every place that calls a handler without API Gateway: `make invoke` (a route
run in-process), `make sync` (starting a function's new instance on the changed route) and
the unit tests (tests/support/lambda_events.py).
"""

import ast
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

from infra.config import ROOT

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


class BadRoute(ValueError):
    """A route, parameter or body that cannot make an event; the message says what to give instead."""


def parse_route(route: str) -> tuple[str, str]:
    """``"GET /courses/{course_id}"`` -> ("GET", "/courses/{course_id}")."""
    parts = route.split()
    if len(parts) != 2 or parts[0].upper() not in HTTP_METHODS or not parts[1].startswith("/"):
        raise BadRoute(f"route {route!r}: expected '<METHOD> /path', METHOD one of {', '.join(HTTP_METHODS)}")
    return parts[0].upper(), parts[1]


def proxy_event(
    method: str,
    resource: str,
    path_params: dict[str, Any] | None = None,
    *,
    body: Any = None,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    stage: str = "api",
) -> dict[str, Any]:
    """The event API Gateway's Lambda proxy integration sends for one request to ``resource``.

    ``body`` is sent as is when a string, as JSON otherwise. Every ``{name}`` of the resource
    needs its value in ``path_params``; a parameter the resource does not have is refused.
    """
    path_params = {key: str(value) for key, value in (path_params or {}).items()}
    names = PATH_PARAMETER.findall(resource)
    missing = [name for name in names if name not in path_params]
    unknown = sorted(set(path_params) - set(names))
    if missing or unknown:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else []
        )
        raise BadRoute(
            f"{method} {resource}: path parameters {'; '.join(problems)} (it takes: {', '.join(names) or 'none'})"
        )
    path = PATH_PARAMETER.sub(lambda match: path_params[match.group(1)], resource)
    all_headers = {"Content-Type": "application/json"}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    all_headers.update(headers or {})
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    query_params = {key: str(value) for key, value in (query or {}).items()} or None
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": query_params,
        "multiValueQueryStringParameters": {key: [value] for key, value in (query_params or {}).items()} or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        # As API Gateway (and the emulator, from X-Forwarded-For) fills it.
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "identity": {"sourceIp": _source_ip(all_headers)},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _source_ip(headers: dict[str, str]) -> str:
    forwarded = next((value for name, value in headers.items() if name.lower() == "x-forwarded-for"), "")
    return forwarded.split(",")[0].strip() or "127.0.0.1"


def routes_tables(root: Path = ROOT) -> dict[str, dict[str, str]]:
    """Domain -> its generated routes table ("GET /me" -> "identity.handlers.me"), read without importing it."""
    tables = {}
    for routes_file in sorted((root / "functions").glob("*/*/routes.py")):
        tree = ast.parse(routes_file.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ROUTES" for t in node.targets):
                tables[routes_file.parent.name] = ast.literal_eval(node.value)
    return tables


def find_route(method: str, resource: str, root: Path = ROOT) -> tuple[str, str]:
    """(domain, endpoint module) serving a route; BadRoute naming the known routes when none does."""
    key = f"{method} {resource}"
    tables = routes_tables(root)
    for domain, table in tables.items():
        if key in table:
            return domain, table[key]
    known = sorted(route for table in tables.values() for route in table)
    raise BadRoute(f"no endpoint serves {key}; the routes are:\n  " + "\n  ".join(known))


TEMPLATE_MODULE_FOLDERS = ("handlers", "internal")
ROUTE_DECORATORS = ("get", "post", "put", "patch", "delete")
TEMPLATE_NAMES = {"FUNCTION_GROUP", "TEMPLATE_PROPERTIES"}


class SourceError(ValueError):
    """A module that does not parse."""


def is_template_module(path: str) -> bool:
    """functions/<domain>/<domain>/handlers|internal/<name>.py: a module that is a route or a function of the template."""
    parts = path.split("/")
    return (
        len(parts) == 5
        and parts[0] == "functions"
        and parts[1] == parts[2]
        and parts[3] in TEMPLATE_MODULE_FOLDERS
        and parts[4].endswith(".py")
        and parts[4] != "__init__.py"
    )


def template_signature(path: str, source: bytes) -> str | None:
    """What template.yaml and the routes tables take from a handler or internal module, as a hash; None for other files.

    Read with ``ast`` (no import, so it costs nothing): the route decorators (method and path),
    FUNCTION_GROUP, TEMPLATE_PROPERTIES, and an internal module's docstring (its function's Description).
    """
    if not is_template_module(path):
        return None
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise SourceError(f"{path} line {exc.lineno}: {exc.msg}") from None
    declared: list[object] = []
    if path.split("/")[3] == "internal":
        declared.append(("doc", (ast.get_docstring(tree) or "").strip().split("\n", 1)[0]))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in ROUTE_DECORATORS
                ):
                    declared.append(
                        ("route", decorator.func.attr, [ast.dump(argument) for argument in decorator.args[:1]])
                    )
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            if names & TEMPLATE_NAMES:
                declared.append((sorted(names), ast.dump(node.value) if node.value is not None else None))
    return hashlib.sha256(repr(declared).encode()).hexdigest()
