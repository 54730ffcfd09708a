"""PERFORMANCE: a deep page by cursor of GET /enrollments/me, /payments/me, /notifications/me and
/admin/teachers/pending costs what the first page costs.

The seed's tables at scale 1 (seed.generate: 50,000 users of whom 3,000 teachers await
verification, 200,000 enrollments, 50,000 payments) are loaded into databases of their own
(``<TEST_DATABASE_PREFIX>seedplan_<domain>``); the seed writes no notifications, so those its
events would have made are added (one per registration, payment and enrollment: 300,000). A
student's own lists are short in the seed (5 enrollments on average), so one heavy user gets
20,000 rows of each list on top (two rows per timestamp: ties by id matter). Everything is
ANALYZEd as `make seed` does, and the repositories' own page statements are EXPLAINed. Takes
~40 s; the figures are those of docs/performance.md ("Deep pages by cursor"):

    .venv/bin/python -m pytest tests/unit/test_list_plans.py -s -q
"""

import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from seed import generate
from tests.support import databases

from eduplatform.cursors import KeysetList

from enrollment import repository as enrollment_repository
from identity import repository as identity_repository
from notification import repository as notification_repository
from payment import repository as payment_repository

HEAVY_USER = uuid.UUID("00000000-0000-4000-8000-00000000beef")
HEAVY_ROWS = 20_000
TIMES = 5  # runs of a statement whose median is reported (the cores are shared: single runs jitter)


@dataclass(frozen=True)
class ListPlan:
    domain: str
    listing: KeysetList
    index: str
    params: dict[str, Any]
    depth: int  # the deep page starts after this many rows


LISTS = {
    "enrollments": ListPlan(
        "enrollment",
        enrollment_repository.STUDENT_ENROLLMENTS,
        "enrollments_student_newest_idx",
        {"student_id": HEAVY_USER},
        10_000,
    ),
    "payments": ListPlan(
        "payment",
        payment_repository.STUDENT_PAYMENTS,
        "payments_student_newest_idx",
        {"student_id": HEAVY_USER},
        10_000,
    ),
    "notifications": ListPlan(
        "notification",
        notification_repository.USER_NOTIFICATIONS,
        "notifications_user_newest_idx",
        {"user_id": HEAVY_USER},
        10_000,
    ),
    "pending teachers": ListPlan(
        "identity", identity_repository.PENDING_TEACHERS, "users_pending_teachers_idx", {}, 2_000
    ),
}

# The heavy user's rows: two per minute going back in time.
HEAVY = {
    "enrollment": "INSERT INTO enrollments (student_id, course_id, enrolled_at) "
    "SELECT %(user)s, gen_random_uuid(), %(now)s - (i / 2) * interval '1 minute' FROM generate_series(1, %(n)s) i",
    "payment": "INSERT INTO payments (student_id, course_id, amount, status, created_at) "
    "SELECT %(user)s, gen_random_uuid(), 19.99, 'completed', %(now)s - (i / 2) * interval '1 minute' "
    "FROM generate_series(1, %(n)s) i",
    "notification": "INSERT INTO notifications (user_id, type, title, created_at) "
    "SELECT %(user)s, 'payment', 'Payment received', %(now)s - (i / 2) * interval '1 minute' "
    "FROM generate_series(1, %(n)s) i",
}


def copy_rows(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@pytest.fixture(scope="module")
def seeded_lists():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    data = generate.Generator(42, 1.0, now, "not-a-hash").build()
    users, payments, enrollments = data.rows["users"], data.rows["payments"], data.rows["enrollments"]
    notifications = [(row[0], "registration", "Welcome", row[-1]) for row in users]
    notifications += [(row[1], "payment", "Payment received", row[5]) for row in payments]
    notifications += [(row[1], "enrollment", "Enrolled", row[5]) for row in enrollments]
    urls = {}
    for domain in ("identity", "enrollment", "payment", "notification"):
        urls[domain] = url = databases.prepare("seedplan", domain)
        with psycopg.connect(url) as conn:
            for table, columns in generate.TABLES[domain].items():
                copy_rows(conn, table, columns, data.rows[table])
            if domain == "enrollment":  # the read model of course facts each listed enrollment shows
                facts = [(c[0], c[1], c[2], c[7], c[4], c[5], 0, 1) for c in data.rows["courses"]]
                columns = ("course_id", "teacher_id", "title", "level", "is_free", "price", "total_lessons", "version")
                copy_rows(conn, "course_facts", columns, facts)
            if domain == "notification":
                copy_rows(conn, "notifications", ("user_id", "type", "title", "created_at"), notifications)
            if domain in HEAVY:
                conn.execute(HEAVY[domain], {"user": HEAVY_USER, "now": now, "n": HEAVY_ROWS})
            if domain == "enrollment":  # a completed lesson per enrollment, which each listed enrollment counts
                conn.execute(
                    "INSERT INTO lesson_progress (enrollment_id, student_id, course_id, lesson_id) "
                    "SELECT id, student_id, course_id, gen_random_uuid() FROM enrollments"
                )
            conn.execute("ANALYZE")
    yield urls
    for url in urls.values():
        databases.drop_database(url)


def timed(conn: psycopg.Connection, statement: str, params: dict[str, Any]) -> float:
    runs = []
    for _ in range(TIMES):
        started = time.perf_counter()
        conn.execute(statement, params, prepare=False).fetchall()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


@pytest.mark.parametrize("name", list(LISTS))
def test_a_deep_cursor_page_costs_what_the_first_page_costs(seeded_lists, name):
    """The page after the depth-th row, by cursor: an index condition on (key, id) of the list's own
    index and no sort; the same page by offset walks that many index entries first."""
    plan = LISTS[name]
    listing, order = plan.listing, plan.listing.order
    first, deep = listing.page_statement(False), listing.page_statement(True)
    with psycopg.connect(seeded_lists[plan.domain], autocommit=True, row_factory=dict_row) as conn:
        last = conn.execute(first, {**plan.params, "limit": 1, "offset": plan.depth - 1}).fetchone()
        after = order.parse([last[order.key].isoformat(), str(last["id"])])
        by_cursor = {**plan.params, **after, "limit": 20, "offset": 0}
        explained = "\n".join(
            row["QUERY PLAN"] for row in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {deep}", by_cursor, prepare=False)
        )
        first_page = conn.execute(first, {**plan.params, "limit": 20, "offset": 0}).fetchall()
        deep_page = conn.execute(deep, by_cursor).fetchall()
        by_offset = conn.execute(first, {**plan.params, "limit": 20, "offset": plan.depth}).fetchall()
        timings = {
            "first": timed(conn, first, {**plan.params, "limit": 20, "offset": 0}),
            "cursor": timed(conn, deep, by_cursor),
            "offset": timed(conn, first, {**plan.params, "limit": 20, "offset": plan.depth}),
        }
    print(
        f"\n--- {name}: first page {timings['first']:.2f} ms, after {plan.depth:,} by cursor "
        f"{timings['cursor']:.2f} ms, offset {plan.depth:,} {timings['offset']:.2f} ms\n{explained}"
    )
    assert len(first_page) == 20 and deep_page == by_offset  # the cursor reads exactly the offset's page
    assert f"Index Scan using {plan.index}" in explained and "Index Cond:" in explained and "ROW(" in explained
    assert "Sort" not in explained and "Seq Scan" not in explained
    assert timings["cursor"] < 5 and timings["cursor"] < timings["offset"]


def test_a_students_payments_for_one_course_are_read_off_their_own_index(seeded_lists):
    """GET /payments/me?course_id= of the heavy user (20,000 payments, one per course): an index
    condition on both the student and the course of payments_student_course_newest_idx, no sort, and
    not a walk over the student's payments for other courses."""
    listing = payment_repository.STUDENT_PAYMENTS_FOR_COURSE
    with psycopg.connect(seeded_lists["payment"], autocommit=True, row_factory=dict_row) as conn:
        course_id = conn.execute(
            "SELECT course_id FROM payments WHERE student_id = %s ORDER BY created_at DESC, id DESC OFFSET 10000 LIMIT 1",
            (HEAVY_USER,),
        ).fetchone()["course_id"]
        params = {"student_id": HEAVY_USER, "course_id": course_id, "limit": 21, "offset": 0}
        explained = "\n".join(
            row["QUERY PLAN"]
            for row in conn.execute(
                f"EXPLAIN (ANALYZE, COSTS OFF) {listing.page_statement(False)}", params, prepare=False
            )
        )
        page = conn.execute(listing.page_statement(False), params).fetchall()
        first = timed(conn, listing.page_statement(False), params)
    print(f"\n--- payments for one course: {first:.2f} ms\n{explained}")
    assert [row["course_id"] for row in page] == [course_id]
    assert "Index Scan using payments_student_course_newest_idx" in explained
    assert "course_id = " in explained.split("Index Cond:", 1)[1].splitlines()[0]
    assert "Sort" not in explained and "Filter" not in explained
