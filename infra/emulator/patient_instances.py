"""Patient instance starts: a function keeps its provisioned instances and grows past them patiently.

MiniStack, like AWS, starts a new instance of a function for every invocation that finds all of its
instances busy. On AWS the new instance runs on hardware of its own; here it costs ~0.7 s of CPU on
the same cores that serve the requests, so a burst that outruns the instances makes every request
slower, which keeps more instances busy, which starts more (dozens of worker processes and
multi-second tails). ``patient_instances`` changes that locally: a function keeps its provisioned
instances (``PutProvisionedConcurrencyConfig``, which `make up`'s warm-up sets and MiniStack
otherwise only records) and may grow past them only after an invocation has waited
``INSTANCE_SPAWN_GRACE_MS`` for one of its instances to come free; at ``INSTANCE_CEILING``
instances it waits for a free one up to the function's timeout. Nothing is refused: a wait
replaces a start, and a start still happens when waiting does not help.
"""

import inspect
import os
import threading
import time

from infra.emulator.pinned import require_pinned

SPAWN_GRACE_SECONDS = int(os.environ.get("INSTANCE_SPAWN_GRACE_MS", "250")) / 1000
INSTANCE_CEILING = int(os.environ.get("INSTANCE_CEILING", "8"))
# What patient_instances relies on, by name: a change in any of them is a change of MiniStack's pool.
POOL_SIGNATURES = {
    "acquire_worker": "(func_name: str, config: dict, code_zip: bytes, qualifier: str = '$LATEST', "
    "max_concurrency: int | None = None)",
    "release_worker": "(worker: ministack.core.lambda_runtime.Worker) -> None",
    "_worker_key": "(func_name: str, config: dict, qualifier: str) -> str",
    "_worker_class_for": "(config: dict)",
}


class PatientPool:
    """MiniStack's worker pool with patient instance starts (module docstring)."""

    def __init__(self, runtime, provisioned, grace_seconds: float, ceiling: int) -> None:
        self.runtime = runtime
        self.provisioned = provisioned
        self.grace_seconds = grace_seconds
        self.ceiling = ceiling
        # One condition per function, all on the pool's own lock: a release and a waiting acquire
        # see the same state, and a release wakes one waiter of its own function only.
        self.released: dict[str, threading.Condition] = {}
        self.original_release = runtime.release_worker

    def acquire(
        self,
        func_name: str,
        config: dict,
        code_zip: bytes,
        qualifier: str = "$LATEST",
        max_concurrency: int | None = None,
    ):
        key = self.runtime._worker_key(func_name, config, qualifier)
        floor = max(1, self.provisioned(func_name, qualifier))
        started = time.monotonic()
        with self.runtime._lock:
            released = self.released.setdefault(key, threading.Condition(self.runtime._lock))
            while True:
                entries = self.runtime._workers.setdefault(key, [])
                free = next((worker for worker in entries if not worker.in_use), None)
                if free is not None:
                    return self._lease(free, key), "reused"
                if max_concurrency and len(entries) >= max_concurrency:
                    return None, "func_cap"
                waited = time.monotonic() - started
                patience = self.grace_seconds if len(entries) < self.ceiling else float(config.get("Timeout") or 3)
                if len(entries) < floor or waited >= patience:
                    worker = self._lease(self.runtime._worker_class_for(config)(func_name, config, code_zip), key)
                    entries.append(worker)
                    return worker, "spawn"
                released.wait(patience - waited)

    def release(self, worker) -> None:
        self.original_release(worker)
        released = self.released.get(getattr(worker, "pool_key", None))
        if released is not None:
            with released:
                released.notify()

    @staticmethod
    def _lease(worker, key: str):
        worker.in_use = True
        worker.last_used = time.time()
        worker.pool_key = key
        return worker


def provisioned_instances(func_name: str, qualifier: str) -> int:
    """The function's ``ProvisionedConcurrentExecutions`` as MiniStack recorded it (0 when none)."""
    from ministack.services import lambda_svc

    record = lambda_svc._functions.get(func_name) or {}
    config = (record.get("provisioned_concurrency") or {}).get(qualifier) or {}
    return int(config.get("RequestedProvisionedConcurrentExecutions") or 0)


def patient_instances(grace_seconds: float = SPAWN_GRACE_SECONDS, ceiling: int = INSTANCE_CEILING) -> PatientPool:
    from ministack.core import lambda_runtime
    from ministack.services import lambda_svc

    signatures = {name: str(inspect.signature(getattr(lambda_runtime, name))) for name in POOL_SIGNATURES}
    require_pinned("its worker pool", signatures, POOL_SIGNATURES)
    pool = PatientPool(lambda_runtime, provisioned_instances, grace_seconds, ceiling)
    for module in (lambda_runtime, lambda_svc):
        module.acquire_worker = pool.acquire
        module.release_worker = pool.release
    return pool
