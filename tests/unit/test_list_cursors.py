"""Cursors (docs/api.md) on the other list endpoints: GET /enrollments/me, /payments/me and
/notifications/me (newest first) and GET /admin/teachers/pending (oldest first).

Each pages by cursor in exactly its offset order (ties by id), carries ``total`` on cursor pages
only with ``with_total=true`` and ``next_cursor`` null on the last page, refuses a modified,
foreign or malformed cursor with 422, and, paged while rows are inserted, returns every row that
existed at the start exactly once (hypothesis).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.lambda_events import call
from tests.unit.test_catalogue_cursors import _tamper, paged

from eduplatform import cursors

BASE = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Listed:
    """One list endpoint: its handler, its domain, who calls it, and how a row of it is written."""

    module: str
    endpoint: str
    domain: str
    role: str
    owner: str | None  # the parameter naming whose list it is (what a cursor is bound to besides the endpoint)
    # (connection, owner, timestamp, listed) -> the new row's id; listed=False writes a row the
    # caller's list must not show (another user's, or a teacher already verified).
    insert: Callable[[psycopg.Connection, uuid.UUID, datetime, bool], str]
    oldest_first: bool = False


def _owned(statement: str) -> Callable[[psycopg.Connection, uuid.UUID, datetime, bool], str]:
    def insert(conn: psycopg.Connection, owner: uuid.UUID, at: datetime, listed: bool) -> str:
        return str(conn.execute(statement, {"owner": owner if listed else uuid.uuid4(), "at": at}).fetchone()[0])

    return insert


def _teacher(conn: psycopg.Connection, owner: uuid.UUID, at: datetime, listed: bool) -> str:
    return str(
        conn.execute(
            "INSERT INTO users (email, password_hash, name, role, is_verified, created_at) "
            "VALUES (gen_random_uuid() || '@example.com', 'not-a-hash', 'Teacher', 'teacher', %s, %s) RETURNING id",
            (not listed, at),
        ).fetchone()[0]
    )


LISTS = {
    "enrollments": Listed(
        "enrollment.handlers.my_enrollments",
        "GET /enrollments/me",
        "enrollment",
        "student",
        "student_id",
        _owned(
            # Each in a course enrollment's read model knows (the list shows its facts).
            "WITH course AS (INSERT INTO course_facts (course_id, teacher_id, title, level, is_free, total_lessons, "
            "version) VALUES (gen_random_uuid(), gen_random_uuid(), 'C', 'beginner', true, 0, 1) RETURNING course_id) "
            "INSERT INTO enrollments (student_id, course_id, enrolled_at) SELECT %(owner)s, course_id, %(at)s FROM course "
            "RETURNING id"
        ),
    ),
    "payments": Listed(
        "payment.handlers.my_payments",
        "GET /payments/me",
        "payment",
        "student",
        "student_id",
        _owned(
            "INSERT INTO payments (student_id, course_id, amount, status, created_at) "
            "VALUES (%(owner)s, gen_random_uuid(), 19.99, 'completed', %(at)s) RETURNING id"
        ),
    ),
    "notifications": Listed(
        "notification.handlers.my_notifications",
        "GET /notifications/me",
        "notification",
        "teacher",
        "user_id",
        _owned(
            "INSERT INTO notifications (user_id, type, title, created_at) VALUES (%(owner)s, 'payment', 'Paid', %(at)s) "
            "RETURNING id"
        ),
    ),
    "pending teachers": Listed(
        "identity.handlers.pending_teachers",
        "GET /admin/teachers/pending",
        "identity",
        "admin",
        None,
        _teacher,
        oldest_first=True,
    ),
}


class Caller:
    """A user of one list: writes rows of it (their own, or others') and reads it."""

    def __init__(self, listed: Listed, url: str, token_for) -> None:
        self.listed, self.url = listed, url
        self.user_id = uuid.uuid4()
        self.token = token_for(listed.role, user_id=self.user_id)
        self.written: list[tuple[datetime, str]] = []  # (timestamp, id) of the rows of this caller's list

    def write(self, seconds: list[int], listed: bool = True) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for second in seconds:
                at = BASE + timedelta(seconds=second)
                row_id = self.listed.insert(conn, self.user_id, at, listed)
                if listed:
                    self.written.append((at, row_id))

    def expected(self) -> list[str]:
        """The list's order: by timestamp, ties by id (as PostgreSQL orders uuids: by their bytes)."""
        ordered = sorted(
            self.written, key=lambda row: (row[0], uuid.UUID(row[1])), reverse=not self.listed.oldest_first
        )
        return [row_id for _, row_id in ordered]

    def get(self, **query):
        return call(self.listed.module, query=query, token=self.token)

    def page(self, **query) -> dict:
        response = self.get(**query)
        assert response.status == 200, response.text
        return response.json()


@pytest.fixture(params=list(LISTS))
def caller(request, domain_database, token_for) -> Caller:
    listed = LISTS[request.param]
    return Caller(listed, domain_database(listed.domain), token_for)


def test_cursor_pages_follow_the_offset_order_ties_broken_by_id(caller):
    caller.write([-(i // 3) for i in range(8)])  # three rows a second: ties by id matter
    caller.write([0, -1], listed=False)
    expected = caller.expected()
    assert [item["id"] for item in caller.page(limit=100)["items"]] == expected
    pages = paged(caller.listed.module, token=caller.token, limit=3)
    assert [item["id"] for page in pages for item in page["items"]] == expected
    assert [len(page["items"]) for page in pages] == [3, 3, 2] and pages[-1]["next_cursor"] is None
    assert pages[0]["total"] == 8 and all("total" not in page for page in pages[1:])
    counted = caller.page(limit=3, cursor=pages[0]["next_cursor"], with_total="true")
    assert counted["total"] == 8 and counted["items"] == pages[1]["items"]
    # An offset page carries a cursor too: it continues from its last item.
    by_offset = caller.page(limit=2, offset=3)
    assert caller.page(limit=3, cursor=by_offset["next_cursor"])["items"] == pages[1]["items"][2:] + pages[2]["items"]
    assert caller.page(limit=8)["next_cursor"] is None  # exactly one full page: no next


def test_a_modified_foreign_or_malformed_cursor_is_422(caller, token_for):
    caller.write(list(range(5)))
    cursor = caller.page(limit=2)["next_cursor"]
    flipped = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    listed = caller.listed
    own = cursors.fingerprint(listed.endpoint, {listed.owner: caller.user_id} if listed.owner else {})
    # Signed for this very list (as the tests' key signs): accepted, so the cases below fail for their own reason.
    assert caller.get(limit=2, cursor=cursors.encode(own, [BASE.isoformat(), uuid.uuid4()])).status == 200
    bad = {
        "tampered payload": _tamper(cursor),
        "tampered signature": flipped,
        "another list's": cursors.encode(
            cursors.fingerprint("GET /courses", {"sort": "newest"}), [BASE.isoformat(), uuid.uuid4()]
        ),
        "signed, but not a key of this list": cursors.encode(own, ["not a time", "not an id"]),
        "signed, a time without a zone": cursors.encode(own, ["2026-06-01T00:00:00", uuid.uuid4()]),
        "signed, one value": cursors.encode(own, [BASE.isoformat()]),
    }
    if listed.owner:  # a user's list: another user's cursor does not continue it
        other = Caller(caller.listed, caller.url, token_for)
        other.write(list(range(3)))
        bad["another user's"] = other.page(limit=1)["next_cursor"]
    for name, value in bad.items():
        response = caller.get(limit=2, cursor=value)
        assert response.status == 422, (name, response.text)
        (error,) = response.json()["detail"]
        assert error["loc"] == ["query", "cursor"] and "modified" in error["msg"], (name, error)
    for name, query in {
        "with an offset": {"cursor": cursor, "offset": 2},
        "not a cursor": {"cursor": "hello"},
        "too long": {"cursor": "a" * 600 + ".b"},
    }.items():
        response = caller.get(limit=2, **query)
        assert response.status == 422, (name, response.text)
        assert response.json()["detail"][0]["loc"][0] == "query", (name, response.text)


# ---- property: inserts while paging -------------------------------------------------------------------------------

SECONDS = st.integers(-5, 5)  # around the existing rows: new ones land before, among and after them


@pytest.mark.parametrize("name", list(LISTS))
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    existing=st.lists(SECONDS, min_size=1, max_size=20),
    inserted=st.lists(st.lists(SECONDS, max_size=4), max_size=8),
    limit=st.integers(1, 6),
)
def test_paging_while_rows_are_inserted_returns_every_existing_row_once(
    domain_database, token_for, name, existing, inserted, limit
):
    listed = LISTS[name]
    caller = Caller(listed, domain_database(listed.domain), token_for)
    caller.write(existing)
    caller.write(existing[:2], listed=False)
    at_start = set(caller.expected())
    seen, body, batches = [], caller.page(limit=limit), iter(inserted)
    for _ in range(200):
        seen += [item["id"] for item in body["items"]]
        caller.write(next(batches, []))  # rows written between two pages
        if body["next_cursor"] is None:
            break
        body = caller.page(limit=limit, cursor=body["next_cursor"])
    else:
        pytest.fail("paging by cursor never reached the last page")
    assert len(seen) == len(set(seen)), "a row came twice"
    assert at_start <= set(seen), "a row that existed at the start was skipped"
    assert set(seen) <= set(caller.expected()), "a row of another list was shown"
