"""Measure the cold start of each built function the way a fresh emulator instance pays it.

For every function of the SAM build (.aws-sam/build) with an API event or none (internal),
its code and the layer are zipped and unzipped into a temporary folder, as MiniStack does
for each new instance (unzipping resets every file's modification time), then a fresh
interpreter imports what a domain function's instance has imported once it has served each
of its routes: the entry module and every endpoint module of its routes table. Printed per
function: the median wall time of the whole interpreter (start-up included) and of the
function's own imports (after the emulator worker's bootstrap), over ``--runs`` fresh
interpreters. ``--without-bytecode`` drops the build's ``__pycache__`` folders first, as a build
without compiled bytecode ships.

    .venv/bin/python -m infra.coldstart [--runs 5] [--without-bytecode]
"""

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from ministack.core.lambda_runtime import _sub_runtime_tokens

from infra.config import ROOT
from infra.emulator.lazy_invoke_depth import LAZY_INVOKE_DEPTH_BOOTSTRAP
from infra.template.generate import read_template, serverless_functions

BUILD_DIR = ROOT / ".aws-sam" / "build"

# What the launcher's MiniStack worker runs before the handler module: its invoke-depth hook,
# which imports nothing until the function imports botocore (infra/emulator/lazy_invoke_depth.py).
PROBE = (
    _sub_runtime_tokens(LAZY_INVOKE_DEPTH_BOOTSTRAP)
    + """
import importlib, json, sys, time
started = time.perf_counter()
code, layer, module = sys.argv[1:4]
sys.path[:0] = [layer, code]
_ms_install_invoke_depth()
bootstrapped = time.perf_counter()
entry = importlib.import_module(module)
for name in getattr(entry, "ROUTES", {}).values():
    importlib.import_module(name)
print(json.dumps({"imports_ms": (time.perf_counter() - bootstrapped) * 1000}))
"""
)


def unzipped_copy(source: Path, target: Path, with_bytecode: bool) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in source.rglob("*"):
            if path.is_file() and (with_bytecode or "__pycache__" not in path.parts):
                archive.write(path, path.relative_to(source))
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        archive.extractall(target)


def measure(code: Path, layer: Path, module: str, runs: int) -> tuple[float, float]:
    walls, imports = [], []
    env = {
        **os.environ,
        "JWT_SECRET": "cold-start-measurement-secret-0123456789",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "coldstart",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", PROBE, str(code), str(layer), module],
            capture_output=True,
            text=True,
            env=env,
            cwd=code,
            check=True,
        )
        walls.append((time.perf_counter() - started) * 1000)
        imports.append(json.loads(result.stdout.strip().splitlines()[-1])["imports_ms"])
    return statistics.median(walls), statistics.median(imports)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--without-bytecode", action="store_true")
    parser.add_argument("--only", action="append", help="logical id to measure (repeatable)")
    args = parser.parse_args(argv)
    functions = serverless_functions(read_template(BUILD_DIR / "template.yaml"))
    with tempfile.TemporaryDirectory(prefix="coldstart-") as folder:
        layer = Path(folder) / "layer"
        unzipped_copy(BUILD_DIR / "CommonLayer", layer, not args.without_bytecode)
        print(f"{'function':<42} {'process ms':>10} {'imports ms':>10}")
        for logical_id, properties in functions.items():
            if args.only and logical_id not in args.only:
                continue
            events = properties.get("Events") or {}
            if logical_id == "OpsPreflightFunction" or any(e["Type"] not in ("Api",) for e in events.values()):
                continue
            code = Path(folder) / logical_id
            unzipped_copy(BUILD_DIR / logical_id, code, not args.without_bytecode)
            wall, imports = measure(code, layer / "python", properties["Handler"].rsplit(".", 1)[0], args.runs)
            print(f"{logical_id:<42} {wall:>10.0f} {imports:>10.0f}", flush=True)
            shutil.rmtree(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
