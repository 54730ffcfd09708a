"""Generate the whole API's OpenAPI 3 document from the handlers' own declarations.

Every handler module's resolver knows its one operation and the pydantic models it uses
(``app.get_openapi_json_schema()``). This script merges them into one document and adds
what every operation shares, so no handler has to repeat it:

- 401 on every operation that takes a bearer token;
- 413 and 415 on every operation with a request body (the layer refuses bodies over 1 MB,
  and bodies whose Content-Type is not JSON);
- 422 as either the validation error list or a plain ``{"detail": str}`` (a rule of the
  domain such as a payment amount that differs from the price);
- 429 everywhere: the API stage's throttling answers any operation (API Gateway's own body,
  ``{"message": ...}``), and the identity limits answer their operations with ``{"detail"}``
  and ``Retry-After``;
- 503 everywhere (a database or another domain's function is unavailable);
- 500 everywhere: what the layer answers for a failure nobody expected (``{"detail", "request_id"}``);
- links from each operation that creates a resource to the operations that take its id, so a
  stateful fuzzer (and a reader) can chain them: create a course, then add a module to it, ...
- the ``{"detail": str}`` error schema on every error response that names no schema.

docs/openapi.json (for people and the fuzzer) is the one committed; functions/ops/ops/openapi.json,
the copy deployed with the ops function and served at GET /openapi.json, is not (.gitignore): it is
written from docs/openapi.json before every build (``ship_copy``: the launcher's publish, and the
Makefile's rule that `make up`, `make sync` and `make test` depend on), so `sam build` finds it in
the function's CodeUri.

    python -m infra.openapi           # rewrite docs/openapi.json and the copy
    python -m infra.openapi --check   # exit 1 when docs/openapi.json is stale
"""

import importlib
import json
import sys
from typing import Any

from infra import generated_files
from infra.config import ROOT
from infra.template import generate

DOCUMENT = ROOT / "docs" / "openapi.json"
SHIPPED_COPY = ROOT / "functions" / "ops" / "ops" / "openapi.json"
TITLE = "EduPlatform API"
VERSION = "1.0.0"
DESCRIPTION = (
    'An online course platform. Errors are {"detail": "reason"}; request validation errors are 422 '
    '{"detail": [{"loc", "msg", "type"}]}. Unknown JSON fields in request bodies are ignored.'
)

ERROR = {"$ref": "#/components/schemas/ErrorDetail"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/HTTPValidationError"}
SHARED_SCHEMAS: dict[str, Any] = {
    "ErrorDetail": {
        "title": "ErrorDetail",
        "type": "object",
        "properties": {"detail": {"title": "Detail", "type": "string"}},
        "required": ["detail"],
    },
    # Powertools' own definition leaves msg out of the properties; this is the shape the layer answers.
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "ctx": {"title": "Context", "type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["loc", "msg", "type"],
    },
    "Throttled": {
        "title": "Throttled",
        "type": "object",
        "description": "API Gateway's answer when the stage's throttling refuses a request",
        "properties": {"message": {"title": "Message", "type": "string"}},
        "required": ["message"],
    },
    "InternalError": {
        "title": "InternalError",
        "type": "object",
        "properties": {
            "detail": {"title": "Detail", "type": "string", "enum": ["Internal server error"]},
            "request_id": {
                "title": "Request Id",
                "type": "string",
                "description": "Quote it when reporting the failure",
            },
        },
        "required": ["detail", "request_id"],
    },
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {"title": "Detail", "type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
        "required": ["detail"],
    },
}
# (operation that creates, its id in the answer) -> the operations taking that id as a path parameter.
LINKS: dict[tuple[str, str], tuple[str, str, list[tuple[str, str]]]] = {
    ("post", "/courses"): (
        "course_id",
        "$response.body#/id",
        [
            ("get", "/courses/{course_id}"),
            ("put", "/courses/{course_id}"),
            ("get", "/courses/{course_id}/curriculum"),
            ("post", "/courses/{course_id}/modules"),
            ("get", "/reviews/course/{course_id}"),
            ("get", "/enrollments/course/{course_id}/count"),
        ],
    ),
    ("post", "/courses/{course_id}/modules"): (
        "module_id",
        "$response.body#/id",
        [("put", "/modules/{module_id}"), ("delete", "/modules/{module_id}"), ("post", "/modules/{module_id}/lessons")],
    ),
    ("post", "/modules/{module_id}/lessons"): (
        "lesson_id",
        "$response.body#/id",
        [("get", "/lessons/{lesson_id}"), ("put", "/lessons/{lesson_id}"), ("delete", "/lessons/{lesson_id}")],
    ),
    ("post", "/enrollments"): (
        "course_id",
        "$response.body#/course_id",
        [("get", "/progress/courses/{course_id}"), ("get", "/progress/courses/{course_id}/lessons")],
    ),
    ("post", "/payments"): ("payment_id", "$response.body#/id", [("get", "/payments/{payment_id}")]),
    ("post", "/notifications"): (
        "notification_id",
        "$response.body#/id",
        [("patch", "/notifications/{notification_id}/read")],
    ),
}
# Powertools adds this to every document although no operation refers to it.
UNUSED_SCHEMAS = ("ResponseValidationError",)


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _complete_responses(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if operation.get("security"):
        responses.setdefault("401", {"description": "Missing, malformed, badly signed or expired token"})
    if "requestBody" in operation:
        responses.setdefault("413", {"description": "Request body larger than 1 MB"})
        responses.setdefault("415", {"description": "Request body declared as anything but JSON"})
    responses["422"] = {
        "description": responses.get("422", {}).get("description", "Validation Error"),
        "content": _json_content({"anyOf": [VALIDATION_ERROR, ERROR]}),
    }
    responses["429"] = {
        "description": responses.get("429", {}).get(
            "description", "Too many requests: the API stage's throttling; retry later"
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again (sent with the API's own limits)",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
        "content": _json_content({"anyOf": [ERROR, {"$ref": "#/components/schemas/Throttled"}]}),
    }
    responses.setdefault("503", {"description": "A database or another domain is unavailable; retry later"})
    responses["500"] = {
        "description": "Unexpected failure (logged with its request id)",
        "content": _json_content({"$ref": "#/components/schemas/InternalError"}),
    }
    for status, response in responses.items():
        if int(status) >= 400 and not response.get("content", {}).get("application/json", {}).get("schema"):
            response["content"] = _json_content(ERROR)
    operation["responses"] = dict(sorted(responses.items()))


def _merge_schemas(target: dict[str, Any], schemas: dict[str, Any], source: str) -> None:
    for name, definition in schemas.items():
        if name in SHARED_SCHEMAS or name in UNUSED_SCHEMAS:
            continue
        if name in target and target[name] != definition:
            raise SystemExit(f"OpenAPI schema {name!r} of {source} differs from another handler's schema of that name")
        target[name] = definition


# Powertools' OpenAPIMerge (event_handler/openapi/merge.py) merges paths alike but overwrites a same-named
# component schema silently (_merge_schemas below refuses a differing one) and adds servers: not used.
def build() -> dict[str, Any]:
    """The merged document of every endpoint the template deploys."""
    generate._import_functions_code()
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    for endpoint in generate.discover_endpoints():
        module = importlib.import_module(endpoint.module)
        part = json.loads(module.app.get_openapi_json_schema())
        for path, item in part["paths"].items():
            for method, operation in item.items():
                _complete_responses(operation)
                paths.setdefault(path, {})[method] = operation
        components = part.get("components", {})
        _merge_schemas(schemas, components.get("schemas", {}), endpoint.module)
        security_schemes.update(components.get("securitySchemes", {}))
    _add_links(paths)
    return {
        "openapi": part["openapi"],
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": dict(sorted({**schemas, **SHARED_SCHEMAS}.items())),
            "securitySchemes": security_schemes,
        },
    }


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    for (method, path), (parameter, value, targets) in LINKS.items():
        created = next(status for status in paths[path][method]["responses"] if status.startswith("2"))
        paths[path][method]["responses"][created]["links"] = {
            paths[target_path][target_method]["operationId"]: {
                "operationId": paths[target_path][target_method]["operationId"],
                "parameters": {f"path.{parameter}": value},
            }
            for target_method, target_path in targets
        }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def ship_copy() -> bool:
    """Write the ops function's copy of docs/openapi.json unless it is already the same; True when written."""
    document = DOCUMENT.read_bytes()
    if SHIPPED_COPY.exists() and SHIPPED_COPY.read_bytes() == document:
        return False
    SHIPPED_COPY.write_bytes(document)
    return True


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    return generated_files.run(
        arguments,
        "Generate docs/openapi.json and the copy the ops function serves",
        [DOCUMENT] if "--check" in arguments else [DOCUMENT, SHIPPED_COPY],
        render,
        "openapi",
    )


if __name__ == "__main__":
    sys.exit(main())
