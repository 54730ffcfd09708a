"""The EduPlatform load scenario (docs/performance.md).

    make loadtest USERS=100 SPAWN=10 DURATION=3m

Targets the one API base URL in API_URL (default: the `make up` stack's, like `make url`).
Students log in as a random seeded student and browse the courses that have a
curriculum (the oldest ones: the catalogue is newest first, so they sit at the end),
view the lessons they may open (of free courses, of courses they enrolled in, preview lessons),
pay for paid courses, enroll and complete lessons (they write no reviews). Their
catalogue task also filters and sorts the catalogue and pages on by cursor (see
``StudentUser.list_courses``). Search users search a random term; teachers log in as a random
verified teacher. Expected non-2xx answers count as successes: 409 already paid, already
enrolled, lesson already completed; and 403 for a lesson of a course enrolled in moments ago
(the course domain opens it once it has consumed the enrollment's event).
"""

import json
import os
import random
import threading
import time
import uuid

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

from loadtest.machine import MachineRecord
from loadtest.steady import LOGIN_NAMES, THROTTLED_LOGIN, SteadyWindow
from seed import generate as seed
from seed.vocabulary import CATEGORIES, SEARCH_TERMS

PASSWORD = seed.PASSWORD
SEED_SCALE = float(os.environ.get("SEED_SCALE", "1.0"))
N_USERS = max(1, round(seed.FULL["users"] * SEED_SCALE))
N_TEACHERS = round(N_USERS * seed.TEACHER_SHARE)
N_VERIFIED = round(N_TEACHERS * seed.VERIFIED_TEACHER_SHARE)
N_CURRICULUM_COURSES = max(1, round(seed.FULL["courses_with_curriculum"] * SEED_SCALE))
# Each user samples a page of the curriculum courses once; pages are cached across users.
CURRICULUM_PAGE = 100


def _default_host() -> str:
    if os.environ.get("API_URL"):
        return os.environ["API_URL"].rstrip("/")
    from infra.config import stack_name
    from infra.local.deploy import api_url

    return api_url(stack_name("local"))


@events.init_command_line_parser.add_listener
def _defaults(parser) -> None:
    parser.set_defaults(host=_default_host())


# A login answered 429 (the password-hashing functions' reserved concurrency is full) is
# retried after a jittered back-off, as an SDK would; those attempts are reported under
# their own name (THROTTLED_LOGIN), so /login's own figures are those of the logins that were served.
MAX_LOGIN_ATTEMPTS = 30


# Overall percentiles with and without the login phase (Locust's CSV has them per request
# name and for everything together), written next to the CSV stats as <prefix>_summary.json;
# "steady" counts only what was asked once the login phase is over (SteadyWindow), with its
# request rate.
STEADY_AFTER_SECONDS = 10.0
_response_times: dict[str, list[float]] = {}
STEADY = SteadyWindow(STEADY_AFTER_SECONDS)
MACHINE = MachineRecord()


@events.test_start.add_listener
def _read_machine(**_kwargs) -> None:
    MACHINE.start()


@events.spawning_complete.add_listener
def _spawned(**_kwargs) -> None:
    STEADY.all_spawned(time.time())


@events.request.add_listener
def _record_response_time(name, response_time, exception, **_kwargs) -> None:
    if exception is None:
        _response_times.setdefault(name, []).append(response_time)
    STEADY.record(name, response_time, exception is not None, time.time())


@events.quitting.add_listener
def _write_summary(environment, **_kwargs) -> None:
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return

    def percentiles(samples: list[float]) -> dict[str, float | None]:
        ordered = sorted(samples)

        def at(fraction: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1) if ordered else None

        return {
            "requests": len(ordered),
            "p50": at(0.50),
            "p95": at(0.95),
            "p99": at(0.99),
            "max": round(ordered[-1], 1) if ordered else None,
            "over_1s": sum(1 for t in ordered if t > 1000),
        }

    every = [t for times in _response_times.values() for t in times]
    browsing = [t for name, times in _response_times.items() if name not in LOGIN_NAMES for t in times]
    steady = percentiles(STEADY.times)
    steady.update(failures=STEADY.failures, rps=STEADY.rps())
    if STEADY.start is not None and STEADY.last_login_ended is not None:
        steady["after_last_login_s"] = round(STEADY.start - STEADY.last_login_ended, 1)
    summary = {
        "overall": percentiles(every),
        "overall_without_login": percentiles(browsing),
        "steady": steady,
        "machine": MACHINE.summary(),
        "per_request": {name: percentiles(times) for name, times in sorted(_response_times.items())},
        "steady_per_request": {name: percentiles(times) for name, times in sorted(STEADY.times_by_name.items())},
    }
    with open(f"{prefix}_summary.json", "w") as handle:
        json.dump(summary, handle, indent=2)
    print(f"machine over the run: {json.dumps(summary['machine'])}", flush=True)


class CurriculumCourses:
    """Pages of the oldest courses (those with modules and lessons), fetched once per page."""

    def __init__(self) -> None:
        self._pages: dict[int, list[dict]] = {}
        self._total: int | None = None
        self._lock = threading.Lock()

    def sample(self, client) -> list[dict]:
        with self._lock:
            if self._total is None:
                self._total = client.get("/courses", params={"limit": 1}, name="/courses").json()["total"]
            first_offset = max(0, self._total - N_CURRICULUM_COURSES)
            page = random.randrange(max(1, (self._total - first_offset) // CURRICULUM_PAGE))
            if page not in self._pages:
                response = client.get(
                    "/courses",
                    params={"limit": CURRICULUM_PAGE, "offset": first_offset + page * CURRICULUM_PAGE},
                    name="/courses?offset=[curriculum]",
                )
                self._pages[page] = response.json()["items"]
            return self._pages[page]


CURRICULUM_COURSES = CurriculumCourses()


def client_address() -> str:
    """A simulated user's own address: API Gateway's sourceIp, which the emulator takes from
    X-Forwarded-For. Login and register are limited per address (20 and 5 a minute), which a
    hundred users behind one address would trip; real clients each have their own."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def keep_session(user: FastHttpUser, refresh_token: str, expires_in: int) -> None:
    """Refresh the access token before it expires (900 s by default), as a client would, for long runs."""
    while True:
        gevent.sleep(max(30, expires_in * 0.8))
        response = user.client.post("/refresh", json={"refresh_token": refresh_token}, name="/refresh")
        if not response.ok:
            return
        body = response.json()
        user.client.client.default_headers["Authorization"] = f"Bearer {body['access_token']}"
        refresh_token, expires_in = body["refresh_token"], body["expires_in"]


def login(user: FastHttpUser, email: str) -> None:
    STEADY.login_started()
    try:
        log_in(user, email)
    finally:
        STEADY.login_ended(time.time())


def log_in(user: FastHttpUser, email: str) -> None:
    # FastHttpUser's session has no headers of its own: the user's HTTP client carries them.
    user.client.client.default_headers["X-Forwarded-For"] = client_address()
    for attempt in range(MAX_LOGIN_ATTEMPTS):
        with user.client.post(
            "/login", json={"email": email, "password": PASSWORD}, name="/login", catch_response=True
        ) as response:
            if response.status_code == 429:
                response.request_meta["name"] = THROTTLED_LOGIN
                response.success()
            elif response.ok:
                body = response.json()
                user.client.client.default_headers["Authorization"] = f"Bearer {body['access_token']}"
                if "refresh_token" in body:
                    gevent.spawn(keep_session, user, body["refresh_token"], body["expires_in"])
                return
            else:
                response.failure(f"login answered {response.status_code}")
                return
        gevent.sleep(min(5.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0))
    raise RuntimeError(f"{email}: still throttled after {MAX_LOGIN_ATTEMPTS} attempts")


# The student's catalogue browsing (docs/api.md): a filter of each kind, on the seeded values.
CATEGORY_IDS = [str(uuid.uuid5(seed.CATEGORY_NAMESPACE, slug)) for slug in CATEGORIES]
SORTS = ("newest", "rating", "price_asc", "price_desc", "popular")
FILTERS = {
    "category_id": lambda: {"category_id": random.choice(CATEGORY_IDS)},
    "level": lambda: {"level": random.choice(("beginner", "intermediate", "advanced"))},
    "is_free": lambda: {"is_free": random.choice(("true", "false"))},
    "price": lambda: dict(
        zip(("price_min", "price_max"), map(str, sorted(random.sample(seed.PRICES, 2))), strict=True)
    ),
    "min_rating": lambda: {"min_rating": random.choice(("3", "4", "4.5"))},
}
# Of list_courses' runs: the next page of the current browse by cursor while it has one to
# follow, else a plain page by offset (the version 1 listing), a sorted first page or a filtered one.
BROWSE_KINDS = {"offset": 2, "sorted": 1, "filtered": 2}
MAX_CURSOR_PAGES = 3


class StudentUser(FastHttpUser):
    weight = 7
    wait_time = between(1, 3)

    def on_start(self) -> None:
        login(self, f"user{random.randrange(N_TEACHERS, N_USERS)}@example.com")
        self.courses = CURRICULUM_COURSES.sample(self.client)
        self.lessons: dict[str, list[str]] = {}  # course id -> lesson ids, from its curriculum
        self.previews: set[str] = set()  # lesson ids marked is_preview
        self.free: set[str] = {course["id"] for course in self.courses if course["is_free"]}
        self.enrolled: set[str] = set()
        # The catalogue query being paged, its next cursor and how many more pages to follow.
        self.browsing: tuple[dict, str | None, int] = ({}, None, 0)

    def pick_course(self) -> dict:
        return random.choice(self.courses)

    @task(5)
    def list_courses(self) -> None:
        """Stats names: ``/courses`` (by offset), ``/courses?sort=<sort>`` (unfiltered),
        ``/courses?<filter>&sort=[sort]`` (one filter, any sort) and ``/courses?cursor&sort=<sort>``
        (the following pages of either, by cursor)."""
        query, cursor, pages_left = self.browsing
        if cursor and pages_left:
            response = self.client.get(
                "/courses", params={**query, "cursor": cursor}, name=f"/courses?cursor&sort={query['sort']}"
            )
            self.browsing = (query, response.json()["next_cursor"] if response.ok else None, pages_left - 1)
            return
        kind = random.choices(list(BROWSE_KINDS), weights=list(BROWSE_KINDS.values()))[0]
        if kind == "offset":
            self.client.get("/courses", params={"limit": 20, "offset": random.randrange(0, 200)}, name="/courses")
            return
        query = {"limit": 20, "sort": random.choice(SORTS)}
        name = f"/courses?sort={query['sort']}"
        if kind == "filtered":
            filter_name = random.choice(list(FILTERS))
            query.update(FILTERS[filter_name]())
            name = f"/courses?{filter_name}&sort=[sort]"
        response = self.client.get("/courses", params=query, name=name)
        self.browsing = (
            query,
            response.json()["next_cursor"] if response.ok else None,
            random.randint(1, MAX_CURSOR_PAGES),
        )

    @task(3)
    def view_course(self) -> None:
        self.client.get(f"/courses/{self.pick_course()['id']}", name="/courses/{course_id}")

    @task(3)
    def view_curriculum(self) -> None:
        course = self.pick_course()
        response = self.client.get(f"/courses/{course['id']}/curriculum", name="/courses/{course_id}/curriculum")
        if response.ok:
            lessons = [lesson for module in response.json()["modules"] for lesson in module["lessons"]]
            self.lessons[course["id"]] = [lesson["id"] for lesson in lessons]
            self.previews.update(lesson["id"] for lesson in lessons if lesson["is_preview"])

    @task(2)
    def view_lesson(self) -> None:
        """A lesson the student may open: of a free course or one they enrolled in, or a preview."""
        open_lessons = [
            (course_id, lesson_id)
            for course_id, lesson_ids in self.lessons.items()
            for lesson_id in lesson_ids
            if course_id in self.free or course_id in self.enrolled or lesson_id in self.previews
        ]
        if not open_lessons:
            return self.view_curriculum()
        course_id, lesson_id = random.choice(open_lessons)
        with self.client.get(f"/lessons/{lesson_id}", name="/lessons/{lesson_id}", catch_response=True) as response:
            if response.status_code == 403 and course_id in self.enrolled:
                response.success()  # enrolled moments ago: the course domain has not consumed the event yet

    @task(2)
    def enroll(self) -> None:
        # A student enrolls in a course whose curriculum they looked at, when they have one.
        viewed = [
            course for course in self.courses if course["id"] in self.lessons and course["id"] not in self.enrolled
        ]
        course = random.choice(viewed) if viewed else self.pick_course()
        body = {"course_id": course["id"]}
        if not course["is_free"]:
            with self.client.post(
                "/payments",
                json={"course_id": course["id"], "amount": course["price"]},
                name="/payments",
                catch_response=True,
            ) as payment:
                if payment.status_code == 409:  # paid already (the seed enrolls each student who paid)
                    payment.success()
                    self.enrolled.add(course["id"])
                    return
                if not payment.ok:
                    return
                body["payment_id"] = payment.json()["id"]
        with self.client.post("/enrollments", json=body, name="/enrollments", catch_response=True) as response:
            if response.status_code in (201, 409):
                self.enrolled.add(course["id"])
                response.success()

    @task(1)
    def complete_lesson(self) -> None:
        ready = [course_id for course_id in self.enrolled if self.lessons.get(course_id)]
        if not ready:
            return self.enroll()
        course_id = random.choice(ready)
        lesson_id = random.choice(self.lessons[course_id])
        with self.client.post(
            f"/progress/lessons/{lesson_id}/complete",
            json={"course_id": course_id},
            name="/progress/lessons/{lesson_id}/complete",
            catch_response=True,
        ) as response:
            if response.status_code in (201, 409):
                response.success()


class SearchUser(FastHttpUser):
    weight = 2
    wait_time = between(1, 2)

    @task
    def search(self) -> None:
        self.client.get("/courses", params={"q": random.choice(SEARCH_TERMS)}, name="/courses?q=[term]")


class TeacherUser(FastHttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        login(self, f"user{random.randrange(N_VERIFIED)}@example.com")

    @task(2)
    def get_me(self) -> None:
        self.client.get("/me", name="/me")

    @task(1)
    def create_course(self) -> None:
        is_free = random.random() < 0.5
        body = {
            "title": f"Load test course {random.randrange(10**9)}",
            "description": "Created by the load test.",
            "is_free": is_free,
            "price": None if is_free else "29.99",
            "duration_minutes": 120,
            "level": "beginner",
        }
        self.client.post("/courses", json=body, name="/courses [create]")

    @task(1)
    def my_courses(self) -> None:
        self.client.get("/courses/my", name="/courses/my")
