"""A domain function hands each route to its endpoint module, importing the module on first use."""

import json
import os
import subprocess
import sys

from infra.template.generate import LAYER_DIR
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


def test_the_collector_waits_for_the_first_answer_then_leaves_the_start_frozen():
    """A domain function's entry point turns the garbage collector off; its first answer freezes
    what the start built and turns it back on (eduplatform.cold_start)."""
    probe = """
import gc, json
from eduplatform.dispatch import domain_handler
handler = domain_handler({})
during = gc.isenabled()
handler({"httpMethod": "GET", "resource": "/unknown"}, None)
print(json.dumps([during, gc.isenabled(), gc.get_freeze_count() > 0]))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(LAYER_DIR), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == [False, True, True]
