"""The Locust scenario runs headless for a few seconds against seeded data with zero failures.

It gets its own stack and databases (``eduplatform-loadtest`` on ``loadtest_<domain>``),
seeded at scale 0.01, so the bulk reset never touches the other end-to-end tests' data.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config import DOMAINS, PARAMETER_FOR_DOMAIN, ROOT, deploy_parameters
from infra.local import stack
from seed import generate
from tests.e2e.conftest import E2E_JWT_SECRET
from tests.support import databases

pytestmark = pytest.mark.e2e

SCALE = 0.01
TASK_REQUEST_NAMES = {
    "/courses",
    "/courses/{course_id}",
    "/courses/{course_id}/curriculum",
    "/lessons/{lesson_id}",
    "/enrollments",
    "/payments",
    "/progress/lessons/{lesson_id}/complete",
    "/courses?q=[term]",
    "/me",
    "/courses [create]",
    "/courses/my",
}


@pytest.fixture(scope="module")
def seeded_stack_url(api) -> str:
    """``api`` first: it holds the e2e lock and has the emulator running."""
    urls = {domain: databases.prepare("loadtest", domain) for domain in DOMAINS}
    # Cost 4 keeps the users' logins from queueing on the CPU; the load runs use cost 12.
    generate.seed(urls, random_seed=11, scale=SCALE, do_reset=True, bcrypt_rounds=4)
    parameters = {
        **deploy_parameters("local"),
        **{PARAMETER_FOR_DOMAIN[domain]: url for domain, url in urls.items()},
        "JwtSecret": E2E_JWT_SECRET,
    }
    url = stack.deploy_stack("eduplatform-loadtest", parameters)
    # Start from warm instances, as `make loadtest` does: on a fresh emulator every function
    # would otherwise cold-start under the swarm, on the same two cores.
    subprocess.run(
        [sys.executable, "-m", "infra.local.warmup", "--stack", "eduplatform-loadtest", "--width", "2"],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return url


def test_locust_scenario_runs_with_zero_failures(seeded_stack_url, tmp_path: Path):
    prefix = tmp_path / "run"
    env = dict(os.environ, API_URL=seeded_stack_url, SEED_SCALE=str(SCALE))
    # 30 users are 3 teachers (class weight 1 of 10): ~30 teacher tasks in the run, so that one of
    # them (create, a quarter of a teacher's picks) is left out by chance about once in 5,000 runs.
    # With 20 users (2 teachers, ~20 tasks: about once in 300) that happened once in CI.
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        "loadtest/locustfile.py",
        "--headless",
        "--users",
        "30",
        "--spawn-rate",
        "5",
        "--run-time",
        "40s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--exit-code-on-error",
        "1",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    with open(f"{prefix}_stats.csv") as stats_file:
        stats = {row["Name"]: row for row in csv.DictReader(stats_file)}
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert int(stats["Aggregated"]["Failure Count"]) == 0
    missing = {name for name in TASK_REQUEST_NAMES if int(stats.get(name, {}).get("Request Count", 0)) == 0}
    assert not missing, f"tasks that sent no request: {missing}"
    # The summary's steady part starts only once every user has logged in.
    steady = json.loads(Path(f"{prefix}_summary.json").read_text())["steady"]
    assert steady["requests"] > 0 and steady["failures"] == 0, steady
    assert steady["after_last_login_s"] >= 10, steady
    # The students' catalogue browsing: sorted or filtered first pages, then pages by cursor, every one a success.
    browsing = {name: int(row["Request Count"]) for name, row in stats.items() if "sort=" in name}
    cursor_pages = sum(count for name, count in browsing.items() if name.startswith("/courses?cursor&"))
    assert cursor_pages > 0 and sum(browsing.values()) > cursor_pages, browsing
