"""Yielding bcrypt instances: the login function's instances run at a lower CPU priority.

On AWS each instance has CPU of its own, so a login burst does not slow other routes; here every
function shares the machine's cores. ``yielding_instances`` lets a login burst take the cores the
other requests leave idle instead of half the machine.
"""

import os
from collections.abc import Callable
from typing import Any

from infra.emulator.pinned import SPAWN_SOURCE_SHA256, require_pinned, source_sha256

# The functions whose instances yield the CPU to the others: the bcrypt routes' function (its own
# function so that a login burst cannot starve the rest; on AWS its instances have CPUs of their own).
YIELDING_FUNCTIONS = ("IdentityCredentialsFunction",)
YIELDING_NICENESS = 10


def lower_priority_after(spawn: Callable[..., None], functions: tuple[str, ...], niceness: int) -> Callable[..., None]:
    """``spawn`` (Worker._spawn), then the new instance's process at ``niceness`` if its function is one of ``functions``."""

    def spawn_and_yield(worker: Any, *args: Any, **kwargs: Any) -> None:
        spawn(worker, *args, **kwargs)
        if worker._proc is not None and any(name in worker.func_name for name in functions):
            os.setpriority(os.PRIO_PROCESS, worker._proc.pid, niceness)

    return spawn_and_yield


def yielding_instances(functions: tuple[str, ...] = YIELDING_FUNCTIONS, niceness: int = YIELDING_NICENESS) -> None:
    """Run the bcrypt function's instances at a lower CPU priority than the other functions'.

    Here every function shares the same two cores: the load test's 100 logins at its start (bcrypt
    cost 12, ~0.28 s of CPU each) took a whole core for ~15 s, and every other request of that
    time queued for the other one. On AWS each instance has CPU of its own, so a login burst does
    not slow `GET /courses`. At niceness 10 the bcrypt instances still get every cycle the others
    leave idle, but give way whenever another request needs a core: the other routes see what they
    would see on AWS, and logins (throttled with 429 by the function's reserved concurrency, as
    before) take the time that is left.
    """
    from ministack.core import lambda_runtime

    spawn = lambda_runtime.Worker._spawn
    require_pinned("Worker._spawn", source_sha256(spawn), SPAWN_SOURCE_SHA256)
    lambda_runtime.Worker._spawn = lower_priority_after(spawn, functions, niceness)
