"""The lock files: every transitive dependency pinned, with its hashes, resolved by uv from pyproject.toml.

pyproject.toml stays the one place versions are declared (the direct dependencies, pinned);
`make lock` resolves everything they pull in:

    requirements.lock                 runtime + dev: what `make install` puts in .venv and the
                                      docker image installs (pip --require-hashes)
    layers/common/requirements.txt    runtime only, the same versions (resolved with requirements.lock
                                      as constraints): what `sam build` installs into the layer

Both start with the hash of pyproject.toml's dependency lists they were resolved from, so a
change there without `make lock` is caught offline (`--check`, run by `make install` and `make lint`).
Resolution is universal (every platform's markers) for Python 3.12; an existing pin is kept
unless `make lock UPGRADE=1`.

    python -m infra.lock [--upgrade]   # resolve again and rewrite both files
    python -m infra.lock --check       # exit 1 when they are stale or disagree
    python -m infra.lock --uv          # the uv requirement pyproject.toml pins (to install it)
"""

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
LAYER_REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
PYTHON_VERSION = "3.12"
DIGEST_LINE = re.compile(r"^# pyproject-dependencies-sha256: ([0-9a-f]{64})$", re.MULTILINE)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def project() -> dict:
    with open(PYPROJECT, "rb") as handle:
        return tomllib.load(handle)["project"]


def dependencies_digest() -> str:
    """The hash of what the lock files are resolved from: the runtime and dev dependency lists."""
    declared = project()
    relevant = {
        "requires-python": declared["requires-python"],
        "dependencies": declared["dependencies"],
        "dev": declared["optional-dependencies"]["dev"],
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    return {canonical(name): version for name, version in PIN.findall(text)}


def uv_requirement() -> str:
    return next(
        requirement
        for requirement in project()["optional-dependencies"]["dev"]
        if canonical(requirement.split("==")[0]) == "uv"
    )


def header(what: str) -> str:
    return (
        f"# {what}\n# Resolved by `make lock` (infra/lock.py) from pyproject.toml; do not edit.\n"
        f"# pyproject-dependencies-sha256: {dependencies_digest()}\n"
    )


def _compile(output: Path, extra_arguments: list[str], upgrade: bool) -> str:
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        raise SystemExit(
            f"uv is not installed in this environment: {sys.executable} -m pip install '{uv_requirement()}'"
        )
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / output.name
        if output.exists() and not upgrade:
            target.write_text(output.read_text())  # uv keeps the pins it finds there
        command = [
            str(uv),
            "pip",
            "compile",
            str(PYPROJECT.relative_to(ROOT)),
            "--generate-hashes",
            "--universal",
            "--python-version",
            PYTHON_VERSION,
            "--quiet",
            "--custom-compile-command",
            "make lock",
            "-o",
            str(target),
            *extra_arguments,
            *(["--upgrade"] if upgrade else []),
        ]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"uv pip compile failed:\n{result.stderr}")
        return target.read_text()


def write(upgrade: bool = False) -> None:
    resolved = _compile(LOCK, ["--extra", "dev"], upgrade)
    LOCK.write_text(header("Every dependency of the dev environment (.venv, docker image), with hashes.") + resolved)
    # The layer: runtime dependencies only, constrained to exactly the versions just locked.
    layer = _compile(LAYER_REQUIREMENTS, ["--constraint", str(LOCK.relative_to(ROOT))], upgrade=True)
    LAYER_REQUIREMENTS.write_text(header("The shared layer's runtime dependencies (sam build), with hashes.") + layer)
    print(
        f"wrote {LOCK.relative_to(ROOT)} ({len(pins(resolved))} packages) and "
        f"{LAYER_REQUIREMENTS.relative_to(ROOT)} ({len(pins(layer))} packages)"
    )


def problems() -> list[str]:
    """Why the lock files do not match pyproject.toml or each other (empty: they do)."""
    found = []
    digest = dependencies_digest()
    texts = {}
    for path in (LOCK, LAYER_REQUIREMENTS):
        name = path.relative_to(ROOT)
        if not path.exists():
            found.append(f"{name} is missing")
            continue
        texts[path] = path.read_text()
        recorded = DIGEST_LINE.search(texts[path])
        if not recorded or recorded.group(1) != digest:
            found.append(f"{name} was not resolved from the current pyproject.toml dependencies")
        unhashed = [
            line.split()[0] for line in texts[path].splitlines() if PIN.match(line) and not line.rstrip().endswith("\\")
        ]
        if unhashed:
            found.append(f"{name}: no hashes for {', '.join(unhashed)}")
    if len(texts) == 2:
        locked, layer = pins(texts[LOCK]), pins(texts[LAYER_REQUIREMENTS])
        differ = sorted(
            f"{name} {version} (lock: {locked.get(name, 'absent')})"
            for name, version in layer.items()
            if locked.get(name) != version
        )
        if differ:
            found.append(
                f"{LAYER_REQUIREMENTS.relative_to(ROOT)} differs from {LOCK.relative_to(ROOT)}: {', '.join(differ)}"
            )
        declared = project()["dependencies"] + project()["optional-dependencies"]["dev"]
        for name, version in pins("\n".join(declared)).items():
            if locked.get(name) != version:
                found.append(
                    f"pyproject.toml pins {name}=={version}, {LOCK.relative_to(ROOT)} has {locked.get(name, 'nothing')}"
                )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="fail when the lock files are stale")
    action.add_argument("--uv", action="store_true", help="print the uv requirement pyproject.toml pins")
    parser.add_argument(
        "--upgrade", action="store_true", help="resolve the newest versions allowed, not the locked ones"
    )
    args = parser.parse_args(argv)
    if args.uv:
        print(uv_requirement())
        return 0
    if args.check:
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        if found:
            print("run `make lock`", file=sys.stderr)
        return 1 if found else 0
    write(args.upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
