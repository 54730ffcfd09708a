"""MiniStack as the launcher runs it: its own entry point, invocations without a reader thread or a
timed wait for late log lines, patient instance starts, unpacked code shared between instances, log
streams per 10 seconds and an invocation-depth counter that costs nothing until a function imports
botocore. Each patch is written against the pinned MiniStack version and checks the code it replaces
(``require_pinned``): an upgrade stops the launcher with a message instead of silently patching
something else, and ``tests/unit/test_patient_instances.py`` fails.

Direct invocations: MiniStack's ``Worker.invoke`` starts a thread per invocation to read the
answer, then keeps draining the function's stderr, polling every millisecond, until no line has
come for 5 ms, while it still holds the instance: every request paid it in latency and kept its
instance busy that much longer. ``direct_invocations`` reads the answer in the invoking thread
and ends the log lines at a marker the worker script writes after each invocation
(``logs_until_end_marker``). ``frozen_old_objects`` keeps the emulator's long-lived objects out of
its full garbage collections, which stalled every request for 100-140 ms every ~20 s.

Patient instance starts: MiniStack, like AWS, starts a new instance of a function for every
invocation that finds all of its instances busy. On AWS the new instance runs on hardware of its
own; here it costs ~0.7 s of CPU on the same two cores that serve the requests, so a burst that
outruns the instances makes every request slower, which keeps more instances busy, which starts
more (issue 11: 60-90 worker processes and multi-second tails). ``patient_instances`` changes
that locally: a function keeps its provisioned instances (``PutProvisionedConcurrencyConfig``,
which `make up`'s warm-up sets and MiniStack otherwise only records) and may grow past them only
after an invocation has waited ``INSTANCE_SPAWN_GRACE_MS`` for one of its instances to come free;
at ``INSTANCE_CEILING`` instances it waits for a free one up to the function's timeout. Nothing
is refused: a wait replaces a start, and a start still happens when waiting does not help.

Shared unpacked code: every new instance writes its function's zip and the 15 MB layer zip
into a fresh folder and unpacks them there (checking each of the layer's ~4,000 paths on the
way), ~0.15 s of the emulator's CPU per instance and as much again to delete the folder when
the instance goes; `make sync`'s new instance waits for it too. ``shared_unpacking`` makes
MiniStack's extraction unpack each distinct zip once, into ``$TMPDIR/unpacked/<digest of its
entries>``, and fill an instance's folder with links to that tree. The code is read-only
for a function (as on AWS), so instances cannot disturb each other through it.

Log streams per 10 seconds: MiniStack writes every invocation to a log stream of its own (AWS
writes an execution environment's invocations to one stream). The metrics bridge deletes the
streams it has read so the emulator's memory stays flat, which at 50 requests a second was 50
``DeleteLogStream`` calls a second, a third of the bridge's and a good part of the emulator's
CPU. ``streams_per_interval`` makes a function's invocations of the same 10 seconds share one
stream (``yyyy/mm/dd/[$LATEST]`` then the interval's number, in place of a random id).

Lazy invocation-depth counter: MiniStack's Python worker imports botocore before the function's
code to count nested invocations (~0.4 s of every instance start); ``lazy_invoke_depth``
registers the same counter when the function imports botocore itself.

HTTP server: MiniStack's own entry point serves its ASGI app with hypercorn, whose pure-Python
HTTP/1.1 parser (h11) was ~30 % of the emulator's CPU on reads, and every request crosses the
emulator at least once (a write twice: the API call, then its PutEvents). ``serve`` runs the same
app on uvicorn with httptools' C parser and uvloop: 17 % less emulator CPU under the load mix
(docs/performance.md). It answers as MiniStack's hypercorn configuration does: no Server header,
one Date header (the app's own), 75 s keep-alive, ASGI lifespan for MiniStack's start-up work.

Yielding bcrypt instances: the login function's instances run at a lower CPU priority
(``yielding_instances``), so a login burst takes the cores the other requests leave idle
instead of half the machine, as separate hardware would give it on AWS.

    python infra/local/ministack_tuned.py   # what `make up` and the e2e tests start
"""

import hashlib
import inspect
import json
import os
import queue
import select
import shutil
import tempfile
import threading
import time
import types
import zipfile
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

PINNED_VERSION = "1.5.33"


def require_pinned(what: str, found: object, expected: object) -> None:
    """Stop unless MiniStack is the pinned version and ``what`` is as this module was written for."""
    installed = version("ministack")
    if installed != PINNED_VERSION or found != expected:
        raise SystemExit(
            f"MiniStack {installed}: {what} is not the one infra/local/ministack_tuned.py "
            f"was written for ({PINNED_VERSION}, {expected}); revisit it"
        )


def source_sha256(function: object) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


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


# sha256 of the source of Worker._spawn that shared_unpacking was written against.
SPAWN_SOURCE_SHA256 = "c55febf956565c5e83b8a36e069852483461164e899afa9c735a17e138ad1c93"


class SharedUnpackingZipFile(zipfile.ZipFile):
    """A ZipFile whose extractall links to one shared unpacked copy of the same entries."""

    def namelist(self) -> list[str]:
        # MiniStack resolves every name to refuse paths escaping the folder before extractall
        # (~4,000 realpath calls for the layer); zipfile's own extractall, which unpacks the
        # shared copy, already keeps every entry inside the folder it unpacks to.
        return []

    def extractall(self, path=None, members=None, pwd=None) -> None:
        if members is not None or pwd is not None or path is None:
            return super().extractall(path, members, pwd)
        shared = self._shared_copy()
        for entry in os.listdir(shared):
            os.symlink(os.path.join(shared, entry), os.path.join(path, entry))

    def _shared_copy(self) -> str:
        digest = hashlib.sha256()
        for info in self.infolist():
            digest.update(f"{info.filename}\0{info.CRC}\0{info.file_size}\0".encode())
        root = os.path.join(tempfile.gettempdir(), "unpacked")
        shared = os.path.join(root, digest.hexdigest()[:32])
        if not os.path.isdir(shared):
            os.makedirs(root, exist_ok=True)
            unpacking = tempfile.mkdtemp(dir=root, prefix="unpacking-")
            super().extractall(unpacking, self.infolist())  # namelist() is empty here, see above
            try:
                os.rename(unpacking, shared)
            except OSError:  # another instance unpacked the same zip meanwhile
                shutil.rmtree(unpacking, ignore_errors=True)
        return shared


def shared_unpacking() -> None:
    from ministack.core import lambda_runtime

    require_pinned("Worker._spawn", source_sha256(lambda_runtime.Worker._spawn), SPAWN_SOURCE_SHA256)
    require_pinned("lambda_runtime's zipfile", lambda_runtime.zipfile, zipfile)
    shim = types.ModuleType("zipfile_shared_unpacking")
    shim.__dict__.update(vars(zipfile))
    shim.ZipFile = SharedUnpackingZipFile
    lambda_runtime.zipfile = shim


STREAM_INTERVAL_SECONDS = 10
# sha256 of the source of lambda_svc._emit_lambda_logs that streams_per_interval was written against.
EMIT_LOGS_SOURCE_SHA256 = "111efbf06968bb207427d25f6070f8048962a56385e2f7c62bb76b5f9d051720"


def streams_per_interval(interval_seconds: int = STREAM_INTERVAL_SECONDS) -> None:
    """Name an invocation's log stream after its function's current interval instead of a new id.

    ``_emit_lambda_logs`` calls ``new_uuid()`` once, for the stream's name: while it runs (one
    invocation at a time, so two first writes to an interval cannot each create the stream) that
    call answers the interval's number.
    """
    from ministack.services import lambda_svc

    emit = lambda_svc._emit_lambda_logs
    require_pinned("_emit_lambda_logs", source_sha256(emit), EMIT_LOGS_SOURCE_SHA256)
    new_uuid = lambda_svc.new_uuid
    emitting = threading.local()
    one_at_a_time = threading.Lock()

    def stream_id() -> str:
        interval = getattr(emitting, "interval", None)
        return new_uuid() if interval is None else f"{interval:032x}"

    def emit_in_interval_stream(*args, **kwargs) -> None:
        with one_at_a_time:
            emitting.interval = int(time.time() // interval_seconds)
            try:
                emit(*args, **kwargs)
            finally:
                emitting.interval = None

    lambda_svc.new_uuid = stream_id
    lambda_svc._emit_lambda_logs = emit_in_interval_stream


# sha256 of lambda_runtime.INVOKE_DEPTH_BOOTSTRAP that lazy_invoke_depth was written against.
INVOKE_DEPTH_BOOTSTRAP_SHA256 = "d23b681ddb7ed8e346f0f848f05489e3feb3e468abbbbaef972682f3a0039564"
# The same counter, registered when the function's code imports botocore.handlers instead of by
# importing it first. MiniStack's tokens (__DEPTH_ENV__, __DEPTH_HEADER__) are substituted by it.
LAZY_INVOKE_DEPTH_BOOTSTRAP = """
def _ms_install_invoke_depth():
    import importlib.machinery
    import os
    import sys

    def _ms_add_invoke_depth(params, **kwargs):
        depth = os.environ.get("__DEPTH_ENV__")
        if depth and "__DEPTH_HEADER__" not in params["headers"]:
            params["headers"]["__DEPTH_HEADER__"] = depth

    def register(handlers):
        handlers.BUILTIN_HANDLERS.append(("before-call", _ms_add_invoke_depth))

    class RegisterOnImport:  # a meta path finder (importlib.abc costs 45 ms to import)
        def find_spec(self, fullname, path, target=None):
            if fullname != "botocore.handlers":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                execute = spec.loader.exec_module

                def execute_and_register(module):
                    execute(module)
                    register(module)

                spec.loader.exec_module = execute_and_register
            return spec

    if "botocore.handlers" in sys.modules:
        register(sys.modules["botocore.handlers"])
    else:
        sys.meta_path.insert(0, RegisterOnImport())
"""


def lazy_invoke_depth() -> None:
    """Register MiniStack's recursion-depth counter when a function imports botocore, not before.

    MiniStack's Python worker imports ``botocore.handlers`` before the function's module, to add a
    handler that counts nested invocations: ~0.4 s of every instance start here, for functions
    that mostly never call AWS (on AWS nothing is imported before the function's own code). The
    worker now registers the same handler from an import hook, right after ``botocore.handlers``
    runs and before any client can copy its handlers: a function that uses botocore is counted as
    before, one that does not pays nothing.
    """
    from ministack.core import lambda_runtime

    bootstrap = lambda_runtime.INVOKE_DEPTH_BOOTSTRAP
    found = hashlib.sha256(bootstrap.encode()).hexdigest()
    require_pinned("INVOKE_DEPTH_BOOTSTRAP", found, INVOKE_DEPTH_BOOTSTRAP_SHA256)
    worker_script = lambda_runtime._PYTHON_WORKER_SCRIPT
    require_pinned("the Python worker script's start", worker_script.startswith(bootstrap), True)
    lazy = lambda_runtime._sub_runtime_tokens(LAZY_INVOKE_DEPTH_BOOTSTRAP)
    lambda_runtime._PYTHON_WORKER_SCRIPT = lazy + worker_script[len(bootstrap) :]


# sha256 of the source of Worker.invoke that direct_invocations was written against.
INVOKE_SOURCE_SHA256 = "96751a75471021ecc05362bd28031305be50ff352345c5f7b1f9b7924a467b31"
# The end of one invocation in the Python worker script: the handler's result goes to stdout.
WORKER_INVOCATION_END = """        try:
            result = handler_fn(event, context)
            _real_stdout.write(json.dumps({"status": "ok", "result": result}) + "\\n")
        except Exception as e:
            _real_stdout.write(json.dumps({"status": "error", "error": str(e), "trace": traceback.format_exc()}) + "\\n")
        _real_stdout.flush()
"""
# Written to stderr after every invocation, followed by the request id: the invocation's last log line came before it.
END_OF_LOGS = "\x1eministack-tuned:end-of-invocation-logs:"
# The same, closing the invocation's log lines on stderr (where the worker sends sys.stdout too) before the
# result is flushed to stdout: when the emulator reads the result, the marker is already on its way.
WORKER_INVOCATION_END_MARKED = WORKER_INVOCATION_END.replace(
    "        _real_stdout.flush()\n",
    f'        sys.stderr.write({END_OF_LOGS!r} + _ms_ctx.get("request_id", "") + "\\n")\n'
    "        sys.stderr.flush()\n"
    "        _real_stdout.flush()\n",
)
LOG_WAIT_CAP_SECONDS = 0.25  # MiniStack's own cap on the wait for late log lines
MAX_NON_PROTOCOL_LINES = 200


def read_response(proc, timeout_seconds: float) -> dict | None:
    """The worker's JSON answer to the invocation just written, read in the calling thread; None on timeout.

    Stray lines a module printed to the real stdout are skipped, as MiniStack's reader does (200 at most).
    """
    stdout = proc.stdout.fileno()
    poller = select.poll()
    poller.register(stdout, select.POLLIN)
    deadline = time.monotonic() + timeout_seconds
    pending = bytearray()
    lines_read = 0
    while True:
        end = pending.find(b"\n")
        while end >= 0:
            line = bytes(pending[:end]).strip()
            del pending[: end + 1]
            if line:
                lines_read += 1
                if lines_read > MAX_NON_PROTOCOL_LINES:
                    return {
                        "status": "error",
                        "error": f"No JSON response from worker after {MAX_NON_PROTOCOL_LINES} lines",
                    }
                try:
                    response = json.loads(line) if line.startswith(b"{") else None
                except ValueError:
                    response = None
                if isinstance(response, dict) and response.get("status") in ("ok", "error"):
                    return response
            end = pending.find(b"\n")
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            return None
        chunk = os.read(stdout, 1 << 16)
        if not chunk:
            return {"status": "error", "error": "Worker process died"}
        pending += chunk


def logs_until_end_marker(log_lines: queue.Queue, request_id: str, cap_seconds: float = LOG_WAIT_CAP_SECONDS) -> str:
    """The invocation's log lines: everything queued before its end marker (at most ``cap_seconds`` of waiting)."""
    marker = END_OF_LOGS + request_id
    deadline = time.monotonic() + cap_seconds
    lines = []
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = log_lines.get(timeout=remaining)
        except queue.Empty:
            break
        if line == marker:
            break
        if not line.startswith(END_OF_LOGS):  # an earlier invocation's, whose wait ran out
            lines.append(line)
    return "\n".join(lines)


def direct_invoke(invoke: Callable[..., dict]) -> Callable[..., dict]:
    """``Worker.invoke`` for Python functions without a reader thread per invocation or a timed log drain."""
    from ministack.core import lambda_runtime
    from ministack.core.lambda_runtime import logger

    def invoke_directly(
        worker, event, request_id: str, *, trace_id=None, depth=None, durable=None, invoked_function_arn=None
    ) -> dict:
        if not str(worker.config.get("Runtime", "")).startswith("python"):
            return invoke(
                worker,
                event,
                request_id,
                trace_id=trace_id,
                depth=depth,
                durable=durable,
                invoked_function_arn=invoked_function_arn,
            )

        def end_instance() -> None:  # as MiniStack ends an instance after a timeout or an error
            proc, worker._proc = worker._proc, None
            lambda_runtime._signal(proc)
            lambda_runtime._collect(proc, time.monotonic() + lambda_runtime._REAP_GRACE)

        with worker._lock:
            cold = worker._proc is None or worker._proc.poll() is not None
            if cold:
                worker._spawn()
                worker._cold = False
            timeout = worker.config.get("Timeout", 30)
            envelope = {
                "event": event,
                "ctx": {
                    "request_id": request_id,
                    "invoked_function_arn": invoked_function_arn
                    if invoked_function_arn is not None
                    else worker.config.get("FunctionArn", ""),
                    "timeout_ms": int(float(timeout) * 1000),
                    "trace_id": trace_id,
                    "depth": depth,
                    "durable": durable or {},
                },
            }
            try:
                worker._proc.stdin.write(json.dumps(envelope) + "\n")
                worker._proc.stdin.flush()
                response = read_response(worker._proc, float(timeout))
            except Exception as exc:  # a broken pipe: the worker is gone
                response = {"status": "error", "error": str(exc)}
            if response is None:
                logger.warning("Lambda %s timed out after %ds — killing worker", worker.func_name, timeout)
                end_instance()
                return {
                    "status": "error",
                    "error": f"Task timed out after {timeout}.00 seconds",
                    "cold_start": cold,
                    "log": worker._drain_stderr(),
                }
            if response.get("status") == "error":
                end_instance()
            response["cold_start"] = cold
            response["log"] = logs_until_end_marker(worker._stderr_queue, request_id)
            return response

    return invoke_directly


def direct_invocations() -> None:
    """Invoke Python functions' instances from the calling thread and wait for their logs' end marker.

    MiniStack's ``Worker.invoke`` starts a thread per invocation to read the answer and then polls
    the stderr queue every millisecond until it has been quiet for a while: two thread hand-offs
    and a few wake-ups per request in the emulator's one process, where every thread waits for the
    same interpreter lock (under the load mix, the drain alone was 1.5 ms at the median and 6 ms at
    p95 of every invocation). Here the invoking thread writes the event and polls the instance's
    stdout itself, with the function's timeout, and the worker script writes an end marker to
    stderr after each invocation, so the log lines are complete as soon as the marker is read.
    Timeouts, errors and dead workers end as in MiniStack's own invoke.
    """
    from ministack.core import lambda_runtime

    invoke = lambda_runtime.Worker.invoke
    require_pinned("Worker.invoke", source_sha256(invoke), INVOKE_SOURCE_SHA256)
    script = lambda_runtime._PYTHON_WORKER_SCRIPT
    require_pinned("the Python worker script's invocation end", script.count(WORKER_INVOCATION_END), 1)
    lambda_runtime._PYTHON_WORKER_SCRIPT = script.replace(WORKER_INVOCATION_END, WORKER_INVOCATION_END_MARKED)
    lambda_runtime.Worker.invoke = direct_invoke(invoke)


FREEZE_FIRST_AFTER_SECONDS = 60.0
FREEZE_EVERY_SECONDS = 600.0


def frozen_old_objects(
    first_after: float = FREEZE_FIRST_AFTER_SECONDS, every: float = FREEZE_EVERY_SECONDS
) -> threading.Thread:
    """Keep the objects the emulator holds for good out of its full garbage collections.

    Every ~20 s under the load mix CPython ran a full collection of the emulator's ~170,000 objects
    (its modules, the deployed stack, the templates it transformed), 100-140 ms with the interpreter
    lock held: every request in flight stalled, which was the load runs' p99. A minute after start
    (the deploy is done by then) and every 10 minutes after, this collects once and freezes what
    is left (``gc.freeze``): later full collections scan only the objects created since. Collecting
    first means no garbage is frozen; an object frozen and dropped later is freed by its reference
    count as before.
    """
    import gc

    def collect_and_freeze() -> None:
        time.sleep(first_after)
        while True:
            gc.collect()
            gc.freeze()
            time.sleep(every)

    thread = threading.Thread(target=collect_and_freeze, daemon=True, name="freeze-old-objects")
    thread.start()
    return thread


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


def main() -> None:
    patient_instances()
    shared_unpacking()
    streams_per_interval()
    lazy_invoke_depth()
    yielding_instances()
    direct_invocations()
    frozen_old_objects()
    serve()


def serve() -> None:
    """MiniStack's ASGI app on uvicorn (httptools, uvloop) where MiniStack's main would use hypercorn."""
    import resource

    import uvicorn
    from ministack.app import LOG_LEVEL, _resolve_port, app

    # As MiniStack's main does: a burst of connections must not run into the default 1024 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvicorn.run(
        app,
        host=os.environ.get("BIND_HOST", "0.0.0.0"),
        port=int(_resolve_port()),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level=LOG_LEVEL.lower(),
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
