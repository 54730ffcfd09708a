"""Log streams per 10 seconds: a function's invocations of one interval share a log stream.

AWS writes an execution environment's invocations to one log stream; MiniStack writes every
invocation to a stream of its own. The metrics bridge deletes the streams it has read so the
emulator's memory stays flat, which at 50 requests a second was 50 ``DeleteLogStream`` calls a
second, a third of the bridge's and a good part of the emulator's CPU. ``streams_per_interval``
makes a function's invocations of the same 10 seconds share one stream (``yyyy/mm/dd/[$LATEST]``
then the interval's number, in place of a random id).
"""

import threading
import time

from infra.emulator.pinned import require_pinned, source_sha256

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
