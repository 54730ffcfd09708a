"""Every built function imports with only its own code and the layer on the path.

Locally the emulator runs functions in the project's interpreter, so a library missing
from the layer would still import here and only fail on AWS. This imports each
handler of the SAM build in an isolated interpreter (``python -I -S``: no site-packages)
with nothing but the function's folder, the layer's ``python/`` folder and what the AWS
Lambda Python runtime itself provides (boto3 and its dependencies) on sys.path; for a
domain function (``<domain>.routes``) also every endpoint module its table dispatches to,
which it imports lazily. The build's bytecode is what a fresh instance runs: it must be
hash-checked (valid after unzipping) and current.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template.generate import read_template, serverless_functions

pytestmark = pytest.mark.e2e


def built_functions(build_dir):
    for logical_id, properties in serverless_functions(read_template(build_dir / "template.yaml")).items():
        yield logical_id, build_dir / logical_id, properties["Handler"]


# What the python3.12 Lambda runtime ships besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


@pytest.fixture(scope="module")
def runtime_provided(tmp_path_factory) -> Path:
    """A folder holding only the runtime-provided packages (links to this interpreter's copies)."""
    folder = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PROVIDED:
        origin = Path(importlib.util.find_spec(name).origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


def test_every_handler_imports_in_isolation(built_app_dir, runtime_provided):
    layer = built_app_dir / "CommonLayer" / "python"
    functions = list(built_functions(built_app_dir))
    assert functions, "the SAM build holds no functions"
    failures = []
    for logical_id, code_dir, handler in functions:
        module, attribute = handler.rsplit(".", 1)
        script = (
            "import sys, importlib; "
            f"sys.path[:0] = [{str(code_dir)!r}, {str(layer)!r}, {str(runtime_provided)!r}]; "
            f"entry = importlib.import_module({module!r}); assert callable(getattr(entry, {attribute!r})); "
            "[importlib.import_module(name).handler for name in getattr(entry, 'ROUTES', {}).values()]"
        )
        env = {
            "PATH": os.environ["PATH"],
            "JWT_SECRET": "isolated-import-check-secret-0123456",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        result = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            failures.append(f"{logical_id} ({handler}): {result.stderr.strip().splitlines()[-1]}")
    assert not failures, "\n".join(failures)


def test_the_build_carries_current_hash_checked_bytecode(built_app_dir):
    sources = [path for path in built_app_dir.rglob("*.py") if path.parent.name != "__pycache__"]
    assert sources
    stale = []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.exists():
            stale.append(f"{source}: no bytecode")
            continue
        header = compiled.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        if (
            header[:4] != importlib.util.MAGIC_NUMBER
            or flags != 0b11
            or header[8:16] != importlib.util.source_hash(source.read_bytes())
        ):
            stale.append(f"{source}: bytecode not hash-checked or stale")
    assert not stale, "\n".join(stale[:20])
