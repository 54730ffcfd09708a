"""The emulator process `make up` and the e2e tests run: ``python -m infra.emulator`` (MiniStack with
the changes of infra/emulator/), started in the background, found again by its pid, stopped."""

import os
import shutil
import sys
from urllib.parse import urlsplit

from infra.config import EMULATOR_URL, ROOT
from infra.local.processes import (
    STATE_DIR,
    listener_description,
    recorded_pid,
    start_in_background,
    stop_group,
    url_answers,
)

EMULATOR_PID = STATE_DIR / "ministack.pid"
EMULATOR_LOG = STATE_DIR / "ministack.log"
EMULATOR_TMP = STATE_DIR / "ministack-tmp"
EMULATOR_MODULE = "infra.emulator"
# How long MiniStack keeps an idle function instance (its LAMBDA_WARM_TTL_SECONDS; its own
# default is 300 s): a working day, so the instances `make up` warms are still there for the
# first burst of traffic hours later. An instance costs ~60 MB while it waits.
WARM_TTL_SECONDS = int(os.environ.get("WARM_TTL_SECONDS", str(10 * 3600)))


def emulator_settings() -> dict[str, str]:
    """The emulator's own settings, as `make up` gives them (docker-compose.yml's ``ministack`` gives the same).

    LOG_LEVEL is MiniStack's own: at INFO it logs a line per request and per instance started. The
    address it listens on is LOCAL_BIND_ADDRESS (infra/config.py), which the emulator reads itself.
    """
    return {
        "GATEWAY_PORT": str(urlsplit(EMULATOR_URL).port or 80),
        "LOG_LEVEL": "WARNING",
        "LAMBDA_WARM_TTL_SECONDS": str(WARM_TTL_SECONDS),
        # MiniStack's IoT MQTT broker (:8883) and SFTP listener bind 0.0.0.0 whatever the address;
        # the app uses neither.
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
    }


def emulator_running() -> bool:
    return url_answers(f"{EMULATOR_URL}/_ministack/health")


def emulator_pid() -> int | None:
    """The pid of the MiniStack this checkout started, when it still runs."""
    return recorded_pid(EMULATOR_PID, EMULATOR_MODULE.encode())


def start_emulator() -> bool:
    """Start MiniStack in the background unless this checkout's already answers; True when started here.

    An emulator on the port that this checkout did not start (another checkout's) is an error:
    deploying into it would test that checkout's MiniStack, not this one's.
    """
    if emulator_running():
        if emulator_pid() is not None:
            return False
        port = int(urlsplit(EMULATOR_URL).port or 80)
        raise SystemExit(
            f"{EMULATOR_URL} is answered by {listener_description(port)}, not by this checkout's MiniStack. "
            "Stop it (`make down` in the checkout that started it) or give this checkout another port: "
            "EMULATOR_URL=http://localhost:<free port>"
        )
    STATE_DIR.mkdir(exist_ok=True)
    # Every function instance unpacks its code and the layer into a temporary folder, and
    # a killed emulator leaves them behind: keep them where `stop_emulator` can remove them.
    shutil.rmtree(EMULATOR_TMP, ignore_errors=True)
    EMULATOR_TMP.mkdir()
    env = dict(os.environ, TMPDIR=str(EMULATOR_TMP), **emulator_settings())
    # From the checkout's root, so that `-m` finds infra/ without PYTHONPATH: the functions' workers
    # inherit the emulator's environment (not its sys.path), and run in their own code folders.
    command = [sys.executable, "-m", EMULATOR_MODULE]
    start_in_background("MiniStack", command, EMULATOR_LOG, EMULATOR_PID, ROOT, env, emulator_running, seconds=60)
    return True


def stop_emulator() -> bool:
    pid = emulator_pid()
    EMULATOR_PID.unlink(missing_ok=True)
    if pid is not None:
        stop_group(pid, grace_seconds=5)
    shutil.rmtree(EMULATOR_TMP, ignore_errors=True)
    return pid is not None
