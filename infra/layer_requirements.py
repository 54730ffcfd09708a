"""Write layers/common/requirements.txt from pyproject.toml's runtime dependencies.

    python -m infra.layer_requirements           # rewrite the file
    python -m infra.layer_requirements --check   # exit 1 when it differs
"""

import sys
import tomllib

from infra.config import ROOT
from infra import generated_files

REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"


def render() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    header = "# GENERATED from pyproject.toml [project].dependencies by `make layer-requirements`; do not edit.\n"
    return header + "".join(f"{requirement}\n" for requirement in dependencies)


def main(argv: list[str] | None = None) -> int:
    return generated_files.run(argv, __doc__.splitlines()[0], [REQUIREMENTS], render, "layer-requirements")

if __name__ == "__main__":
    sys.exit(main())
