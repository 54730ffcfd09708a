"""PgBouncer in front of the local PostgreSQL: what bounds the database connections.

Every warm Lambda instance keeps one connection, and a burst of traffic warms more
instances (the emulator, like AWS, scales a function out under concurrency), so with
~45 functions per stack the instances alone can exceed PostgreSQL's max_connections.
The functions therefore connect through PgBouncer in transaction pooling mode: any
number of instances may hold a client connection, while PgBouncer multiplexes their
transactions onto at most POOL_SIZE server connections per database. On AWS, RDS Proxy
plays the same part. Migrations, the seed and tests connect to PostgreSQL directly.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from infra.config import POOLER_PORT, ROOT

POOLER_DIR = ROOT / ".local" / "pgbouncer"
CONFIG = POOLER_DIR / "pgbouncer.ini"
PID_FILE = POOLER_DIR / "pgbouncer.pid"
LOG_FILE = POOLER_DIR / "pgbouncer.log"
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


def pooled_url(url: str) -> str:
    """The URL a function uses: same database and role, through the pooler."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{credentials}127.0.0.1:{POOLER_PORT}", parts.path, parts.query, parts.fragment))


def _config_text(server_host: str, server_port: int, users: list[str]) -> str:
    return f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {POOLER_PORT}
unix_socket_dir =
auth_type = trust
auth_file = {POOLER_DIR / 'userlist.txt'}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_db_connections = {POOL_SIZE}
max_client_conn = 2000
server_idle_timeout = 30
query_wait_timeout = {QUERY_WAIT_TIMEOUT}
server_login_retry = {SERVER_LOGIN_RETRY}
ignore_startup_parameters = extra_float_digits,options
logfile = {LOG_FILE}
pidfile = {PID_FILE}
"""


def running() -> bool:
    if not PID_FILE.exists():
        return False
    try:
        os.kill(int(PID_FILE.read_text().strip()), 0)
        return True
    except (ProcessLookupError, ValueError):
        return False


def listening() -> bool:
    """Something (PgBouncer from another checkout, say) already accepts connections on the port."""
    try:
        with socket.create_connection(("127.0.0.1", POOLER_PORT), timeout=1):
            return True
    except OSError:
        return False


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
    """Write pgbouncer.ini and the user list; True when either changed.

    Users already listed stay (another stack's functions may be using them).
    """
    parts = urlsplit(server_url)
    POOLER_DIR.mkdir(parents=True, exist_ok=True)
    userlist = POOLER_DIR / "userlist.txt"
    known = set(re.findall(r'^"([^"]+)"', userlist.read_text(), re.MULTILINE)) if userlist.exists() else set()
    files = {
        userlist: "".join(f'"{user}" ""\n' for user in sorted(known | set(users))),
        CONFIG: _config_text(parts.hostname or "127.0.0.1", parts.port or 5432, users),
    }
    changed = False
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed = True
    if os.geteuid() == 0:
        account = pwd.getpwnam(RUN_AS)
        for path in (POOLER_DIR, *POOLER_DIR.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
    return changed


def start(server_url: str, users: list[str]) -> bool:
    """Start PgBouncer unless it runs (a running one reloads a changed configuration); True when started here."""
    if running():
        if _write_config(server_url, users):
            os.kill(int(PID_FILE.read_text().strip()), signal.SIGHUP)  # PgBouncer reloads its files on SIGHUP
        return False
    if listening():
        # Another checkout's PgBouncer: its configuration is the same (every database of the server).
        return False
    binary = ensure_installed()
    _write_config(server_url, users)
    command = [binary, "-d", str(CONFIG)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", RUN_AS]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"pgbouncer did not start: {result.stderr.strip() or result.stdout.strip()} (log: {LOG_FILE})")
    deadline = time.monotonic() + 10
    while not running():
        if time.monotonic() > deadline:
            raise SystemExit(f"pgbouncer did not start; see {LOG_FILE}")
        time.sleep(0.1)
    return True


def stop() -> bool:
    if not running():
        return False
    os.kill(int(PID_FILE.read_text().strip()), signal.SIGTERM)
    for _ in range(50):
        if not running():
            break
        time.sleep(0.1)
    return True
