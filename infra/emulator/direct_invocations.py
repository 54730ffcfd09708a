"""Direct invocations: an instance's answer is read in the invoking thread, its log lines end at a marker.

On AWS an invocation's answer and its log lines come back as soon as the handler returns. MiniStack's
``Worker.invoke`` starts a thread per invocation to read the answer, then keeps draining the
function's stderr, polling every millisecond, until no line has come for 5 ms, while it still holds
the instance: every request paid that in latency and kept its instance busy that much longer.
``direct_invocations`` reads the answer in the invoking thread and ends the log lines at a marker
the worker script writes after each invocation (``logs_until_end_marker``).
"""

import json
import os
import queue
import select
import time
from collections.abc import Callable

from infra.emulator.pinned import require_pinned, source_sha256

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
