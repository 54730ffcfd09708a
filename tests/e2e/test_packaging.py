"""Every built function imports with only its own code and the layer on the path.

Locally the emulator runs functions in the project's interpreter, so a library missing
from the layer would still import here and only fail on AWS. This imports each
handler of the SAM build in an isolated interpreter (``python -I -S``: no site-packages)
with nothing but the function's folder and the layer's ``python/`` folder on sys.path.
"""

import os
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.e2e


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def built_functions(build_dir):
    template = yaml.load((build_dir / "template.yaml").read_text(), Loader=_CfnLoader)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            yield logical_id, build_dir / logical_id, resource["Properties"]["Handler"]


def test_every_handler_imports_in_isolation(built_app_dir):
    layer = built_app_dir / "CommonLayer" / "python"
    functions = list(built_functions(built_app_dir))
    assert functions, "the SAM build holds no functions"
    failures = []
    for logical_id, code_dir, handler in functions:
        module, attribute = handler.rsplit(".", 1)
        script = (
            "import sys, importlib; "
            f"sys.path[:0] = [{str(code_dir)!r}, {str(layer)!r}]; "
            f"assert callable(getattr(importlib.import_module({module!r}), {attribute!r}))"
        )
        env = {"PATH": os.environ["PATH"], "JWT_SECRET": "isolated-import-check-secret-0123456", "AWS_DEFAULT_REGION": "us-east-1"}
        result = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            failures.append(f"{logical_id} ({handler}): {result.stderr.strip().splitlines()[-1]}")
    assert not failures, "\n".join(failures)
