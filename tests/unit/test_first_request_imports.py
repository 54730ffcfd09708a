"""What a new instance imports for its first request (docs/architecture.md#packaging-one-function-per-domain):
an endpoint module imports no consumer machinery, and a read imports neither boto3 nor botocore's client."""

import json
import os
import subprocess
import sys

import pytest

from infra.config import ROOT
from infra.template.generate import LAYER_DIR

# Powertools' batch processor and parser models: the consumers' entry point (eduplatform.consumers).
CONSUMER_PACKAGES = ("aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.parser")

READS = (
    "course.handlers.list_courses",
    "identity.handlers.me",
    "enrollment.handlers.my_enrollments",
    "payment.handlers.my_payments",
    "notification.handlers.my_notifications",
    "ops.handlers.health",
)
# Endpoints that record events (eduplatform.events); POST /payments imports boto3 for its idempotency store.
RECORDING_WRITES = (
    "identity.handlers.register",
    "course.handlers.create_course",
    "enrollment.handlers.enroll",
    "payment.handlers.create_payment",
)


def modules_imported_by(module: str) -> set[str]:
    """The modules in ``sys.modules`` of a fresh interpreter once ``module`` is imported, with the
    layer and the module's domain on the path as a function instance has them."""
    domain = module.split(".", 1)[0]
    path = os.pathsep.join([str(LAYER_DIR), str(ROOT / "functions" / domain), os.environ.get("PYTHONPATH", "")])
    probe = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path, "POWERTOOLS_SERVICE_NAME": domain},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


def imported_from(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules if any(name == p or name.startswith(f"{p}.") for p in packages))


@pytest.mark.parametrize("module", READS + RECORDING_WRITES)
def test_an_endpoint_imports_no_consumer_machinery(module):
    assert imported_from(modules_imported_by(module), CONSUMER_PACKAGES) == []


@pytest.mark.parametrize("module", READS)
def test_a_read_imports_no_boto3(module):
    # Powertools imports the botocore package itself (its user agent), nothing of the client's.
    assert imported_from(modules_imported_by(module), ("boto3", "botocore.exceptions", "botocore.client")) == []


def test_a_consumer_imports_its_machinery_from_the_layer():
    """The probe sees what it is looking for: a consumer's entry point brings the batch processor."""
    modules = modules_imported_by("notification.consumer")
    assert "aws_lambda_powertools.utilities.batch" in modules
    assert "eduplatform.consumers" in modules
