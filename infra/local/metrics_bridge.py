"""The metrics bridge process `make up` starts: the functions' EMF metrics as Prometheus metrics (infra/metrics)."""

import sys

from infra.config import LOCAL_BIND_ADDRESS, METRICS_PORT, ROOT
from infra.local.aws import emulator_environment
from infra.local.processes import (
    STATE_DIR,
    connect_address,
    listener_description,
    port_accepts,
    recorded_pid,
    start_in_background,
    stop_group,
    url_answers,
)

METRICS_BRIDGE_PID = STATE_DIR / "metrics-bridge.pid"

METRICS_BRIDGE_LOG = STATE_DIR / "metrics-bridge.log"


def metrics_bridge_pid() -> int | None:
    """The pid of the bridge `make up` started, when it still runs."""
    return recorded_pid(METRICS_BRIDGE_PID, b"infra.metrics.bridge")


def start_metrics_bridge(stack: str) -> bool:
    """Start the EMF -> Prometheus bridge (infra/metrics) for a stack's functions; True when started here."""
    if metrics_bridge_pid() is not None:
        return False
    if port_accepts(METRICS_PORT):
        raise SystemExit(
            f"port {METRICS_PORT} is taken by {listener_description(METRICS_PORT)}, not by this checkout's metrics bridge. "
            "Stop it (`make down` in the checkout that started it) or give this checkout another port: METRICS_PORT=<free port>"
        )
    STATE_DIR.mkdir(exist_ok=True)
    # Each poll makes the emulator scan every log stream of every function, holding the lock its
    # log writes need: every 10 s, not every 2 s.
    # --prune-streams: the emulator keeps every log stream (one per function and 10 s) until it is deleted.
    command = [
        sys.executable,
        "-m",
        "infra.metrics.bridge",
        "--stack",
        stack,
        "--address",
        LOCAL_BIND_ADDRESS,
        "--port",
        str(METRICS_PORT),
        "--interval",
        "10",
        "--prune-streams",
    ]
    start_in_background(
        "the metrics bridge",
        command,
        METRICS_BRIDGE_LOG,
        METRICS_BRIDGE_PID,
        ROOT,
        emulator_environment(),
        lambda: url_answers(f"http://{connect_address()}:{METRICS_PORT}/metrics"),
        seconds=30,
    )
    return True


def stop_metrics_bridge() -> bool:
    pid = metrics_bridge_pid()
    METRICS_BRIDGE_PID.unlink(missing_ok=True)
    if pid is None:
        return False
    stop_group(pid, grace_seconds=10)  # the bridge saves its cursor and totals on SIGTERM
    return True
