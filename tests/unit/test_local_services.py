"""The launcher's own services: PgBouncer from any folder, and no silent use of another checkout's.

PgBouncer refuses to run as root and drops to ``postgres``, which cannot enter a clone that
sits under a mode-700 folder; these tests start the real pooler from such a clone.
"""

import http.server
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psycopg
import pytest

from infra.config import POSTGRES_ADMIN_URL, ROOT
from infra.local import emulator, metrics_bridge, pooler
from infra.local.processes import listener_description, listener_pid


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def private_checkout(tmp_path: Path) -> Path:
    """A copy of what the pooler needs, inside a folder only its owner may enter."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    checkout = private / "p"
    checkout.mkdir()
    shutil.copytree(ROOT / "infra", checkout / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "samconfig.toml", checkout)
    return checkout


def run_in(checkout: Path, port: int, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, POOLER_PORT=str(port), PYTHONPATH=str(checkout))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=checkout, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="the case of the issue: root, whose PgBouncer runs as postgres")
def test_pooler_starts_and_stops_from_a_checkout_in_a_private_folder(tmp_path):
    checkout = private_checkout(tmp_path)
    port = free_port()
    started = run_in(
        checkout,
        port,
        f"""
        from infra.local import pooler
        assert pooler.start({POSTGRES_ADMIN_URL!r}, ["postgres"])
        print(pooler.runtime_dir())
    """,
    )
    assert started.returncode == 0, started.stderr
    runtime = Path(started.stdout.strip())
    try:
        assert runtime.stat().st_uid == pooler.pwd.getpwnam(pooler.RUN_AS).pw_uid
        # Through the pooler, as a function would connect.
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert "pid" in listener_description(port) and str(checkout) in listener_description(port)
        log = checkout / ".local" / "pgbouncer" / "pgbouncer.log"
        assert "listening on 127.0.0.1:" in log.read_text(), "the launcher captures PgBouncer's own log"
        # A second start of the same checkout finds it running and starts nothing.
        again = run_in(
            checkout,
            port,
            f"""
            from infra.local import pooler
            assert not pooler.start({POSTGRES_ADMIN_URL!r}, ["postgres"])
        """,
        )
        assert again.returncode == 0, again.stderr
    finally:
        stopped = run_in(checkout, port, "from infra.local import pooler; assert pooler.stop()")
    assert stopped.returncode == 0, stopped.stderr
    assert listener_pid(port) is None, "make down leaves nothing listening"
    assert not runtime.exists(), "make down removes the runtime folder"
    assert not runtime.parent.exists() or any(runtime.parent.iterdir())
    assert not (checkout / ".local" / "pgbouncer" / "pgbouncer.pid").exists()


def test_pooler_refuses_a_port_another_process_holds(monkeypatch, tmp_path):
    monkeypatch.setattr(pooler, "PID_FILE", tmp_path / "pgbouncer.pid")
    with socket.create_server(("127.0.0.1", 0)) as foreign:
        port = foreign.getsockname()[1]
        monkeypatch.setattr(pooler, "POOLER_PORT", port)
        with pytest.raises(SystemExit) as refusal:
            pooler.start(POSTGRES_ADMIN_URL, ["postgres"])
    message = str(refusal.value)
    assert f"port {port} is taken by pid {os.getpid()}" in message
    assert "not by this checkout's PgBouncer" in message and "POOLER_PORT=" in message


class _FakeEmulator(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"services": {}}')

    def log_message(self, *args):
        pass


def test_emulator_refuses_one_this_checkout_did_not_start(monkeypatch, tmp_path):
    monkeypatch.setattr(emulator, "EMULATOR_PID", tmp_path / "ministack.pid")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeEmulator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        monkeypatch.setattr(emulator, "EMULATOR_URL", f"http://127.0.0.1:{port}")
        with pytest.raises(SystemExit) as refusal:
            emulator.start_emulator()
    finally:
        server.shutdown()
        server.server_close()
    message = str(refusal.value)
    assert f"is answered by pid {os.getpid()}" in message
    assert "not by this checkout's MiniStack" in message and "EMULATOR_URL=" in message


def test_metrics_bridge_refuses_a_port_another_process_holds(monkeypatch, tmp_path):
    monkeypatch.setattr(metrics_bridge, "METRICS_BRIDGE_PID", tmp_path / "metrics-bridge.pid")
    with socket.create_server(("127.0.0.1", 0)) as foreign:
        port = foreign.getsockname()[1]
        monkeypatch.setattr(metrics_bridge, "METRICS_PORT", port)
        with pytest.raises(SystemExit) as refusal:
            metrics_bridge.start_metrics_bridge("eduplatform")
    message = str(refusal.value)
    assert f"port {port} is taken by pid {os.getpid()}" in message and "METRICS_PORT=" in message


@pytest.mark.parametrize(
    ("setting", "warned"), [(("on", None), False), (("off", "/etc/postgresql/conf.d/ci.conf"), True)]
)
def test_make_up_says_what_to_do_when_postgresql_runs_without_autovacuum(monkeypatch, setting, warned):
    from infra.local import databases

    class Server:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, statement):
            assert "autovacuum" in statement
            return self

        def fetchone(self):
            return setting

    monkeypatch.setattr(databases.psycopg, "connect", lambda *args, **kwargs: Server())
    warning = databases.autovacuum_warning()
    assert (warning is not None) is warned
    if warned:
        assert "autovacuum off (/etc/postgresql/conf.d/ci.conf)" in warning and "make vacuum" in warning


def test_make_vacuum_vacuums_and_analyzes_every_domain_database(domain_database):
    import time

    from infra.local import databases

    url = domain_database("course")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS vacuum_probe (n int)")
        conn.execute("INSERT INTO vacuum_probe SELECT generate_series(1, 100)")
        conn.execute("DELETE FROM vacuum_probe")
    try:
        databases.vacuum({"course": url})
        deadline, seen = time.monotonic() + 5, None
        while time.monotonic() < deadline:
            with psycopg.connect(url) as conn:
                seen = conn.execute(
                    "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE relname = 'vacuum_probe'"
                ).fetchone()
            if seen == (True,):
                break
            time.sleep(0.2)
        assert seen == (True,)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE vacuum_probe")


def test_nothing_the_launcher_starts_listens_beyond_the_loopback_by_default(monkeypatch, tmp_path):
    """The emulator, PgBouncer and the metrics bridge all listen on LOCAL_BIND_ADDRESS, 127.0.0.1 unless set."""
    unset = {name: value for name, value in os.environ.items() if name != "LOCAL_BIND_ADDRESS"}
    default = subprocess.run(
        [sys.executable, "-c", "from infra.config import LOCAL_BIND_ADDRESS; print(LOCAL_BIND_ADDRESS)"],
        cwd=ROOT,
        env=unset,
        capture_output=True,
        text=True,
        check=True,
    )
    assert default.stdout.strip() == "127.0.0.1"
    if os.environ.get("LOCAL_BIND_ADDRESS"):
        pytest.skip("LOCAL_BIND_ADDRESS is set here: the defaults below are not in force")

    # PgBouncer's configuration.
    assert "\nlisten_addr = 127.0.0.1\n" in pooler._config_text("127.0.0.1", 5432, tmp_path / "userlist.txt")

    # The metrics bridge's command line.
    started: dict[str, list[str]] = {}
    monkeypatch.setattr(metrics_bridge, "METRICS_BRIDGE_PID", tmp_path / "metrics-bridge.pid")
    monkeypatch.setattr(metrics_bridge, "METRICS_PORT", free_port())
    monkeypatch.setattr(
        metrics_bridge, "start_in_background", lambda name, command, *rest, **kw: started.update(bridge=command)
    )
    metrics_bridge.start_metrics_bridge("eduplatform")
    bridge = started["bridge"]
    assert bridge[bridge.index("--address") + 1] == "127.0.0.1"

    # The emulator: its environment sets no other address, and what it serves on is the default.
    monkeypatch.setattr(emulator, "STATE_DIR", tmp_path)
    monkeypatch.setattr(emulator, "EMULATOR_TMP", tmp_path / "ministack-tmp")
    monkeypatch.setattr(emulator, "emulator_running", lambda: False)
    monkeypatch.setattr(
        emulator, "start_in_background", lambda name, command, log, pid, cwd, env, *rest, **kw: started.update(env=env)
    )
    emulator.start_emulator()
    assert "LOCAL_BIND_ADDRESS" not in started["env"]
    import uvicorn

    from infra.emulator import serve

    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(uvicorn=options))
    serve.serve()
    assert started["uvicorn"]["host"] == "127.0.0.1"
