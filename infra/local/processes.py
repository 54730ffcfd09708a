"""The launcher's processes: where they keep their state, how they start in the background, which
of them still run, how they are stopped, and who holds a local TCP port (so the launcher can refuse
another checkout's services loudly)."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from infra.config import LOCAL_BIND_ADDRESS, ROOT

LISTEN = "0A"
# Pid files, logs and markers of what `make up` started and deployed (never committed).
STATE_DIR = ROOT / ".local"


def connect_address(bind_address: str = LOCAL_BIND_ADDRESS) -> str:
    """Where a local client reaches a service listening on ``bind_address`` (any address: the loopback)."""
    return "127.0.0.1" if bind_address in ("0.0.0.0", "", "::") else bind_address


def log(message: str) -> None:
    print(f"[up] {message}", flush=True)


def url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_in_background(
    name: str,
    command: list[str],
    log_path: Path,
    pid_path: Path,
    cwd: Path,
    env: dict[str, str],
    ready: Callable[[], bool],
    seconds: float,
) -> None:
    """Start a long-running process detached, record its pid, and wait until ``ready()``."""
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    pid_path.write_text(str(process.pid))
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name} did not start; see {log_path}")
        time.sleep(0.3)


def recorded_pid(pid_file: Path, marker: bytes) -> int | None:
    """The pid written in ``pid_file`` when that process still runs and its command line holds ``marker``.

    (An exited child lingers as a zombie, whose command line is empty: it counts as gone.)
    """
    try:
        pid = int(pid_file.read_text().strip())
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if marker in command_line else None


def stop_group(pid: int, grace_seconds: float) -> None:
    """SIGTERM the process group ``pid`` leads, then SIGKILL it if it still runs after ``grace_seconds``."""
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            os.killpg(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def port_accepts(port: int, host: str | None = None) -> bool:
    try:
        with socket.create_connection((host or connect_address(), port), timeout=1):
            return True
    except OSError:
        return False


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listener_pid(port: int) -> int | None:
    """The pid of the process listening on ``port``, when this user may see it (Linux /proc)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            for descriptor in (process / "fd").iterdir():
                if str(descriptor.readlink()) in wanted:
                    return int(process.name)
        except OSError:
            continue
    return None


def listener_description(port: int) -> str:
    """'pid 123 (`pgbouncer …`, started from /srv/other-checkout)', or 'another process'."""
    pid = listener_pid(port)
    if pid is None:
        return "another process"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        folder = Path(f"/proc/{pid}/cwd").readlink()
    except OSError:
        return f"pid {pid}"
    # PgBouncer runs in its runtime folder, which names the checkout it serves (infra/local/pooler.py).
    checkout_file = folder / "checkout"
    if checkout_file.is_file():
        folder = Path(checkout_file.read_text().strip())
    return f"pid {pid} (`{command}`, started from {folder})"
