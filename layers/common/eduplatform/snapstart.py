"""Lambda SnapStart runtime hooks: what instances restored from one snapshot must not share.

With SnapStart (docs/deploy.md) Lambda initialises a function once, when a version is published,
and starts every new instance of that version from a snapshot of its memory. A connection opened
during initialisation would be the same socket in every restored instance, long closed by the
server; a random generator seeded during initialisation would give every instance the same numbers.
A module holding such a thing registers what to do about it here, once, at its import:
``before_snapshot(close_connections)``, ``after_restore(reconnect)``. This module hands them to the
Lambda runtime's ``snapshot_restore_py`` (bundled in the Python managed runtimes) and re-seeds
``random`` after every restore. Without that library (emulators, tests) nothing is registered and
nothing runs: an instance there is never restored from a snapshot.

``uuid.uuid4()`` and ``secrets`` read the kernel's random source at each call (``os.urandom``) and
keep no state of their own in the snapshot: they need no hook.
"""

import random
from collections.abc import Callable

Hook = Callable[[], None]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []


def before_snapshot(hook: Hook) -> Hook:
    """Run ``hook`` just before Lambda takes the snapshot (hooks run in reverse order of registration)."""
    _before_snapshot.append(hook)
    return hook


def after_restore(hook: Hook) -> Hook:
    """Run ``hook`` in each instance restored from the snapshot, before its first request (in order of registration)."""
    _after_restore.append(hook)
    return hook


def run_before_snapshot() -> None:
    for hook in reversed(_before_snapshot):
        hook()


def run_after_restore() -> None:
    for hook in _after_restore:
        hook()


def reseed_random() -> None:
    """A seed of this instance's own (from os.urandom): ``random`` seeded itself at import, before the
    snapshot, so every restored instance would draw the same numbers (botocore's and redis-py's retry
    jitter among them: instances that fail together would retry in step)."""
    random.seed()


def register_with_runtime() -> bool:
    """Hand the hooks to the Lambda runtime when it has ``snapshot_restore_py``; whether it has."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(run_before_snapshot)
    register_after_restore(run_after_restore)
    return True


after_restore(reseed_random)
register_with_runtime()
