"""Every operation of the OpenAPI document reaches its endpoint's handler through its deployed domain function.

Each operation is called without a token, with placeholder ids and an empty JSON body. An
answer from the endpoint's own resolver is one of the statuses the document gives the
operation, with the API's ``{"detail": ...}`` error shape; API Gateway's missing route, an
unmatched resolver ("Not Found") or a resolver that did not declare the route (the "Invalid
path parameter" fallback) are not. The request's log line in the log group of the function
the template assigns the route to shows that function served it, under the route template.
"""

import functools
import json
import re
import time
import uuid

import pytest

from infra.config import ROOT, deploy_parameters
from infra.local import aws
from infra.openapi import DOCUMENT
from infra.template.generate import api_routes, read_template, serverless_functions
from tests.e2e.conftest import E2E_STACK
from tests.support.polling import poll

pytestmark = pytest.mark.e2e

METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> list[tuple[str, str, set[int]]]:
    document = json.loads(DOCUMENT.read_text())
    return [
        (method.upper(), path, {int(status) for status in operation["responses"]})
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def function_of_each_route() -> dict[tuple[str, str], str]:
    routes = {}
    for logical_id, properties in serverless_functions(read_template(ROOT / "template.yaml")).items():
        for route in api_routes(properties):
            routes[route] = logical_id
    return routes


def handled_routes(log_group: str, since_ms: int) -> set[tuple[str, str]]:
    logs = aws.aws_client("logs")
    handled = set()
    for event in logs.filter_log_events(logGroupName=log_group, startTime=since_ms, limit=10_000).get("events", []):
        for line in event["message"].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("message") == "request handled":
                handled.add((record["method"], record["route"]))
    return handled


def test_every_operation_reaches_its_handler_through_its_domain_function(api):
    started_ms = int(time.time() * 1000) - 1_000
    expected = function_of_each_route()
    wrong = []
    for method, path, documented in operations():
        assert (method, path) in expected, f"{method} {path} has no function in template.yaml"
        url_path = re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), path)
        response = api.request(method, url_path, json=None if method == "GET" else {})
        body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None
        detail = body.get("detail") if isinstance(body, dict) else None
        fallback = detail == "Not Found" or (
            isinstance(detail, list) and any(item.get("msg") == "Invalid path parameter" for item in detail)
        )
        if response.status_code not in documented or fallback or (response.status_code >= 400 and detail is None):
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)

    cloudformation = aws.aws_client("cloudformation")
    by_function: dict[str, set[tuple[str, str]]] = {}
    for route, logical_id in expected.items():
        by_function.setdefault(logical_id, set()).add(route)
    for logical_id, routes in by_function.items():
        name = cloudformation.describe_stack_resource(StackName=E2E_STACK, LogicalResourceId=logical_id)[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        handled = poll(
            functools.partial(handled_routes, f"/aws/lambda/{name}", started_ms), routes.issubset, timeout=30
        )
        assert routes <= handled, f"{logical_id} did not serve {sorted(routes - handled)}"


def test_the_bcrypt_routes_function_keeps_its_reserved_concurrency_and_the_identity_role(api):
    expected = int(deploy_parameters("local").get("PasswordHashingConcurrency", "0"))
    lambda_client = aws.aws_client("lambda")
    credentials = aws.function_name(E2E_STACK, "IdentityCredentialsFunction")
    identity = aws.function_name(E2E_STACK, "IdentityApiFunction")
    assert lambda_client.get_function_concurrency(FunctionName=credentials).get("ReservedConcurrentExecutions") == (
        expected or None
    )
    assert lambda_client.get_function_concurrency(FunctionName=identity).get("ReservedConcurrentExecutions") is None
    roles = {lambda_client.get_function_configuration(FunctionName=name)["Role"] for name in (credentials, identity)}
    assert len(roles) == 1
