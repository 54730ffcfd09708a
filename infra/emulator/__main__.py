"""``python -m infra.emulator``: MiniStack with every change of this package, served on uvicorn.

The launcher starts it from the checkout's root (so ``infra`` imports without PYTHONPATH, which the
functions' workers would inherit); docker compose's ``ministack`` service runs the same command.
"""

import tempfile
from pathlib import Path

from infra.emulator.direct_invocations import direct_invocations
from infra.emulator.frozen_old_objects import frozen_old_objects
from infra.emulator.lazy_invoke_depth import lazy_invoke_depth
from infra.emulator.patient_instances import patient_instances
from infra.emulator.runtime_packages import runtime_packages
from infra.emulator.serve import serve
from infra.emulator.shared_unpacking import shared_unpacking
from infra.emulator.streams_per_interval import streams_per_interval
from infra.emulator.yielding_instances import yielding_instances


def main() -> None:
    patient_instances()
    shared_unpacking()
    streams_per_interval()
    lazy_invoke_depth()
    runtime_packages(Path(tempfile.gettempdir()) / "lambda-runtime")
    yielding_instances()
    direct_invocations()
    frozen_old_objects()
    serve()


if __name__ == "__main__":
    main()
