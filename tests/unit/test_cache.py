"""The Redis cache of the course domain's public reads, against the machine's real Redis.

Served from the cache (a change made behind the application's back stays unseen), never
stale after a write through the API (every write of the course domain, then every read it
affects), safe against a reader racing a writer, and Redis down, refusing or silent costs
speed only: every read still answers from PostgreSQL.
"""

import socket
import threading
import uuid

import psycopg
import pytest
import redis
from pydantic import BaseModel

from tests.support.lambda_events import call
from tests.unit.test_course import (
    CURRICULUM,
    DELETE_LESSON,
    DELETE_MODULE,
    GET,
    GET_LESSON,
    LIST,
    UPDATE,
    UPDATE_LESSON,
    UPDATE_MODULE,
    Teacher,
    new_course,
    new_lesson,
    new_module,
)

from eduplatform import cache as cache_module
from eduplatform import settings
from eduplatform.cache import Cache

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis must answer on 127.0.0.1:6379 for these tests (`redis-server --daemonize yes`): {exc}")
    yield client
    client.close()


@pytest.fixture
def cached(monkeypatch, redis_client):
    """The course functions use the real Redis under a prefix of this test's own."""
    prefix = f"unit-{uuid.uuid4().hex[:12]}:"
    monkeypatch.setenv("CACHE_URL", REDIS_URL)
    monkeypatch.setenv("CACHE_KEY_PREFIX", prefix)
    settings.get_settings.cache_clear()
    cache_module.reset_cache()
    yield prefix
    cache_module.reset_cache()
    settings.get_settings.cache_clear()
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


def behind_the_back(url: str, statement: str, *params) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, params)


def test_reads_are_served_from_the_cache(cached, course_db, token_for):
    teacher = Teacher(token_for)
    course = new_course(teacher.token, title="Cached title")
    lesson = new_lesson(teacher.token, new_module(teacher.token, course["id"])["id"], title="Cached lesson")
    first = [
        call(GET, {"course_id": course["id"]}).json(),
        call(CURRICULUM, {"course_id": course["id"]}).json(),
        call(GET_LESSON, {"lesson_id": lesson["id"]}).json(),
        call(LIST, query={"q": "cached"}).json(),
    ]
    behind_the_back(course_db, "UPDATE courses SET title = 'Changed behind the back'")
    behind_the_back(course_db, "UPDATE lessons SET title = 'Changed behind the back'")
    again = [
        call(GET, {"course_id": course["id"]}).json(),
        call(CURRICULUM, {"course_id": course["id"]}).json(),
        call(GET_LESSON, {"lesson_id": lesson["id"]}).json(),
        call(LIST, query={"q": "cached"}).json(),
    ]
    assert again == first
    assert first[3]["total"] == 1 and first[3]["items"][0]["title"] == "Cached title"


def test_a_seed_empties_the_cache_of_reads_of_the_data_it_replaced(cached, course_db, token_for, redis_client):
    from seed.generate import forget_cached_reads

    teacher = Teacher(token_for)
    course = new_course(teacher.token, title="Pineapple syllabus")
    assert call(GET, {"course_id": course["id"]}).json()["title"] == "Pineapple syllabus"
    assert call(LIST, query={"q": "pineapple"}).json()["total"] == 1
    limit_key = f"{cached}limits:ip:POST /login:192.0.2.1:1"  # the stack's other keys stay
    redis_client.set(limit_key, 3)
    behind_the_back(course_db, "UPDATE courses SET title = 'Quince syllabus'")  # as a bulk load does
    assert call(GET, {"course_id": course["id"]}).json()["title"] == "Pineapple syllabus"

    forget_cached_reads()
    assert not list(redis_client.scan_iter(match=f"{cached}cache:*"))
    assert redis_client.get(limit_key) == b"3"
    assert call(GET, {"course_id": course["id"]}).json()["title"] == "Quince syllabus"
    assert call(LIST, query={"q": "pineapple"}).json()["total"] == 0


def test_forgetting_takes_the_prefix_literally(redis_client):
    prefix = f"unit-{uuid.uuid4().hex[:12]}*"
    other = f"{prefix[:-1]}-other:cache:entry"
    redis_client.set(f"{prefix}cache:entry", 1)
    redis_client.set(other, 1)
    try:
        assert Cache(REDIS_URL, prefix).forget_everything() == 1
        assert redis_client.get(other) == b"1"
    finally:
        redis_client.delete(other, f"{prefix}cache:entry")


def test_without_a_cache_url_reads_go_to_the_database(course_db, token_for):
    teacher = Teacher(token_for)
    course = new_course(teacher.token, title="Uncached")
    behind_the_back(course_db, "UPDATE courses SET title = 'Seen at once'")
    assert call(GET, {"course_id": course["id"]}).json()["title"] == "Seen at once"


def test_no_stale_entry_outlives_a_write_of_the_course_domain(cached, course_db, token_for):
    teacher = Teacher(token_for)
    course = new_course(teacher.token, title="Before")
    course_id = course["id"]
    module = new_module(teacher.token, course_id, title="Module before")
    lesson = new_lesson(teacher.token, module["id"], title="Lesson before")

    def reads():
        return {
            "course": call(GET, {"course_id": course_id}).json(),
            "curriculum": call(CURRICULUM, {"course_id": course_id}).json(),
            "lesson": call(GET_LESSON, {"lesson_id": lesson["id"]}),
            "catalogue": call(LIST, query={"limit": 100}).json(),
            "search": call(LIST, query={"q": "after"}).json(),
        }

    reads()  # every entry cached
    assert call(UPDATE, {"course_id": course_id}, body={"title": "After"}, token=teacher.token).status == 200
    now = reads()
    assert now["course"]["title"] == "After" and now["curriculum"]["course"]["title"] == "After"
    assert now["catalogue"]["items"][0]["title"] == "After" and now["search"]["total"] == 1

    new_course(teacher.token, title="Another after")  # a new course changes lists and search totals
    now = reads()
    assert now["catalogue"]["total"] == 2 and now["search"]["total"] == 2

    assert (
        call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": "Module after"}, token=teacher.token).status
        == 200
    )
    assert reads()["curriculum"]["modules"][0]["title"] == "Module after"

    second = new_lesson(teacher.token, module["id"], title="Second lesson")
    assert reads()["curriculum"]["total_lessons"] == 2

    assert (
        call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body={"title": "Lesson after"}, token=teacher.token).status
        == 200
    )
    now = reads()
    assert now["lesson"].json()["title"] == "Lesson after"
    assert [item["title"] for item in now["curriculum"]["modules"][0]["lessons"]] == ["Lesson after", "Second lesson"]

    assert call(DELETE_LESSON, {"lesson_id": second["id"]}, token=teacher.token).status == 204
    assert call(GET_LESSON, {"lesson_id": second["id"]}).status == 404
    assert reads()["curriculum"]["total_lessons"] == 1

    from tests.unit.test_course import review as enrolled_review

    review = enrolled_review(token_for("student"), course_id, rating=4)
    assert review.status == 201, review.text
    now = reads()
    assert now["course"]["review_count"] == 1 and now["course"]["avg_rating"] == 4
    assert next(item for item in now["catalogue"]["items"] if item["id"] == course_id)["review_count"] == 1

    assert call(DELETE_MODULE, {"module_id": module["id"]}, token=teacher.token).status == 204
    now = reads()
    assert now["curriculum"]["modules"] == [] and now["lesson"].status == 404  # its lessons went with it


def test_a_course_write_invalidates_only_the_searches_it_matches(cached, course_db, token_for):
    teacher = Teacher(token_for)
    rust = new_course(teacher.token, title="Rust basics")
    new_course(teacher.token, title="Go basics")

    def search(term):
        return call(LIST, query={"q": term}).json()

    assert search("rust")["total"] == 1 and search("golang")["total"] == 0 and search("BASICS")["total"] == 2
    behind_the_back(course_db, "UPDATE courses SET title = title || ' (changed behind the back)'")

    new_course(teacher.token, title="Golang in depth")  # matches "golang" only
    assert search("golang")["total"] == 1
    assert search("rust")["items"][0]["title"] == "Rust basics"  # still the cached page
    assert search("BASICS")["total"] == 2 and "changed" not in search("BASICS")["items"][0]["title"]

    # A course that stops matching a term changes that term's pages too (its text before the write).
    assert call(UPDATE, {"course_id": rust["id"]}, body={"title": "Zig"}, token=teacher.token).status == 200
    assert search("rust")["total"] == 0
    assert search("BASICS")["total"] == 1
    assert search("zig")["total"] == 1


def test_terms_not_read_within_the_window_leave_the_registry(cached, redis_client):
    cache = Cache(REDIS_URL, cached)
    registry = f"{cache.prefix}registry:terms"
    redis_client.zadd(registry, {"old": 1.0})
    cache.read_through("page", "1", ["v"], Value, lambda: Value(n=1), 60, registry=("terms", "fresh"))
    assert cache.registered("terms", 90) == ["fresh"]
    assert redis_client.zrange(registry, 0, -1) == [b"fresh"]


def test_versions_expire_and_a_version_set_again_never_revives_an_old_entry(cached, redis_client):
    cache = Cache(REDIS_URL, cached)
    version_key = f"{cache.prefix}version:thing"
    cache.read_through("thing", "1", ["thing"], Value, lambda: Value(n=1), 60)  # cached under no version yet
    cache.invalidate("thing")
    assert 0 < redis_client.ttl(version_key) <= cache_module.VERSION_TTL_SECONDS
    assert cache.read_through("thing", "1", ["thing"], Value, lambda: Value(n=2), 60).n == 2
    redis_client.delete(version_key)  # as if it had expired
    cache.invalidate("thing")  # a later write sets it again: to a value never used before
    assert cache.read_through("thing", "1", ["thing"], Value, lambda: Value(n=3), 60).n == 3
    with pytest.raises(ValueError, match="TTL must be shorter than VERSION_TTL_SECONDS"):
        cache.read_through("thing", "1", ["thing"], Value, lambda: Value(n=4), cache_module.VERSION_TTL_SECONDS)


class Value(BaseModel):
    n: int


def test_a_reader_racing_a_writer_never_stores_a_value_readers_see(cached):
    cache = Cache(REDIS_URL, cached)
    stored = {"n": 1}

    def read_old_value_while_a_write_commits() -> Value:
        value = Value(**stored)  # the reader has read the database ...
        stored["n"] = 2  # ... a writer commits ...
        cache.invalidate("thing:1")  # ... and bumps the version, before the reader stores what it read
        return value

    assert cache.read_through("thing", "1", ["thing:1"], Value, read_old_value_while_a_write_commits, 60).n == 1
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(**stored), 60).n == 2
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=99), 60).n == 2  # now cached


def test_a_cached_read_is_one_round_trip_even_after_redis_forgot_its_scripts(cached, redis_client, monkeypatch):
    cache = Cache(REDIS_URL, cached)
    cache.read_through("thing", "1", ["thing:1", "all"], Value, lambda: Value(n=1), 60, registry=("terms", "a"))
    commands = []
    send = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *args, **kw: commands.append(args[0]) or send(self, *args, **kw)
    )
    assert cache.read_through("thing", "1", ["thing:1", "all"], Value, lambda: Value(n=2), 60).n == 1
    assert commands == ["EVALSHA"]
    redis_client.script_flush()  # a restarted Redis: the script is sent again, once
    commands.clear()
    assert (
        cache.read_through("thing", "1", ["thing:1", "all"], Value, lambda: Value(n=3), 60, registry=("terms", "b")).n
        == 1
    )
    assert commands == ["EVALSHA", "SCRIPT LOAD", "EVALSHA"]
    assert cache.registered("terms", 60) == ["a", "b"]


def test_one_slow_answer_costs_its_own_read_and_failures_in_a_row_back_off(cached, monkeypatch):
    cache = Cache(REDIS_URL, cached)
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=1), 60).n == 1
    read_entry, failures = cache._read_entry, {"left": 0}

    def slow_then_fine(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise redis.TimeoutError("Timeout reading from socket")
        return read_entry(*args, **kwargs)

    monkeypatch.setattr(cache, "_read_entry", slow_then_fine)
    failures["left"] = 1
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=2), 60).n == 2  # the database's
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=3), 60).n == 1  # Redis again
    failures["left"] = cache_module.FAILURES_BEFORE_BACKOFF
    for _ in range(cache_module.FAILURES_BEFORE_BACKOFF):
        assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=4), 60).n == 4
    assert failures["left"] == 0
    # Redis answers again, but the instance backs off for BACKOFF_SECONDS: the database's value
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=5), 60).n == 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_redis_refusing_connections_falls_back_to_the_database(monkeypatch, course_db, token_for):
    monkeypatch.setenv("CACHE_URL", f"redis://127.0.0.1:{free_port()}/0")
    settings.get_settings.cache_clear()
    cache_module.reset_cache()
    try:
        teacher = Teacher(token_for)
        course = new_course(teacher.token, title="No Redis")
        for _ in range(3):
            assert call(GET, {"course_id": course["id"]}).json()["title"] == "No Redis"
        assert (
            call(UPDATE, {"course_id": course["id"]}, body={"title": "Still fine"}, token=teacher.token).status == 200
        )
        assert call(LIST, query={"q": "still"}).json()["total"] == 1
    finally:
        cache_module.reset_cache()
        settings.get_settings.cache_clear()


def test_redis_that_accepts_but_never_answers_falls_back_to_the_database():
    silent = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept_and_say_nothing():
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    try:
        cache = Cache(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", "silent:")
        assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=7), 60).n == 7
        cache.invalidate("thing:1")  # logged, never raised
        assert accepted, "the client did reach the silent server"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        silent.close()


def test_redis_pausing_mid_run_falls_back_then_serves_again(cached, redis_client, monkeypatch):
    monkeypatch.setattr(cache_module, "BACKOFF_SECONDS", 0.0)
    cache = Cache(REDIS_URL, cached)
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=1), 60).n == 1
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=2), 60).n == 1  # cached
    redis_client.execute_command("CLIENT", "PAUSE", "500", "ALL")  # Redis stops answering every client
    try:
        assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=3), 60).n == 3  # the database's
    finally:
        redis_client.execute_command("CLIENT", "UNPAUSE")
    assert cache.read_through("thing", "1", ["thing:1"], Value, lambda: Value(n=4), 60).n == 1  # served again


# ---- gated content and the cache ------------------------------------------------------------------------------


def test_no_cache_path_answers_gated_content_to_a_caller_not_allowed(cached, course_db, token_for, redis_client):
    from tests.unit.test_course import PaidCourse, enroll

    paid = PaidCourse(Teacher(token_for), token_for)
    enroll(paid.student_id, paid.course["id"])
    outsider = token_for("student")

    def reads(token: str | None) -> dict:
        curriculum = call(CURRICULUM, {"course_id": paid.course["id"]}, token=token).json()
        lessons = {lesson["title"]: lesson for lesson in curriculum["modules"][0]["lessons"]}
        return {"curriculum": lessons, "lesson": call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=token)}

    # Allowed callers fill the cache with the whole curriculum and lesson first, then others read.
    for token in (paid.student, paid.teacher):
        assert reads(token)["lesson"].status == 200
    assert any(redis_client.scan_iter(match=f"{cached}cache:full-curriculum:*"))
    assert any(redis_client.scan_iter(match=f"{cached}cache:stored-lesson:*"))
    for token, status in ((None, 401), (outsider, 403)):
        seen = reads(token)
        assert seen["lesson"].status == status and "Paid text" not in seen["lesson"].text
        assert seen["curriculum"]["Gated"]["content"] is None and seen["curriculum"]["Gated"]["video_url"] is None
        assert seen["curriculum"]["Preview"]["content"] == "Free text"
    # And the enrolled student still reads everything from the same entries.
    assert reads(paid.student)["curriculum"]["Gated"]["content"] == "Paid text"


def test_an_enrollment_opens_lessons_already_cached_as_closed(cached, course_db, token_for):
    from tests.unit.test_course import PaidCourse, enroll

    paid = PaidCourse(Teacher(token_for), token_for)
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=paid.student).status == 403
    enroll(paid.student_id, paid.course["id"])
    assert call(GET_LESSON, {"lesson_id": paid.gated["id"]}, token=paid.student).status == 200
