"""Warm latency of single endpoints through the emulator's API: sequential calls, p50/p99.

    .venv/bin/python -m loadtest.latency                      # every scenario, 200 calls each
    .venv/bin/python -m loadtest.latency me login --calls 50  # chosen scenarios
    .venv/bin/python -m loadtest.latency course enroll pay complete enroll_after_paying
    .venv/bin/python -m loadtest.latency course_miss curriculum_miss lesson_miss catalogue_miss

The base URL is API_URL, or the running `make up` stack's. Each scenario makes a few
warm-up calls first (not counted), so cold starts are excluded. The writing scenarios need
the seeded data (`make seed`): a seeded student enrolls in, pays for and completes lessons of
the oldest courses (those with a curriculum), a different course or lesson per call;
``enroll_after_paying`` pays (not timed) then enrolls at once, as the load mix does. The
``*_miss`` scenarios read a course, curriculum, lesson or catalogue page not read before, so each
call misses the Redis cache (what most single-course reads of the load mix do).
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator

import requests

ADMIN = {"email": "admin@eduplatform.com", "password": "password123"}
WARMUP_CALLS = 5
# Seeded users: user{i}@example.com, i >= 10,000 are students (seed/generate.py).
FIRST_STUDENT, LAST_STUDENT = 10_000, 49_999


def base_url() -> str:
    if os.environ.get("API_URL"):
        return os.environ["API_URL"].rstrip("/")
    from infra.config import stack_name
    from infra.local.deploy import api_url

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
        self.session.get(
            f"{self.url}/me", headers={"Authorization": f"Bearer {self.token()}"}, timeout=30
        ).raise_for_status()

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

    def student_headers(self) -> dict[str, str]:
        if not hasattr(self, "_student_headers"):
            email = f"user{random.randint(FIRST_STUDENT, LAST_STUDENT)}@example.com"
            response = self.session.post(
                f"{self.url}/login", json={"email": email, "password": "password123"}, timeout=30
            )
            response.raise_for_status()
            self._student_headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._student_headers

    def courses_in_random_order(self, oldest: int | None = None) -> Iterator[dict]:
        """The catalogue's courses (only its ``oldest`` ones when given) from its pages in random order, each once."""
        total = self.session.get(f"{self.url}/courses", params={"limit": 1}, timeout=30).json()["total"]
        offsets = list(range(max(0, total - oldest) if oldest else 0, total, 100))
        random.shuffle(offsets)
        for offset in offsets:
            page = self.session.get(f"{self.url}/courses", params={"limit": 100, "offset": offset}, timeout=30).json()
            yield from page["items"]

    def oldest_courses(self, free: bool) -> Iterator[dict]:
        """The oldest courses (they have curricula), free or paid, in random order, each once."""
        return (course for course in self.courses_in_random_order(oldest=10_000) if course["is_free"] == free)

    def lesson_ids(self, course_id: str) -> Iterator[str]:
        curriculum = self.session.get(f"{self.url}/courses/{course_id}/curriculum", timeout=30).json()
        return (lesson["id"] for module in curriculum["modules"] for lesson in module["lessons"])

    def _next(self, name: str, make: Callable[[], Iterator]) -> object:
        if not hasattr(self, name):
            setattr(self, name, make())
        return next(getattr(self, name))

    def _enroll(self, course_id: str, payment_id: str | None = None) -> None:
        body = {"course_id": course_id, **({"payment_id": payment_id} if payment_id else {})}
        response = self.session.post(f"{self.url}/enrollments", json=body, headers=self.student_headers(), timeout=30)
        if response.status_code not in (201, 409):  # 409: this seeded student was enrolled already
            response.raise_for_status()

    def _pay(self, course: dict) -> str | None:
        """The new payment's id; None when this student has paid for the course already (409)."""
        response = self.session.post(
            f"{self.url}/payments",
            json={"course_id": course["id"], "amount": course["price"]},
            headers=self.student_headers(),
            timeout=30,
        )
        if response.status_code == 409:
            return None
        response.raise_for_status()
        return str(response.json()["id"])

    def enroll(self) -> None:
        self._enroll(self._next("_free", lambda: self.oldest_courses(free=True))["id"])

    def pay(self) -> None:
        self._pay(self._next("_paid", lambda: self.oldest_courses(free=False)))

    def enroll_after_paying(self) -> Callable[[], None]:
        while True:  # a course this student has not paid for yet
            course = self._next("_paid_for_enrolling", lambda: self.oldest_courses(free=False))
            payment_id = self._pay(course)
            if payment_id is not None:
                return lambda: self._enroll(course["id"], payment_id)

    def lessons_to_complete(self) -> Iterator[tuple[str, str]]:
        for course in self.oldest_courses(free=True):
            self._enroll(course["id"])
            yield from ((course["id"], lesson_id) for lesson_id in self.lesson_ids(course["id"]))

    def complete(self) -> Callable[[], None]:
        course_id, lesson_id = self._next("_lessons", self.lessons_to_complete)

        def call() -> None:
            response = self.session.post(
                f"{self.url}/progress/lessons/{lesson_id}/complete",
                json={"course_id": course_id},
                headers=self.student_headers(),
                timeout=30,
            )
            if response.status_code not in (201, 409):
                response.raise_for_status()

        return call

    def curriculum(self) -> None:
        self.session.get(f"{self.url}/courses/{self.oldest_course_id()}/curriculum", timeout=30).raise_for_status()

    def list_courses(self) -> None:
        self.session.get(f"{self.url}/courses", timeout=30).raise_for_status()

    def search_courses(self) -> None:
        self.session.get(f"{self.url}/courses", params={"q": "python"}, timeout=30).raise_for_status()

    # Reads that miss the cache: each call reads something not read before (the set-up, not
    # timed, finds it). A catalogue page caches the page, not its courses, so a course listed in
    # one is still a miss when read by id, and so is its curriculum.

    def _get(self, path: str, **params: object) -> Callable[[], None]:
        return lambda: self.session.get(f"{self.url}{path}", params=params, timeout=30).raise_for_status()

    def course_miss(self) -> Callable[[], None]:
        course = self._next("_courses_for_reading", self.courses_in_random_order)
        return self._get(f"/courses/{course['id']}")

    def curriculum_miss(self) -> Callable[[], None]:
        course = self._next("_courses_for_curricula", self.courses_in_random_order)
        return self._get(f"/courses/{course['id']}/curriculum")

    def unread_lessons(self) -> Iterator[str]:
        """Lessons of the oldest courses (those with curricula), from their curricula."""
        for course in self.oldest_courses(free=True):
            yield from self.lesson_ids(course["id"])

    def lesson_miss(self) -> Callable[[], None]:
        return self._get(f"/lessons/{self._next('_lessons_for_reading', self.unread_lessons)}")

    def catalogue_miss(self) -> Callable[[], None]:
        """A category's page at a random offset and sort, with its total."""
        if not hasattr(self, "_category_ids"):
            categories = self.session.get(f"{self.url}/categories", timeout=30).json()["items"]
            self._category_ids = [category["id"] for category in categories]
        return self._get(
            "/courses",
            category_id=random.choice(self._category_ids),
            sort=random.choice(("newest", "rating", "price_asc", "price_desc")),
            offset=random.randrange(1, 5_000),
        )


SCENARIOS = (
    "me",
    "login",
    "health",
    "list_courses",
    "search_courses",
    "course",
    "course_miss",
    "curriculum_miss",
    "lesson_miss",
    "catalogue_miss",
    "curriculum",
    "enroll",
    "pay",
    "enroll_after_paying",
    "complete",
)


def measure(scenario: Callable[[], object], calls: int) -> list[float]:
    """Time ``scenario()``; a scenario that returns a callable is a setup, and only that callable is timed."""
    samples = []
    for index in range(WARMUP_CALLS + calls):
        started_outer = time.perf_counter()
        prepared = scenario()
        if callable(prepared):
            started = time.perf_counter()
            prepared()
            elapsed = time.perf_counter() - started
        else:
            elapsed = time.perf_counter() - started_outer
        if index >= WARMUP_CALLS:
            samples.append(elapsed * 1000)
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
    print(f"{'scenario':<20}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}")
    with requests.Session() as session:
        scenarios = Scenarios(session, url)
        for name in args.scenarios:
            samples = measure(getattr(scenarios, name), args.calls)
            print(
                f"{name:<20}{percentile(samples, 0.50):>9.1f}{percentile(samples, 0.99):>9.1f}"
                f"{statistics.fmean(samples):>9.1f}{max(samples):>9.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
