"""Compile a SAM build's Python code to bytecode that a fresh function instance really uses.

`sam build` leaves ``__pycache__`` out of the build (aws-lambda-builders excludes it) and
`sam deploy` zips whatever the build folder holds. Unzipping (the emulator's extractall,
like Lambda's) gives every file a new modification time, so ordinary timestamp-checked
``.pyc`` files would be stale on arrival, and a read-only code folder (AWS) or a fresh
temporary one per instance (the emulator) means each cold start compiles again. Hash-checked
bytecode (PEP 552) is validated against the source's content instead of its timestamp, so
it stays valid after unzipping and is still never used for a changed source.

    python -m infra.bytecode .aws-sam/build   # between `sam build` and `sam deploy`
"""

import argparse
import compileall
import py_compile
import sys
from pathlib import Path


def compile_build(build_dir: Path) -> None:
    """Compile every ``.py`` under ``build_dir`` (functions and layers) to hash-checked bytecode."""
    if sys.version_info[:2] != (3, 12):
        raise SystemExit("bytecode must be compiled by the functions' runtime, Python 3.12")
    ok = compileall.compile_dir(
        build_dir, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
    )
    if not ok:
        raise SystemExit(f"compiling {build_dir} to bytecode failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path)
    compile_build(parser.parse_args(argv).build_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
