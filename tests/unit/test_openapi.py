"""The whole API's OpenAPI document: generated from the handlers, committed, shipped, served."""

import json

from infra import openapi
from infra.template import generate
from tests.support.lambda_events import call

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorDetail"}


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_committed_and_shipped_documents_match_the_handlers():
    generated = openapi.render()
    assert openapi.DOCUMENT.read_text() == generated, "docs/openapi.json is stale: run `make openapi`"
    assert openapi.SHIPPED_COPY.read_text() == generated, "functions/ops/ops/openapi.json is stale: run `make openapi`"


def test_document_has_every_deployed_endpoint_once():
    document = openapi.build()
    documented = {(method, path) for method, path, _ in _operations(document)}
    assert documented == {(endpoint.method, endpoint.path) for endpoint in generate.discover_endpoints()}
    assert document["info"]["title"] == "EduPlatform API" and document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_reference_resolves():
    document = openapi.build()
    schemas = document["components"]["schemas"]
    references = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    missing = {ref for ref in references if ref.removeprefix("#/components/schemas/") not in schemas}
    assert references and not missing


def test_every_operation_documents_its_errors_with_the_error_shapes():
    for method, path, operation in _operations(openapi.build()):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert any(status.startswith("2") for status in responses), where
        assert "503" in responses and "422" in responses and "500" in responses, where
        assert responses["500"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/InternalError"
        }
        if operation.get("security"):
            assert "401" in responses, where
        if "requestBody" in operation:
            assert "413" in responses and "415" in responses, where
        assert responses["422"]["content"]["application/json"]["schema"] == {
            "anyOf": [{"$ref": "#/components/schemas/HTTPValidationError"}, ERROR_SCHEMA]
        }, where
        # The stage's throttling can refuse any operation, with API Gateway's own body.
        assert responses["429"]["content"]["application/json"]["schema"] == {
            "anyOf": [ERROR_SCHEMA, {"$ref": "#/components/schemas/Throttled"}]
        }, where
        assert "Retry-After" in responses["429"]["headers"], where
        for status, response in responses.items():
            if status not in ("422", "429", "500") and int(status) >= 400 and (path, status) != ("/health", "503"):
                assert response["content"]["application/json"]["schema"] == ERROR_SCHEMA, f"{where} {status}"


def test_the_identity_limits_keep_their_own_429_descriptions():
    document = openapi.build()
    assert "5 failed attempts" in document["paths"]["/login"]["post"]["responses"]["429"]["description"]
    assert "stage's throttling" in document["paths"]["/courses"]["get"]["responses"]["429"]["description"]


def test_role_restricted_operations_document_403():
    restricted = {
        ("get", "/admin/teachers/pending"),
        ("patch", "/admin/users/{user_id}/verify"),
        ("post", "/courses"),
        ("put", "/courses/{course_id}"),
        ("get", "/courses/my"),
        ("post", "/courses/{course_id}/modules"),
        ("put", "/modules/{module_id}"),
        ("delete", "/modules/{module_id}"),
        ("post", "/modules/{module_id}/lessons"),
        ("put", "/lessons/{lesson_id}"),
        ("delete", "/lessons/{lesson_id}"),
        ("post", "/reviews"),
        ("post", "/enrollments"),
        ("post", "/progress/lessons/{lesson_id}/complete"),
        ("post", "/payments"),
    }
    document = openapi.build()
    for method, path in restricted:
        assert "403" in document["paths"][path][method]["responses"], f"{method.upper()} {path}"


def test_the_ops_function_serves_the_shipped_document():
    response = call("ops.handlers.openapi")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(openapi.DOCUMENT.read_text())


def test_created_resources_link_to_the_operations_that_take_their_id():
    document = openapi.build()
    operation_ids = {operation["operationId"]: (method, path) for method, path, operation in _operations(document)}
    created = document["paths"]["/courses"]["post"]["responses"]["201"]["links"]
    assert operation_ids[created["get_course_courses__course_id__get"]["operationId"]] == (
        "get",
        "/courses/{course_id}",
    )
    for _method, _path, operation in _operations(document):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                _target_method, target_path = operation_ids[link["operationId"]]
                (parameter,) = link["parameters"]
                assert parameter.startswith("path.") and "{" + parameter.removeprefix("path.") + "}" in target_path
