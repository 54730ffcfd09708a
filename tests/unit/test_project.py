"""The project's single sources of truth stay in sync with what is derived from them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    pinned = lock.pins(lock.LOCK.read_text())["redis"]
    other = "5.0.0" if pinned != "5.0.0" else "5.0.1"
    changed = tmp_path / "pyproject.toml"
    source = lock.PYPROJECT.read_text()
    assert f'"redis=={pinned}"' in source
    changed.write_text(source.replace(f'"redis=={pinned}"', f'"redis=={other}"'))
    monkeypatch.setattr(lock, "PYPROJECT", changed)
    found = lock.problems()
    assert any("not resolved from the current pyproject.toml" in problem for problem in found)
    assert any(f"pins redis=={other}" in problem for problem in found)


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
    assert {e.path for e in endpoints if e.logical_id == "IdentityCredentialsFunction"} == {
        "/login",
        "/register",
        "/reset-password",
    }


def test_sam_validate_lint_passes():
    venv_bin = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}", SAM_CLI_TELEMETRY="0")
    result = subprocess.run(
        [str(venv_bin / "sam"), "validate", "--lint"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_passes():
    venv_bin = Path(sys.executable).parent
    result = subprocess.run([str(venv_bin / "cfn-lint"), "template.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- hygiene: make lint (ruff, mypy), run by make test first -------------------------------------

HANDLER = "functions/identity/identity/handlers/me.py"
HANDLER_RETURN = "    return service.profile(user.user_id)\n"  # me() is annotated `-> UserOut`


def run_mypy(*arguments: str) -> subprocess.CompletedProcess[str]:
    """mypy as `make lint` runs it: the venv's, from the checkout, with pyproject.toml's [tool.mypy]."""
    mypy = Path(sys.executable).parent / "mypy"
    return subprocess.run([str(mypy), *arguments], cwd=ROOT, capture_output=True, text=True)


def test_make_test_runs_make_lint_first_and_lint_runs_ruff_and_mypy():
    result = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "test"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    position = -1
    for fragment in (
        "ruff check .",
        "ruff format --check .",
        "bin/mypy",
        "infra.template.generate --check",
        "infra.openapi --check",
        "infra.lock --check",
        "sam validate --lint",
        "-m pytest",
    ):
        later = [index for index, command in enumerate(commands) if index > position and fragment in command]
        assert later, f"`make test` does not run {fragment!r} after the checks before it:\n{result.stdout}"
        position = later[0]


def test_the_type_check_passes_on_the_code_as_it_is():
    result = run_mypy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.parametrize(
    ("wrong", "error_code"),
    [
        ("    return str(user.user_id)\n", "[return-value]"),  # a str where the annotation says UserOut
        ("    return service.profile(str(user.user_id))\n", "[arg-type]"),  # a str where profile() takes a UUID
    ],
)
def test_a_wrong_type_in_a_handler_fails_the_type_check_at_its_line(tmp_path, wrong, error_code):
    source = (ROOT / HANDLER).read_text()
    assert source.count(HANDLER_RETURN) == 1
    line = source[: source.index(HANDLER_RETURN)].count("\n") + 1
    edited = tmp_path / "me.py"
    edited.write_text(source.replace(HANDLER_RETURN, wrong))
    # mypy reads the edited copy in place of the handler; everything else (and the cache) as make lint has it.
    result = run_mypy("--shadow-file", HANDLER, str(edited))
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [row for row in result.stdout.splitlines() if ": error: " in row]
    assert len(errors) == 1 and errors[0].startswith(f"{HANDLER}:{line}: error: ") and errors[0].endswith(error_code), (
        errors
    )
