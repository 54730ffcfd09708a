"""The MiniStack version every module of this package was written against, and the check each makes.

Each change replaces or wraps a piece of MiniStack's code; each checks first that the piece is the
one it was written for (its source's sha256, its signature), so that an upgrade of MiniStack stops
the emulator with a message instead of silently patching something else, and
``tests/unit/test_patient_instances.py`` fails.
"""

import hashlib
import inspect
from importlib.metadata import version

PINNED_VERSION = "1.5.33"
# sha256 of the source of Worker._spawn that shared_unpacking and yielding_instances were written against.
SPAWN_SOURCE_SHA256 = "c55febf956565c5e83b8a36e069852483461164e899afa9c735a17e138ad1c93"


def require_pinned(what: str, found: object, expected: object) -> None:
    """Stop unless MiniStack is the pinned version and ``what`` is as this package was written for."""
    installed = version("ministack")
    if installed != PINNED_VERSION or found != expected:
        raise SystemExit(
            f"MiniStack {installed}: {what} is not the one infra/emulator/ "
            f"was written for ({PINNED_VERSION}, {expected}); revisit it"
        )


def source_sha256(function: object) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
