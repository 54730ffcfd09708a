"""Bulk seed data for all five domain databases, read models included, loaded with PostgreSQL COPY.

    .venv/bin/python -m seed.generate --reset                 # full size, into the `make up` databases
    .venv/bin/python -m seed.generate --reset --scale 0.01    # 1% of it

Volumes (scale 1): 1 admin, 50,000 users (user{i}@example.com; i < 10,000 are teachers,
the first 7,000 of them verified; the rest students), 100,000 courses by verified
teachers, 3-5 modules for each of the 10,000 oldest courses with 3-8 lessons each (each
course's first lesson a preview), 12 categories (every course in the one of its topic),
200,000 enrollments (60% on free courses), 50,000 completed payments for paid courses (at most
one per student and course), each linked to its student's enrollment, ~100,000 reviews, each
by a student enrolled in the course (40% fives; avg_rating/review_count kept right). Every
password is `password123`. created_at values spread over the past two years. The same
--random-seed gives the same data (ids included).

The read models are written in the same pass, as the running stack would have built them from
the events of that history (READ_MODELS): the course domain's teachers, course_enrollments and
each course's enrollment_count; enrollment's course facts, course lessons and completed
payments; payment's course facts. No rebuild is needed after a seed (`make rebuild-read-models`
is the repair for a read model lost or restored).

Each domain loads in a connection and one transaction of its own, the five side by side, while
the rows are still being generated: a table is copied (binary COPY; with --reset the tables are
emptied in that transaction, so the rows are written frozen) as soon as its rows are complete,
its keys and indexes are built right after it, then it is analyzed; foreign keys are added once
the domain's tables are in. After the commit, VACUUM and ANALYZE of the domain's other tables.

Database URLs: IDENTITY_DB_URL ... NOTIFICATION_DB_URL, defaulting to the local stack's. Once
loaded, the stack's cache of reads is emptied (CACHE_URL, CACHE_KEY_PREFIX; the local stack's by
default): its entries were read from the data replaced.
"""

import argparse
import bisect
import gc
import itertools
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import bcrypt
import psycopg

from infra.config import CONFIG_ENV, DOMAINS, deploy_parameters, stack_name
from infra.migrate import database_urls_from_env
from infra.template.generate import LAYER_DIR
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
# A seeded course never changed: its facts are at their first version (courses.facts_version's
# default), in the course domain and in the read models alike.
FACTS_VERSION = 1

# Each domain's own tables the seed fills, with the columns COPY writes.
TABLES = {
    "identity": {
        "users": ("id", "email", "password_hash", "name", "role", "is_verified", "email_verified", "created_at")
    },
    "course": {
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
            "facts_version",
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
    },
    "payment": {"payments": ("id", "student_id", "course_id", "amount", "status", "created_at")},
    "enrollment": {"enrollments": ("id", "student_id", "course_id", "payment_id", "status", "enrolled_at")},
    "notification": {},
}
COURSE_FACT_COLUMNS = ("course_id", "teacher_id", "is_free", "price", "total_lessons", "version", "title", "level")
# What each domain keeps of other domains' facts, with the columns COPY writes: what their
# consumers (course.teacher_consumer, course.enrollment_consumer, eduplatform.read_models) or a
# rebuild (`make rebuild-read-models`) would have stored; tests/unit/test_seed_read_models.py
# checks the two agree. The course domain also counts EnrollmentCreated events in
# courses.enrollment_count (TABLES). A column left out (applied_at) takes its default, as there.
READ_MODELS = {
    "course": {
        "teachers": ("id", "name"),  # every teacher's UserRegistered event
        "course_enrollments": ("student_id", "course_id", "enrolled_at"),  # every EnrollmentCreated event
    },
    "enrollment": {
        "course_facts": COURSE_FACT_COLUMNS,
        "course_lessons": ("lesson_id", "course_id"),
        "completed_payments": ("payment_id", "student_id", "course_id", "amount"),
    },
    "payment": {"course_facts": COURSE_FACT_COLUMNS},
    "identity": {},
    "notification": {},
}


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector off for the block. The seed holds millions of rows, none in a
    reference cycle: the collector would walk them again and again (a third of the generation's
    time, and a long pause once they are loading) to free nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Dataset:
    """The generated rows of each table. A table's rows are published once complete, so that each
    domain's load can start on them while the rest is still being generated."""

    def __init__(self) -> None:
        self.rows: dict[str, list] = {}
        self._published = threading.Condition()
        self._abandoned = False

    def add(self, table: str, rows: list) -> None:
        with self._published:
            self.rows[table] = rows
            self._published.notify_all()

    def as_published(self, tables: Iterable[str]) -> Iterator[str]:
        """The tables, each as soon as its rows are published; raises when generating failed."""
        pending = list(tables)
        while pending:
            with self._published:
                self._published.wait_for(lambda: self._abandoned or any(table in self.rows for table in pending))
                if self._abandoned:
                    raise RuntimeError("generating the seed failed")
                ready = [table for table in pending if table in self.rows]
            for table in ready:
                pending.remove(table)
                yield table

    def abandon(self) -> None:
        """Release every load waiting for rows: generating failed."""
        with self._published:
            self._abandoned = True
            self._published.notify_all()

    def count(self, table: str) -> int:
        return len(self.rows.get(table, ()))


# The version (4) and variant bits of a random UUID, as uuid.UUID(version=4) sets them.
UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
UUID4_SET = (4 << 76) | (0x8000 << 48)
# A lesson's title and text by its module's and its own position (the same for every course).
LESSON_TEXTS = [[(f"Lesson {m + 1}.{n + 1}", f"Lesson {n + 1} of module {m + 1}.") for n in range(8)] for m in range(5)]
MINUTES = [timedelta(minutes=m) for m in range(5)]
SECONDS = [timedelta(seconds=n) for n in range(8)]


class Generator:
    """The seed's rows, from one random stream: the same random_seed, the same rows.

    Moments are drawn as POSIX timestamps and made datetimes once (datetime arithmetic costs
    several times more). The courses are complete first (their enrollment and review counts come
    from the pairs drawn before the enrollment and review rows), so their load, the longest,
    starts early.
    """

    def __init__(self, random_seed: int, scale: float, now: datetime, password_hash: str) -> None:
        self.rng = random.Random(random_seed)
        self.scale = scale
        self.now = now
        self.password_hash = password_hash
        self.now_ts = now.timestamp()

    def volume(self, name: str) -> int:
        return max(1, round(FULL[name] * self.scale))

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=(self.rng.getrandbits(128) & UUID4_CLEAR) | UUID4_SET)

    def pick(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.random() * len(options))]

    def build(self, data: Dataset | None = None) -> Dataset:
        """Every table's rows, each published into ``data`` once complete."""
        data = Dataset() if data is None else data
        with without_cycle_collection():
            verified, students = self.users(data)
            courses = self.courses(verified, self.categories(data))
            enrolled = self.enrolled_pairs(courses, len(students))
            reviewed = self.ratings(courses, enrolled)
            data.add("courses", courses)
            lessons = self.curriculum(data, courses[: self.volume("courses_with_curriculum")])
            self.course_facts(data, courses, lessons)
            moments = self.enrollments_and_payments(data, courses, students, enrolled)
            self.reviews(data, reviewed, moments)
        return data

    def users(self, data: Dataset) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """Every user (the admin first, then the teachers, the verified ones first); the verified teachers' and the students' ids."""
        total = self.volume("users")
        n_teachers = round(total * TEACHER_SHARE)
        n_verified = round(n_teachers * VERIFIED_TEACHER_SHARE)
        random_, new_id, password_hash = self.rng.random, self.new_id, self.password_hash
        start, span = self.now_ts - HISTORY.total_seconds(), HISTORY.total_seconds()
        # Every seeded address counts as verified (email_verified): seeded users log in and work at once.
        rows = [(new_id(), ADMIN_EMAIL, password_hash, "Administrator", "admin", True, True, self.now - HISTORY)]
        for i in range(total):
            is_teacher = i < n_teachers
            rows.append(
                (
                    new_id(),
                    f"user{i}@example.com",
                    password_hash,
                    f"User {i}",
                    "teacher" if is_teacher else "student",
                    i < n_verified or not is_teacher,
                    True,
                    datetime.fromtimestamp(start + span * random_(), UTC),
                )
            )
        data.add("users", rows)
        # What the course domain learns from the UserRegistered events: every teacher's name, verified or not.
        data.add("teachers", [(row[0], row[3]) for row in rows[1 : n_teachers + 1]])
        return [row[0] for row in rows[1 : n_verified + 1]], [row[0] for row in rows[n_teachers + 1 :]]

    def categories(self, data: Dataset) -> dict[str, uuid.UUID]:
        """The categories, with ids derived from their slugs (the same in every seeded database); topic -> id."""
        rows, by_topic = [], {}
        for slug, (name, topics) in vocabulary.CATEGORIES.items():
            category_id = uuid.uuid5(CATEGORY_NAMESPACE, slug)
            rows.append((category_id, slug, name))
            by_topic.update(dict.fromkeys(topics, category_id))
        data.add("categories", rows)
        return by_topic

    def courses(self, teacher_ids: Sequence[uuid.UUID], category_of: dict[str, uuid.UUID]) -> list[list]:
        """The courses, oldest first; their review and enrollment columns are counted afterwards."""
        random_, pick, new_id = self.rng.random, self.pick, self.new_id
        start, span = self.now_ts - HISTORY.total_seconds(), HISTORY.total_seconds()
        levels, phrases = ("beginner", "intermediate", "advanced"), vocabulary.DESCRIPTION_PHRASES
        durations = range(30, 1200, 15)
        rows = []
        for created_at in sorted(start + span * random_() for _ in range(self.volume("courses"))):
            level, topic = pick(levels), pick(vocabulary.TOPICS)
            title = " ".join(filter(None, (pick(vocabulary.LEVEL_WORDS[level]), topic, pick(vocabulary.SUFFIXES))))
            is_free = random_() < FREE_COURSE_SHARE
            rows.append(
                [
                    new_id(),
                    pick(teacher_ids),
                    title,
                    f"{title}: {pick(phrases)} and {pick(phrases)}.",
                    is_free,
                    None if is_free else pick(PRICES),
                    pick(durations),
                    level,
                    0,  # rating_sum, review_count, avg_rating: counted from the reviews
                    0,
                    None,
                    datetime.fromtimestamp(created_at, UTC),
                    category_of[topic],
                    0,  # enrollment_count, as the course domain counts EnrollmentCreated events
                    FACTS_VERSION,
                ]
            )
        return rows

    def enrolled_pairs(self, courses: list[list], n_students: int) -> list[tuple[int, int, bool]]:
        """Who enrolls in which course, each pair once: (student index, course index, paid for it);
        60% on free courses. Counts each course's enrollment_count."""
        random_ = self.rng.random
        free = [index for index, course in enumerate(courses) if course[4]]
        paid = [index for index, course in enumerate(courses) if not course[4]]
        total = self.volume("enrollments")
        n_free = round(total * FREE_ENROLLMENT_SHARE)
        n_payments = min(self.volume("payments"), total - n_free)
        pairs: list[tuple[int, int, bool]] = []
        taken: set[tuple[int, int]] = set()
        for pool, count, pays in ((free, n_free, 0), (paid, total - n_free, n_payments)):
            for position in range(count):
                while True:
                    pair = (int(random_() * n_students), pool[int(random_() * len(pool))])
                    if pair not in taken:
                        break
                taken.add(pair)
                pairs.append((*pair, position < pays))
                courses[pair[1]][13] += 1
        return pairs

    def ratings(self, courses: list[list], enrolled: list[tuple[int, int, bool]]) -> list[tuple[int, int]]:
        """Which enrollments are reviewed, with what rating: (position in ``enrolled``, rating), 40% fives.
        Counts each course's rating_sum, review_count and avg_rating."""
        random_ = self.rng.random
        ratings = list(RATING_WEIGHTS)
        cumulative = list(itertools.accumulate(RATING_WEIGHTS.values()))
        reviewed = []
        for position in self.rng.sample(range(len(enrolled)), min(self.volume("reviews"), len(enrolled))):
            rating = ratings[bisect.bisect_right(cumulative, random_() * cumulative[-1])]
            course = courses[enrolled[position][1]]
            course[8] += rating
            course[9] += 1
            reviewed.append((position, rating))
        for course in courses:
            if course[9]:
                course[10] = (Decimal(course[8]) / course[9]).quantize(Decimal("0.01"))
        return reviewed

    def curriculum(self, data: Dataset, courses: Sequence[list]) -> list[int]:
        """The courses' modules and lessons; how many lessons each course has (in ``courses`` order)."""
        random_, new_id = self.rng.random, self.new_id
        modules, lessons, course_lessons, counts = [], [], [], []
        for course in courses:
            course_id, created_at, count = course[0], course[11], 0
            for m in range(3 + int(random_() * 3)):
                module_id = new_id()
                module_created = created_at + MINUTES[m]
                modules.append((module_id, course_id, f"Module {m + 1}: {course[2][:60]}", m, module_created))
                video_url = f"https://videos.example.com/{module_id}/"
                for n in range(3 + int(random_() * 6)):
                    lesson_id = new_id()
                    title, content = LESSON_TEXTS[m][n]
                    lessons.append(
                        (
                            lesson_id,
                            module_id,
                            title,
                            content,
                            video_url + str(n),
                            3 + int(random_() * 37),
                            n,
                            module_created + SECONDS[n],
                            m == 0 and n == 0,  # each course's first lesson is its preview
                        )
                    )
                    course_lessons.append((lesson_id, course_id))
                    count += 1
            counts.append(count)
        data.add("modules", modules)
        data.add("lessons", lessons)
        # Enrollment's copy of each course's lessons (what a lesson completion is checked against).
        data.add("course_lessons", course_lessons)
        return counts

    def course_facts(self, data: Dataset, courses: list[list], lessons: list[int]) -> None:
        """Enrollment's and payment's copy of each course's facts, as the course domain's events carry them."""
        counts = itertools.chain(lessons, itertools.repeat(0))
        data.add(
            "course_facts",
            [(c[0], c[1], c[4], c[5], total, c[14], c[2], c[7]) for c, total in zip(courses, counts, strict=False)],
        )

    def enrollments_and_payments(
        self, data: Dataset, courses: list[list], students: Sequence[uuid.UUID], enrolled: list[tuple[int, int, bool]]
    ) -> list[float]:
        """The enrollments of the pairs drawn, each paid one with its completed payment (30 s before);
        the moment of each enrollment (a timestamp)."""
        random_, new_id, now_ts = self.rng.random, self.new_id, self.now_ts
        created = [course[11].timestamp() for course in courses]
        statuses = ("enrolled", "enrolled", "in_progress", "completed")
        enrollments, payments, moments = [], [], []
        for student_index, course_index, paid in enrolled:
            course, student_id, course_created = courses[course_index], students[student_index], created[course_index]
            moment = course_created + (now_ts - course_created) * random_()
            payment_id = None
            if paid:
                payment_id = new_id()
                paid_at = datetime.fromtimestamp(moment - 30, UTC)
                payments.append((payment_id, student_id, course[0], course[5], "completed", paid_at))
            status = statuses[int(random_() * 4)]
            enrollments.append(
                (new_id(), student_id, course[0], payment_id, status, datetime.fromtimestamp(moment, UTC))
            )
            moments.append(moment)
        data.add("enrollments", enrollments)
        data.add("payments", payments)
        # What enrollment learns from the PaymentCompleted events (every seeded payment is completed).
        data.add("completed_payments", [(row[0], row[1], row[2], row[3]) for row in payments])
        # What the course domain learns from the EnrollmentCreated events: who opens which lessons.
        data.add("course_enrollments", [(row[1], row[2], row[5]) for row in enrollments])
        return moments

    def reviews(self, data: Dataset, reviewed: list[tuple[int, int]], moments: list[float]) -> None:
        """The reviews (POST /reviews takes them from enrolled students only), each after its enrollment."""
        random_, pick, new_id, now_ts = self.rng.random, self.pick, self.new_id, self.now_ts
        enrollments = data.rows["enrollments"]
        rows = []
        for position, rating in reviewed:
            _, student_id, course_id, _, _, _ = enrollments[position]
            moment = moments[position]
            created_at = datetime.fromtimestamp(moment + (now_ts - moment) * random_(), UTC)
            rows.append((new_id(), course_id, student_id, rating, pick(vocabulary.REVIEW_COMMENTS), created_at))
        data.add("reviews", rows)


# ---- loading ----------------------------------------------------------------------------------------------------


def domain_tables(conn: psycopg.Connection) -> list[str]:
    """Every table of the domain but its migrations' bookkeeping."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations' ORDER BY tablename"
        )
    ]


@contextmanager
def foreign_keys_added_after(conn: psycopg.Connection, tables: Sequence[str]) -> Iterator[None]:
    """Drop the foreign keys from or to the tables for the block, then add them again (each one
    checking join over the loaded rows instead of a trigger per row), in the caller's transaction."""
    foreign_keys = conn.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND (conrelid = ANY(%(tables)s::regclass[]) OR confrelid = ANY(%(tables)s::regclass[])) "
        "ORDER BY oid",
        {"tables": list(tables)},
    ).fetchall()
    for table, name, _ in foreign_keys:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    yield
    for table, name, definition in foreign_keys:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


@contextmanager
def indexes_built_after(conn: psycopg.Connection, table: str) -> Iterator[None]:
    """Drop the table's keys and indexes for the block, then build them again from their own
    definitions (one sort each over the loaded rows instead of an insertion per row), in the
    caller's transaction; the foreign keys that use a key must be dropped already."""
    keys = conn.execute(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype IN ('p', 'u', 'x') AND conrelid = %s::regclass ORDER BY oid",
        (table,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i WHERE indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) "
        "ORDER BY indexrelid",
        (table,),
    ).fetchall()
    for name, _ in keys:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    yield
    for name, definition in keys:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for _, definition in indexes:
        conn.execute(definition)


def binary_types(conn: psycopg.Connection, table: str, columns: Sequence[str]) -> list[int]:
    """The type of each column as binary COPY sends it: text for an enum (its binary form is its label)."""
    types = dict(
        conn.execute(
            "SELECT a.attname, CASE WHEN t.typtype = 'e' THEN 'text'::regtype::oid ELSE a.atttypid END "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass AND a.attnum > 0",
            (table,),
        ).fetchall()
    )
    return [types[column] for column in columns]


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple], freeze: bool
) -> None:
    """COPY the rows in binary; ``freeze`` when the table was emptied in this transaction (the rows
    are then written frozen and their pages all-visible: no hint bits set by the first reads, and
    nothing left for VACUUM to do)."""
    types = binary_types(conn, table, columns)
    options = "FORMAT binary, FREEZE" if freeze else "FORMAT binary"
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN ({options})") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def load_domain(domain: str, url: str, data: Dataset, do_reset: bool) -> None:
    """One domain's tables and read models in one transaction, each table as soon as its rows are
    published: COPY, its keys and indexes, ANALYZE. Then VACUUM, and ANALYZE of the other tables."""
    tables = {**TABLES[domain], **READ_MODELS[domain]}
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        every_table = domain_tables(conn)
        if do_reset and every_table:
            conn.execute(f"TRUNCATE {', '.join(every_table)} CASCADE")
        elif domain == "identity":
            conn.execute("DELETE FROM users WHERE lower(email) = %s", (ADMIN_EMAIL,))
        with foreign_keys_added_after(conn, list(tables)):
            for table in data.as_published(tables):
                with indexes_built_after(conn, table):
                    copy_rows(conn, table, tables[table], data.rows[table], freeze=do_reset)
                # Statistics of the rows (and of the indexes' expressions) while the rest is generated.
                conn.execute(f"ANALYZE {table}")
        conn.commit()
        loaded = time.perf_counter()
        conn.autocommit = True
        # The catalogues' dead rows the index rebuilds left, the visibility of rows not written
        # frozen (without --reset), and the statistics of the tables emptied or kept.
        conn.execute("VACUUM")
        if others := [table for table in every_table if table not in tables]:
            conn.execute(f"ANALYZE {', '.join(others)}")
    rows = sum(data.count(table) for table in tables)
    print(
        f"  {domain}: {rows:,} rows loaded, indexed and analyzed {loaded - started:.1f}s after the start, "
        f"vacuumed in {time.perf_counter() - loaded:.1f}s",
        flush=True,
    )


def refuse_to_double(identity_url: str) -> None:
    with psycopg.connect(identity_url) as conn:
        existing = conn.execute("SELECT count(*) FROM users WHERE lower(email) <> %s", (ADMIN_EMAIL,)).fetchone()
    if existing and existing[0]:
        raise SystemExit("identity already holds users: run with --reset to replace the data")


def seed(
    urls: dict[str, str],
    random_seed: int,
    scale: float,
    do_reset: bool,
    now: datetime | None = None,
    bcrypt_rounds: int = BCRYPT_ROUNDS,
) -> Dataset:
    started = time.perf_counter()
    if not do_reset:
        refuse_to_double(urls["identity"])
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    data = Dataset()
    with without_cycle_collection(), ThreadPoolExecutor(max_workers=len(DOMAINS)) as pool:
        loads = [pool.submit(load_domain, domain, urls[domain], data, do_reset) for domain in DOMAINS]
        try:
            # One hash for every seeded account: hashing 50,000 passwords at cost 12 would take hours.
            password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(bcrypt_rounds)).decode()
            Generator(random_seed, scale, now, password_hash).build(data)
        except BaseException:
            data.abandon()
            raise
        print(
            f"generated {sum(map(len, data.rows.values())):,} rows in {time.perf_counter() - started:.1f}s", flush=True
        )
        for load in loads:
            load.result()
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
    forget_cached_reads()
    return 0


def forget_cached_reads() -> None:
    """Empty the stack's cache of reads (CACHE_URL and CACHE_KEY_PREFIX, defaulting to the local
    stack's): its entries were read from the data the seed replaced, and no write invalidated them."""
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
    import redis

    from eduplatform.cache import Cache

    url = os.environ.get("CACHE_URL", deploy_parameters(CONFIG_ENV).get("CacheUrl", ""))
    prefix = os.environ.get("CACHE_KEY_PREFIX", f"{stack_name(CONFIG_ENV)}:")
    try:
        removed = Cache(url, prefix, connect_timeout_seconds=5.0, timeout_seconds=5.0).forget_everything()
    except redis.RedisError as exc:
        print(f"cache at {url} not emptied ({exc}): its entries expire with their TTL", file=sys.stderr)
        return
    print(f"cache emptied: {removed:,} keys of reads of the data replaced", flush=True)


if __name__ == "__main__":
    sys.exit(main())
