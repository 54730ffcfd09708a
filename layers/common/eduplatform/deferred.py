"""Work a request or batch leaves for when it is done: after its transactions have committed.

A call inside the work ``defer``s a callback (once, however often it asks); the function's
entry point (``eduplatform.http.lambda_handler``, ``eduplatform.events.queue_consumer_handler``)
runs what is deferred with ``run_deferred`` once the work has returned or raised. A callback
that fails is logged and does not change the answer already made.
"""

from collections.abc import Callable

from eduplatform.observability import logger

_deferred: list[Callable[[], None]] = []


def defer(callback: Callable[[], None]) -> None:
    if callback not in _deferred:
        _deferred.append(callback)


def run_deferred() -> None:
    while _deferred:
        callback = _deferred.pop(0)
        try:
            callback()
        except Exception:
            logger.exception(
                "deferred work failed", extra={"callback": getattr(callback, "__qualname__", repr(callback))}
            )
