"""Write layers/common/requirements.txt from pyproject.toml's runtime dependencies.

    python -m infra.layer_requirements           # rewrite the file
    python -m infra.layer_requirements --check   # exit 1 when it differs
"""

import argparse
import sys
import tomllib

from infra.config import ROOT

REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"


def render() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    header = "# GENERATED from pyproject.toml [project].dependencies by `make layer-requirements`; do not edit.\n"
    return header + "".join(f"{requirement}\n" for requirement in dependencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not REQUIREMENTS.exists() or REQUIREMENTS.read_text() != text:
            print("layers/common/requirements.txt is stale: run `make layer-requirements`", file=sys.stderr)
            return 1
        return 0
    REQUIREMENTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
