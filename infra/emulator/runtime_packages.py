"""Runtime packages: an instance imports what the Lambda Python runtime holds, not the launcher's venv.

MiniStack runs every Python instance with its own interpreter, the launcher's venv, so a function
could import any package of that venv. On AWS a function finds its code, its layers, the standard
library and the runtime's SDK (boto3 and what it needs) and nothing else. Here PyJWT loaded the
venv's ``cryptography`` and botocore its ``awscrt`` (~0.1 s of every instance start that AWS does
not pay), redis-py its ``hiredis``, and a function importing a package its layer lacks would work
here and fail on AWS. ``runtime_packages`` links the runtime's distributions into a folder of
their own and makes the worker script put that folder on ``sys.path`` instead of the venv's
site-packages, before it adds the function's code and layers.
"""

import importlib.metadata
import os
import shutil
import site
from pathlib import Path

from infra.emulator.pinned import require_pinned

# What the Lambda Python runtime bundles: the SDK and its dependencies.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "jmespath", "python-dateutil", "s3transfer", "six", "urllib3")
# The worker script's first change to sys.path: the function's code folder.
WORKER_CODE_PATH = "    sys.path.insert(0, code_dir)\n"


def site_directories() -> list[str]:
    """The interpreter's site-packages folders, which an instance must not see."""
    directories = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        directories.append(site.getusersitepackages())
    return directories


def link_runtime_packages(folder: Path, distributions: tuple[str, ...] = RUNTIME_DISTRIBUTIONS) -> None:
    """``folder`` holding links to each distribution's top-level packages and its metadata."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in distributions:
        distribution = importlib.metadata.distribution(name)
        entries = {Path(str(file)).parts[0] for file in distribution.files or () if not str(file).startswith("..")}
        for entry in sorted(entries - {"__pycache__"}):
            os.symlink(distribution.locate_file(entry), folder / entry)


def worker_path_setup(script: str, folder: Path, hidden: list[str]) -> str:
    """The worker ``script`` with ``hidden`` taken off sys.path and ``folder`` put on it, first thing."""
    require_pinned("the Python worker script's code path", script.count(WORKER_CODE_PATH), 1)
    setup = (
        "    # runtime_packages: the Lambda runtime's packages instead of the emulator's site-packages.\n"
        f"    sys.path[:] = [_p for _p in sys.path if _p not in {sorted(hidden)!r}] + [{str(folder)!r}]\n"
    )
    return script.replace(WORKER_CODE_PATH, setup + WORKER_CODE_PATH)


def runtime_packages(folder: Path) -> None:
    """Make MiniStack's Python instances import the runtime's packages (linked into ``folder``), not the venv's."""
    from ministack.core import lambda_runtime

    link_runtime_packages(folder)
    lambda_runtime._PYTHON_WORKER_SCRIPT = worker_path_setup(
        lambda_runtime._PYTHON_WORKER_SCRIPT, folder, site_directories()
    )
