"""The one command line of every generated file: write it, or `--check` that it is current."""

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from infra.config import ROOT


def run(
    argv: list[str] | None, description: str, targets: Sequence[Path], render: Callable[[], str], make_target: str
) -> int:
    """Every target gets the same text."""
    return run_files(argv, description, lambda: dict.fromkeys(targets, render()), make_target)


def run_files(
    argv: list[str] | None, description: str, render: Callable[[], Mapping[Path, str]], make_target: str
) -> int:
    """Each target path gets its own text."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail when a generated file is not up to date")
    args = parser.parse_args(argv)
    texts = render()
    if args.check:
        stale = [
            str(path.relative_to(ROOT)) for path, text in texts.items() if not path.exists() or path.read_text() != text
        ]
        if stale:
            print(f"{', '.join(stale)} stale: run `make {make_target}`", file=sys.stderr)
            return 1
        return 0
    for path, text in texts.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
