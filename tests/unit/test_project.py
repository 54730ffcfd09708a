"""The project's single sources of truth stay in sync with what is derived from them."""

import os
import subprocess
import sys
from pathlib import Path

from infra import lock
from infra.config import ROOT
from infra.template import generate


def test_the_lock_files_are_resolved_from_pyproject_and_agree():
    assert lock.problems() == [], "run `make lock`"
    locked, layer = lock.pins(lock.LOCK.read_text()), lock.pins(lock.LAYER_REQUIREMENTS.read_text())
    # The layer gets the runtime dependencies and what they need, not the dev tools.
    assert {"aws-lambda-powertools", "pydantic-core", "psycopg-binary"} <= set(layer) < set(locked)
    assert not {"aws-sam-cli", "pytest", "ministack", "boto3"} & set(layer)


def test_a_dependency_changed_in_pyproject_without_make_lock_is_caught(tmp_path, monkeypatch):
    changed = tmp_path / "pyproject.toml"
    changed.write_text(lock.PYPROJECT.read_text().replace('"redis==8.1.0"', '"redis==8.0.0"'))
    monkeypatch.setattr(lock, "PYPROJECT", changed)
    found = lock.problems()
    assert any("not resolved from the current pyproject.toml" in problem for problem in found)
    assert any("pins redis==8.0.0" in problem for problem in found)


def test_template_matches_the_handlers_routes():
    assert generate.TEMPLATE.read_text() == generate.render(), "template.yaml is stale: run `make template`"


def test_every_route_is_served_by_its_domain_function_through_the_routes_table():
    endpoints = generate.discover_endpoints()
    routes = {(e.method, e.path) for e in endpoints}
    assert len(routes) == len(endpoints)
    assert ("post", "/register") in routes and ("get", "/health") in routes
    for endpoint in endpoints:
        assert endpoint.logical_id == f"{endpoint.domain.capitalize()}{endpoint.group.capitalize()}Function"
        assert generate.routes_file(endpoint.domain).read_text() == generate.render_routes(endpoint.domain, endpoints)
    # The bcrypt routes get a function of their own, sharing the identity domain's role.
    assert {e.path for e in endpoints if e.logical_id == "IdentityCredentialsFunction"} == {"/login", "/register",
                                                                                             "/reset-password"}


def test_sam_validate_lint_passes():
    venv_bin = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}", SAM_CLI_TELEMETRY="0")
    result = subprocess.run([str(venv_bin / "sam"), "validate", "--lint"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_passes():
    venv_bin = Path(sys.executable).parent
    result = subprocess.run([str(venv_bin / "cfn-lint"), "template.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
