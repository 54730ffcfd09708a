"""`sam build`, skipped when the sources it is made from hash the same as last time."""

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from infra.bytecode import compile_build
from infra.config import ROOT
from infra.local.aws import emulator_environment
from infra.local.processes import STATE_DIR, log

BUILD_DIR = ROOT / ".aws-sam" / "build"
SOURCES = ("template.yaml", "samconfig.toml", "functions", "layers")


def source_files(root: Path = ROOT) -> dict[str, bytes]:
    """Every file the build is made from (relative path -> content), in a stable order."""
    files: dict[str, bytes] = {}
    for source in SOURCES:
        path = root / source
        found = (
            [path]
            if path.is_file()
            else sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        )
        for file in found:
            files[str(file.relative_to(root))] = file.read_bytes()
    return files


def sources_digest(files: dict[str, bytes] | None = None) -> str:
    digest = hashlib.sha256()
    for name, content in (source_files() if files is None else files).items():
        digest.update(name.encode())
        digest.update(content)
    return digest.hexdigest()


def run_sam(arguments: list[str]) -> None:
    """Run SAM CLI against the emulator; its chatter goes to .local/sam.log, shown on failure."""
    STATE_DIR.mkdir(exist_ok=True)
    sam_log = STATE_DIR / "sam.log"
    with open(sam_log, "w") as output:
        result = subprocess.run(
            ["sam", *arguments],
            cwd=ROOT,
            env=emulator_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    if result.returncode != 0:
        sys.stderr.write(sam_log.read_text()[-4000:])
        raise SystemExit(f"sam {arguments[0]} failed (exit {result.returncode}); full output in {sam_log}")


def build(digest: str, config_env: str = "local") -> None:
    marker = STATE_DIR / "build.sha256"
    if marker.exists() and marker.read_text() == digest and (BUILD_DIR / "template.yaml").exists():
        log("build is up to date")
        return
    started = time.monotonic()
    run_sam(["build", "--config-env", config_env])
    compile_build(BUILD_DIR)
    STATE_DIR.mkdir(exist_ok=True)
    marker.write_text(digest)
    log(f"sam build: {time.monotonic() - started:.1f}s")
