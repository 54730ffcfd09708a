"""A domain function hands each route to its endpoint module, importing the module on first use."""

import sys

from tests.support.lambda_events import FakeLambdaContext, proxy_event

from eduplatform.dispatch import domain_handler


def test_each_route_reaches_its_endpoint_module_and_only_that_one_is_imported(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "ops")
    for name in ("ops.handlers.health", "ops.handlers.openapi"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    handler = domain_handler({"GET /openapi.json": "ops.handlers.openapi", "GET /health": "ops.handlers.health"})

    response = handler(proxy_event("GET", "/openapi.json"), FakeLambdaContext())

    assert response["statusCode"] == 200
    assert "/openapi.json" in response["body"]
    assert "ops.handlers.openapi" in sys.modules and "ops.handlers.health" not in sys.modules


def test_a_route_the_function_does_not_serve_is_a_json_404():
    handler = domain_handler({"GET /health": "ops.handlers.health"})

    response = handler(proxy_event("GET", "/me"), FakeLambdaContext())

    assert response["statusCode"] == 404
    assert response["body"] == '{"detail": "Not Found"}'
