"""API Gateway REST proxy events, and which function module serves a route.

One builder for every place that calls a handler without API Gateway: `make invoke` (a route
run in-process), `make sync` (starting a function's new instance on the changed route) and
the unit tests (tests/support/lambda_events.py).
"""

import ast
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


def proxy_event(method: str, resource: str, path_params: dict[str, Any] | None = None, *, body: Any = None,
                query: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                token: str | None = None, stage: str = "api") -> dict[str, Any]:
    """The event API Gateway's Lambda proxy integration sends for one request to ``resource``.

    ``body`` is sent as is when a string, as JSON otherwise. Every ``{name}`` of the resource
    needs its value in ``path_params``; a parameter the resource does not have is refused.
    """
    path_params = {key: str(value) for key, value in (path_params or {}).items()}
    names = PATH_PARAMETER.findall(resource)
    missing = [name for name in names if name not in path_params]
    unknown = sorted(set(path_params) - set(names))
    if missing or unknown:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else [])
        raise BadRoute(f"{method} {resource}: path parameters {'; '.join(problems)} (it takes: {', '.join(names) or 'none'})")
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
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/{stage}{path}", "stage": stage,
                           "requestId": request_id, "identity": {"sourceIp": "127.0.0.1"}},
        "body": body,
        "isBase64Encoded": False,
    }


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
