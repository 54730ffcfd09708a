"""Bulk seed data for all five domain databases, loaded with PostgreSQL COPY.

    .venv/bin/python -m seed.generate --reset                 # full size, into the `make up` databases
    .venv/bin/python -m seed.generate --reset --scale 0.01    # 1% of it

Volumes (scale 1): 1 admin, 50,000 users (user{i}@example.com; i < 10,000 are teachers,
the first 7,000 of them verified; the rest students), 100,000 courses by verified
teachers, 3-5 modules for each of the 10,000 oldest courses with 3-8 lessons each (each
course's first lesson a preview), 12 categories (every course in the one of its topic),
200,000 enrollments (60% on free courses; each course's enrollment_count kept right, and each
recorded in the course domain's course_enrollments), 50,000 completed payments for paid
courses (at most one per student and course), each linked to its student's enrollment,
~100,000 reviews, each by a student enrolled in the course (40% fives; avg_rating/review_count
kept right), and the course domain's teachers (every teacher's name, as their UserRegistered
events record it). Every password is `password123`. created_at values spread over the past two
years. The same --random-seed gives the same data (ids included).

Database URLs: IDENTITY_DB_URL ... NOTIFICATION_DB_URL, defaulting to the local stack's.
"""

import argparse
import bisect
import itertools
import random
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import bcrypt
import psycopg

from infra.config import DOMAINS
from infra.migrate import database_urls_from_env
from seed import vocabulary

FULL = {
    "users": 50_000,
    "courses": 100_000,
    "courses_with_curriculum": 10_000,
    "reviews": 100_000,
    "enrollments": 200_000,
    "payments": 50_000,
}
TEACHER_SHARE = 0.20
VERIFIED_TEACHER_SHARE = 0.70
FREE_COURSE_SHARE = 0.5
FREE_ENROLLMENT_SHARE = 0.60
PRICES = tuple(Decimal(p) for p in ("9.99", "19.99", "29.99", "49.99", "79.99", "99.99"))
RATING_WEIGHTS = {5: 40, 4: 25, 3: 15, 2: 10, 1: 10}
HISTORY = timedelta(days=730)
PASSWORD = "password123"
# The seeded accounts' hash cost: the deployed default (Settings.bcrypt_rounds), what a login of the load test pays.
BCRYPT_ROUNDS = 12
ADMIN_EMAIL = "admin@eduplatform.com"
CATEGORY_NAMESPACE = uuid.UUID("6f1d9a3c-5b2e-4c7a-9e41-0d8b2f6a7c15")

# Tables each domain's seed fills, in load order, with the columns COPY writes.
TABLES = {
    "identity": {
        "users": ("id", "email", "password_hash", "name", "role", "is_verified", "email_verified", "created_at")
    },
    "course": {
        "teachers": ("id", "name"),
        "categories": ("id", "slug", "name"),
        "courses": (
            "id",
            "teacher_id",
            "title",
            "description",
            "is_free",
            "price",
            "duration_minutes",
            "level",
            "rating_sum",
            "review_count",
            "avg_rating",
            "created_at",
            "category_id",
            "enrollment_count",
        ),
        "modules": ("id", "course_id", "title", "position", "created_at"),
        "lessons": (
            "id",
            "module_id",
            "title",
            "content",
            "video_url",
            "duration_minutes",
            "position",
            "created_at",
            "is_preview",
        ),
        "reviews": ("id", "course_id", "student_id", "rating", "comment", "created_at"),
        "course_enrollments": ("student_id", "course_id", "enrolled_at"),
    },
    "payment": {"payments": ("id", "student_id", "course_id", "amount", "status", "created_at")},
    "enrollment": {"enrollments": ("id", "student_id", "course_id", "payment_id", "status", "enrolled_at")},
    "notification": {},
}


@dataclass
class Dataset:
    rows: dict[str, list[tuple]] = field(default_factory=dict)

    def count(self, table: str) -> int:
        return len(self.rows.get(table, ()))


class Generator:
    def __init__(self, random_seed: int, scale: float, now: datetime, password_hash: str) -> None:
        self.rng = random.Random(random_seed)
        self.scale = scale
        self.now = now
        self.password_hash = password_hash

    def volume(self, name: str) -> int:
        return max(1, round(FULL[name] * self.scale))

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self) -> datetime:
        return self.now - HISTORY * self.rng.random()

    def build(self) -> Dataset:
        data = Dataset()
        _teachers, verified, students = self.users(data)
        courses = self.courses(data, verified, self.categories(data))
        self.curriculum(data, courses[: self.volume("courses_with_curriculum")])
        self.enrollments_and_payments(data, courses, students)
        self.reviews(data, courses)
        return data

    def users(self, data: Dataset) -> tuple[list, list, list]:
        total = self.volume("users")
        n_teachers = round(total * TEACHER_SHARE)
        n_verified = round(n_teachers * VERIFIED_TEACHER_SHARE)
        # Every seeded address counts as verified (email_verified): seeded users log in and work at once.
        rows = [
            (self.new_id(), ADMIN_EMAIL, self.password_hash, "Administrator", "admin", True, True, self.now - HISTORY)
        ]
        teachers, verified, students = [], [], []
        for i in range(total):
            is_teacher = i < n_teachers
            is_verified = (i < n_verified) if is_teacher else True
            row = (
                self.new_id(),
                f"user{i}@example.com",
                self.password_hash,
                f"User {i}",
                "teacher" if is_teacher else "student",
                is_verified,
                True,
                self.moment(),
            )
            rows.append(row)
            (teachers if is_teacher else students).append(row[0])
            if is_teacher and is_verified:
                verified.append(row[0])
        data.rows["users"] = rows
        # What the course domain learns from the UserRegistered events: every teacher's name, verified or not.
        data.rows["teachers"] = [(row[0], row[3]) for row in rows if row[4] == "teacher"]
        return teachers, verified, students

    def categories(self, data: Dataset) -> dict[str, uuid.UUID]:
        """The categories, with ids derived from their slugs (the same in every seeded database); topic -> id."""
        rows, by_topic = [], {}
        for slug, (name, topics) in vocabulary.CATEGORIES.items():
            category_id = uuid.uuid5(CATEGORY_NAMESPACE, slug)
            rows.append((category_id, slug, name))
            by_topic.update(dict.fromkeys(topics, category_id))
        data.rows["categories"] = rows
        return by_topic

    def courses(
        self, data: Dataset, teacher_ids: Sequence[uuid.UUID], category_of: dict[str, uuid.UUID]
    ) -> list[tuple]:
        rng = self.rng
        created = sorted(self.moment() for _ in range(self.volume("courses")))
        rows = []
        for created_at in created:
            level = rng.choice(("beginner", "intermediate", "advanced"))
            topic = rng.choice(vocabulary.TOPICS)
            title = " ".join(
                filter(None, (rng.choice(vocabulary.LEVEL_WORDS[level]), topic, rng.choice(vocabulary.SUFFIXES)))
            )
            description = f"{title}: {rng.choice(vocabulary.DESCRIPTION_PHRASES)} and {rng.choice(vocabulary.DESCRIPTION_PHRASES)}."
            is_free = rng.random() < FREE_COURSE_SHARE
            price = None if is_free else rng.choice(PRICES)
            # rating_sum, review_count, avg_rating are filled in once reviews exist, enrollment_count
            # once enrollments do.
            rows.append(
                [
                    self.new_id(),
                    rng.choice(teacher_ids),
                    title,
                    description,
                    is_free,
                    price,
                    rng.randrange(30, 1200, 15),
                    level,
                    0,
                    0,
                    None,
                    created_at,
                    category_of[topic],
                    0,
                ]
            )
        data.rows["courses"] = rows
        return rows  # oldest first

    def curriculum(self, data: Dataset, courses: Iterable[list]) -> None:
        rng = self.rng
        modules, lessons = [], []
        for course in courses:
            course_id, created_at = course[0], course[11]
            for m in range(rng.randint(3, 5)):
                module_id = self.new_id()
                module_created = created_at + timedelta(minutes=m)
                modules.append((module_id, course_id, f"Module {m + 1}: {course[2][:60]}", m, module_created))
                for n in range(rng.randint(3, 8)):
                    lessons.append(
                        (
                            self.new_id(),
                            module_id,
                            f"Lesson {m + 1}.{n + 1}",
                            f"Lesson {n + 1} of module {m + 1}.",
                            f"https://videos.example.com/{module_id}/{n}",
                            rng.randrange(3, 40),
                            n,
                            module_created + timedelta(seconds=n),
                            m == 0 and n == 0,  # each course's first lesson is its preview
                        )
                    )
        data.rows["modules"] = modules
        data.rows["lessons"] = lessons

    def unique_pairs(self, count: int, students: Sequence, courses: Sequence, taken: set | None = None) -> list[tuple]:
        taken = set() if taken is None else taken
        pairs = []
        while len(pairs) < count:
            pair = (self.rng.randrange(len(students)), self.rng.randrange(len(courses)))
            if pair not in taken:
                taken.add(pair)
                pairs.append(pair)
        return pairs

    def reviews(self, data: Dataset, courses: list[list]) -> None:
        """Reviews by enrolled students only (POST /reviews refuses anyone else), each after its enrollment."""
        rng = self.rng
        ratings = list(RATING_WEIGHTS)
        cumulative = list(itertools.accumulate(RATING_WEIGHTS.values()))
        by_id = {course[0]: course for course in courses}
        enrollments = data.rows["enrollments"]
        rows = []
        for position in rng.sample(range(len(enrollments)), min(self.volume("reviews"), len(enrollments))):
            _, student_id, course_id, _, _, enrolled_at = enrollments[position]
            course = by_id[course_id]
            rating = ratings[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
            created_at = enrolled_at + (self.now - enrolled_at) * rng.random()
            rows.append(
                (
                    self.new_id(),
                    course_id,
                    student_id,
                    rating,
                    rng.choice(vocabulary.REVIEW_COMMENTS),
                    created_at,
                )
            )
            course[8] += rating
            course[9] += 1
        for course in courses:
            if course[9]:
                course[10] = (Decimal(course[8]) / course[9]).quantize(Decimal("0.01"))
        data.rows["reviews"] = rows

    def enrollments_and_payments(self, data: Dataset, courses: list[list], students: Sequence[uuid.UUID]) -> None:
        rng = self.rng
        free = [c for c in courses if c[4]]
        paid = [c for c in courses if not c[4]]
        total = self.volume("enrollments")
        n_free = round(total * FREE_ENROLLMENT_SHARE)
        n_payments = min(self.volume("payments"), total - n_free)
        enrollments, payments = [], []
        for pool, count, pays in ((free, n_free, 0), (paid, total - n_free, n_payments)):
            for position, (student_index, course_index) in enumerate(self.unique_pairs(count, students, pool)):
                course, student_id = pool[course_index], students[student_index]
                enrolled_at = course[11] + (self.now - course[11]) * rng.random()
                payment_id = None
                if position < pays:
                    payment_id = self.new_id()
                    payments.append(
                        (payment_id, student_id, course[0], course[5], "completed", enrolled_at - timedelta(seconds=30))
                    )
                course[13] += 1  # enrollment_count, as the course domain counts EnrollmentCreated events
                status = rng.choice(("enrolled", "enrolled", "in_progress", "completed"))
                enrollments.append((self.new_id(), student_id, course[0], payment_id, status, enrolled_at))
        data.rows["enrollments"] = enrollments
        data.rows["payments"] = payments
        # What the course domain learns from the EnrollmentCreated events: who opens which lessons.
        data.rows["course_enrollments"] = [(row[1], row[2], row[5]) for row in enrollments]


def reset(urls: dict[str, str]) -> None:
    for domain in DOMAINS:
        with psycopg.connect(urls[domain], autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
                )
            ]
            if tables:
                conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def load_domain(domain: str, url: str, data: Dataset) -> list[tuple[str, int, float]]:
    """COPY one domain's tables in one transaction; returns (table, rows, seconds) per table."""
    report = []
    with psycopg.connect(url) as conn:
        if domain == "identity":
            existing = conn.execute("SELECT count(*) FROM users WHERE lower(email) <> %s", (ADMIN_EMAIL,)).fetchone()[0]
            if existing:
                raise SystemExit("identity already holds users: run with --reset to replace the data")
            conn.execute("DELETE FROM users WHERE lower(email) = %s", (ADMIN_EMAIL,))
        for table, columns in TABLES[domain].items():
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in data.rows[table]:
                    copy.write_row(row)
            report.append((table, data.count(table), time.perf_counter() - started))
            print(f"  {domain}.{table}: {data.count(table):,} rows in {report[-1][2]:.1f}s", flush=True)
        conn.commit()
        # VACUUM, not only ANALYZE: it sets the loaded rows' hint bits and marks their pages
        # all-visible now, instead of the first requests after the seed (each read of a fresh
        # row writes its hint bits; an index-only scan reads the table until autovacuum runs).
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
    return report


def seed(
    urls: dict[str, str],
    random_seed: int,
    scale: float,
    do_reset: bool,
    now: datetime | None = None,
    bcrypt_rounds: int = BCRYPT_ROUNDS,
) -> Dataset:
    started = time.perf_counter()
    # One hash for every seeded account: hashing 50,000 passwords at cost 12 would take hours.
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(bcrypt_rounds)).decode()
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    data = Generator(random_seed, scale, now, password_hash).build()
    print(f"generated {sum(map(len, data.rows.values())):,} rows in {time.perf_counter() - started:.1f}s", flush=True)
    if do_reset:
        reset(urls)
    with ThreadPoolExecutor(max_workers=len(DOMAINS)) as pool:
        list(pool.map(lambda domain: load_domain(domain, urls[domain], data), DOMAINS))
    print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full volumes (e.g. 0.01)")
    parser.add_argument("--random-seed", type=int, default=42)
    parser.add_argument("--reset", action="store_true", help="empty every domain table first")
    parser.add_argument(
        "--bcrypt-rounds",
        type=int,
        default=BCRYPT_ROUNDS,
        help=f"cost of the seeded password hash (default {BCRYPT_ROUNDS})",
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    seed(database_urls_from_env(), args.random_seed, args.scale, args.reset, bcrypt_rounds=args.bcrypt_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
