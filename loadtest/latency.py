"""Warm latency of single endpoints through the emulator's API: sequential calls, p50/p99.

    .venv/bin/python -m loadtest.latency                      # every scenario, 200 calls each
    .venv/bin/python -m loadtest.latency me login --calls 50  # chosen scenarios

The base URL is API_URL, or the running `make up` stack's. Each scenario makes a few
warm-up calls first (not counted), so cold starts are excluded.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import requests

ADMIN = {"email": "admin@eduplatform.com", "password": "password123"}
WARMUP_CALLS = 5


def base_url() -> str:
    if os.environ.get("API_URL"):
        return os.environ["API_URL"].rstrip("/")
    from infra.config import stack_name
    from infra.local.stack import api_url

    return api_url(stack_name("local"))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Scenarios:
    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url
        self._token: str | None = None
        self._course_id: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = self.login()
        return self._token

    def login(self) -> str:
        response = self.session.post(f"{self.url}/login", json=ADMIN, timeout=30)
        response.raise_for_status()
        return response.json()["access_token"]

    def me(self) -> None:
        self.session.get(f"{self.url}/me", headers={"Authorization": f"Bearer {self.token()}"}, timeout=30).raise_for_status()

    def health(self) -> None:
        self.session.get(f"{self.url}/health", timeout=30).raise_for_status()

    def oldest_course_id(self) -> str:
        """The oldest course: with seeded data it is one of those that have a curriculum."""
        if self._course_id is None:
            total = self.session.get(f"{self.url}/courses", params={"limit": 1}, timeout=30).json()["total"]
            if not total:
                raise SystemExit("no courses: seed or create one first")
            page = self.session.get(f"{self.url}/courses", params={"limit": 1, "offset": total - 1}, timeout=30).json()
            self._course_id = page["items"][0]["id"]
        return self._course_id

    def course(self) -> None:
        self.session.get(f"{self.url}/courses/{self.oldest_course_id()}", timeout=30).raise_for_status()

    def curriculum(self) -> None:
        self.session.get(f"{self.url}/courses/{self.oldest_course_id()}/curriculum", timeout=30).raise_for_status()

    def list_courses(self) -> None:
        self.session.get(f"{self.url}/courses", timeout=30).raise_for_status()

    def search_courses(self) -> None:
        self.session.get(f"{self.url}/courses", params={"q": "python"}, timeout=30).raise_for_status()


SCENARIOS = ("me", "login", "health", "list_courses", "search_courses", "course", "curriculum")


def measure(call: Callable[[], object], calls: int) -> list[float]:
    for _ in range(WARMUP_CALLS):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=["me", "login"], help=f"any of {', '.join(SCENARIOS)}")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    url = base_url()
    print(f"{url}: {args.calls} sequential warm calls per scenario")
    print(f"{'scenario':<12}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}")
    with requests.Session() as session:
        scenarios = Scenarios(session, url)
        for name in args.scenarios:
            samples = measure(getattr(scenarios, name), args.calls)
            print(f"{name:<12}{percentile(samples, 0.50):>9.1f}{percentile(samples, 0.99):>9.1f}"
                  f"{statistics.fmean(samples):>9.1f}{max(samples):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
