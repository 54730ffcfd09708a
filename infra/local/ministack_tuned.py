"""MiniStack as the launcher runs it: its own entry point, with a shorter wait for late log lines.

After each invocation MiniStack's Python worker (``ministack.core.lambda_runtime.Worker``)
keeps draining the function's stderr until no line has come for ``idle_confirm`` seconds
(5 ms in 1.5.33) while it still holds the instance: every request pays it in latency and
keeps its instance busy that much longer, so a burst needs more instances. The functions
write their log lines (and the EMF record) before returning, through a pipe the drain reads
from, so 1 ms of quiet is enough here. Written against the pinned MiniStack version:
``tests/unit/test_local_emulator.py`` fails when that version or the drain's signature
changes, so an upgrade revisits this instead of silently patching something else.

    python infra/local/ministack_tuned.py   # what `make up` and the e2e tests start
"""

import inspect
from importlib.metadata import version

PINNED_VERSION = "1.5.33"
DRAIN_DEFAULTS = {"first_line_wait": 0.050, "idle_confirm": 0.005, "hard_cap": 0.250}
IDLE_CONFIRM_SECONDS = 0.001


def shorten_log_drain() -> None:
    from ministack.core.lambda_runtime import Worker

    installed = version("ministack")
    drain = Worker._drain_stderr_bounded
    defaults = {name: parameter.default for name, parameter in inspect.signature(drain).parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    if installed != PINNED_VERSION or defaults != DRAIN_DEFAULTS:
        raise SystemExit(f"MiniStack {installed}: its log drain is not the one infra/local/ministack_tuned.py "
                         f"was written for ({PINNED_VERSION}, {DRAIN_DEFAULTS}); revisit it")
    drain.__defaults__ = (DRAIN_DEFAULTS["first_line_wait"], IDLE_CONFIRM_SECONDS, DRAIN_DEFAULTS["hard_cap"])


def main() -> None:
    shorten_log_drain()
    from ministack.app import main as ministack_main

    ministack_main()


if __name__ == "__main__":
    main()
