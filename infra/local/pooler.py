"""PgBouncer in front of the local PostgreSQL: what bounds the database connections.

Every warm Lambda instance keeps one connection, and a burst of traffic warms more
instances (the emulator, like AWS, scales a function out under concurrency), so with
~45 functions per stack the instances alone can exceed PostgreSQL's max_connections.
The functions therefore connect through PgBouncer in transaction pooling mode: any
number of instances may hold a client connection, while PgBouncer multiplexes their
transactions onto at most POOL_SIZE server connections per database. On AWS, RDS Proxy
plays the same part. Migrations, the seed and tests connect to PostgreSQL directly.

Where its files live. PgBouncer refuses to run as root, so root starts it as ``postgres``,
an account that may not be able to walk into the checkout (a clone under a mode-700 home
folder or ``mktemp -d``). So PgBouncer itself touches no file of the checkout: it runs in
the foreground, the launcher captures its output into ``.local/pgbouncer/pgbouncer.log``
and records its pid there, and the two files PgBouncer reads (its configuration, again on
every reload, and the user list) sit in a per-checkout runtime folder owned by the account
it runs as. ``stop`` removes that folder.
"""

import contextlib
import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from infra.config import LOCAL_BIND_ADDRESS, POOLER_PORT, ROOT
from infra.local.processes import listener_description, port_accepts, recorded_pid

STATE_DIR = ROOT / ".local" / "pgbouncer"
PID_FILE = STATE_DIR / "pgbouncer.pid"
LOG_FILE = STATE_DIR / "pgbouncer.log"
# Server connections per database (and role): 5 domains x 3 stacks (local, e2e, load test) x 6 stays below
# PostgreSQL's default max_connections of 100, leaving room for direct connections.
POOL_SIZE = 6
# A database that refuses connections must not hold a function until its Lambda timeout:
# a transaction waits at most QUERY_WAIT_TIMEOUT seconds for a server connection, then the
# client gets an error (psycopg OperationalError -> 503); after a failed server login the
# pooler tries again SERVER_LOGIN_RETRY seconds later, so a restored database serves at once.
# (RDS Proxy's ConnectionBorrowTimeout plays this part on AWS.)
QUERY_WAIT_TIMEOUT = 5
SERVER_LOGIN_RETRY = 1
# PgBouncer refuses to run as root; when started by root it drops to this account.
RUN_AS = "postgres"


def runtime_dir() -> Path:
    """The folder holding the files PgBouncer reads, reachable by the account it runs as.

    An ordinary user runs PgBouncer as themselves, so the checkout's own ``.local`` will do;
    root's PgBouncer runs as ``postgres``, so its folder is one per checkout under /run.
    """
    if os.geteuid() != 0:
        return STATE_DIR / "runtime"
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return Path("/run/eduplatform") / f"pgbouncer-{checkout}"


def pooled_url(url: str) -> str:
    """The URL a function uses: same database and role, through the pooler."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{credentials}127.0.0.1:{POOLER_PORT}", parts.path, parts.query, parts.fragment))


def _config_text(server_host: str, server_port: int, userlist: Path) -> str:
    # No logfile and no pidfile: PgBouncer runs in the foreground and logs to stderr, which the
    # launcher captures; the launcher keeps the pid.
    return f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = {LOCAL_BIND_ADDRESS}
listen_port = {POOLER_PORT}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_db_connections = {POOL_SIZE}
max_client_conn = 2000
server_idle_timeout = 30
query_wait_timeout = {QUERY_WAIT_TIMEOUT}
server_login_retry = {SERVER_LOGIN_RETRY}
ignore_startup_parameters = extra_float_digits,options
"""


def _pid() -> int | None:
    """The pid of the PgBouncer this checkout started, when it still runs."""
    return recorded_pid(PID_FILE, b"pgbouncer")


def running() -> bool:
    return _pid() is not None


def listening() -> bool:
    """Something accepts connections on the pooler's port (this checkout's PgBouncer or another process)."""
    return port_accepts(POOLER_PORT)


def ensure_installed() -> str:
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if os.path.exists(binary):
        return binary
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("[up] installing pgbouncer (Debian package)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True, env=env, stdout=subprocess.DEVNULL)
        if os.path.exists("/usr/sbin/pgbouncer"):
            return "/usr/sbin/pgbouncer"
    raise SystemExit("pgbouncer is required: install it (e.g. `sudo apt-get install pgbouncer`) and run again")


def _write_config(server_url: str, users: list[str]) -> bool:
    """Write pgbouncer.ini and the user list into the runtime folder; True when either changed.

    Users already listed stay (another stack's functions may be using them).
    """
    parts = urlsplit(server_url)
    folder = runtime_dir()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    userlist = folder / "userlist.txt"
    known = set(re.findall(r'^"([^"]+)"', userlist.read_text(), re.MULTILINE)) if userlist.exists() else set()
    files = {
        userlist: "".join(f'"{user}" ""\n' for user in sorted(known | set(users))),
        folder / "pgbouncer.ini": _config_text(parts.hostname or "127.0.0.1", parts.port or 5432, userlist),
        folder / "checkout": f"{ROOT}\n",  # which checkout this PgBouncer serves, for a person who finds it running
    }
    changed = False
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed = True
    if os.geteuid() == 0:
        account = pwd.getpwnam(RUN_AS)
        for path in (folder, *folder.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
    return changed


def start(server_url: str, users: list[str]) -> bool:
    """Start PgBouncer unless it runs (a running one reloads a changed configuration); True when started here.

    Another process on the pooler's port (another checkout's PgBouncer, say) is an error, not
    something to reuse: this checkout's functions would silently run against its configuration.
    """
    pid = _pid()
    if pid is not None:
        if _write_config(server_url, users):
            os.kill(pid, signal.SIGHUP)  # PgBouncer reloads its files on SIGHUP
        return False
    if listening():
        raise SystemExit(
            f"port {POOLER_PORT} is taken by {listener_description(POOLER_PORT)}, not by this checkout's PgBouncer. "
            f"Stop it (`make down` in the checkout that started it) or give this checkout another port: POOLER_PORT=<free port>"
        )
    binary = ensure_installed()
    _write_config(server_url, users)
    command = [binary, str(runtime_dir() / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", RUN_AS]
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=runtime_dir(),
            start_new_session=True,
        )
    PID_FILE.write_text(str(process.pid))
    deadline = time.monotonic() + 10
    while not listening():
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            tail = LOG_FILE.read_text(errors="replace").strip().splitlines()[-5:]
            raise SystemExit("pgbouncer did not start:\n  " + "\n  ".join(tail) + f"\n(log: {LOG_FILE})")
        time.sleep(0.05)
    return True


def stop() -> bool:
    """Stop this checkout's PgBouncer and remove its runtime folder; True when one was running."""
    pid = _pid()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if _pid() is None:
                break
            time.sleep(0.05)
    PID_FILE.unlink(missing_ok=True)
    folder = runtime_dir()
    shutil.rmtree(folder, ignore_errors=True)
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # /run/eduplatform, once no other checkout's pooler uses it
    return pid is not None
