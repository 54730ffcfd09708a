"""PERFORMANCE: course search on 100,000 generated courses uses the trigram indexes, not a table scan.

Takes a few seconds (most of it generating the rows). The EXPLAIN output and timings it
prints are the figures of docs/performance.md ("Course search"):

    .venv/bin/python -m pytest tests/unit/test_course_search.py -s -q
"""

import time
import uuid

import psycopg
import pytest

from course import repository, service
from course.schemas import CatalogueQuery

COURSES = 100_000
SELECTIVE_TERM = "Course 73519"  # one course: "... course 73519" (the case differs on purpose)


def generate_courses(url: str) -> float:
    """Insert COURSES varied courses (titles and descriptions from word lists) and ANALYZE; seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO courses (teacher_id, title, description, is_free, created_at) "
            "SELECT %(teacher)s, "
            "(ARRAY['Python','Java','Go','Rust','SQL','Cooking','Guitar','Design'])[1 + i %% 8] || ' for ' || "
            "(ARRAY['beginners','professionals','kids','data people','the web'])[1 + i %% 5] || ', course ' || i, "
            "'Learn ' || (ARRAY['loops','functions','chords','bread','layouts','queries','testing'])[1 + i %% 7] || "
            "' in ' || (1 + i %% 40) || ' short lessons', "
            "true, now() - make_interval(mins => i) "
            "FROM generate_series(1, %(courses)s) AS i",
            {"teacher": uuid.uuid4(), "courses": COURSES},
        )
        conn.execute("ANALYZE courses")
    return time.perf_counter() - started


def explain(url: str, term: str) -> dict[str, str]:
    """EXPLAIN ANALYZE of the repository's own page and count statements for ``term``."""
    page, count, params = repository.catalogue_queries(CatalogueQuery(q=term))
    plans = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, statement in (("page", page), ("count", count)):
            rows = conn.execute(
                f"EXPLAIN (ANALYZE, COSTS OFF) {statement}", {**params, "limit": 20, "offset": 0}
            ).fetchall()
            plans[name] = "\n".join(row[0] for row in rows)
    return plans


@pytest.fixture(scope="module")
def generated_catalogue(unit_database_urls):
    from tests.support import databases

    url = unit_database_urls.get("course") or databases.prepare("test", "course")
    unit_database_urls["course"] = url
    databases.truncate_all(url)
    seconds = generate_courses(url)
    print(f"\ngenerated {COURSES} courses in {seconds:.1f} s")
    yield url
    databases.truncate_all(url)


def test_selective_search_uses_the_trigram_indexes_not_a_seq_scan(generated_catalogue):
    plans = explain(generated_catalogue, SELECTIVE_TERM)
    for name, plan in plans.items():
        print(f"\n--- q={SELECTIVE_TERM!r}, {name} query\n{plan}")
        assert "Bitmap Index Scan on courses_search_text_trgm_idx" in plan, plan
        assert "Seq Scan on courses" not in plan, plan


@pytest.mark.parametrize("term", ["python", "go"])
def test_first_page_of_a_common_term_walks_the_newest_first_index(generated_catalogue, term):
    """A term matching thousands of courses: the page stops after 20 matches in newest-first order."""
    plans = explain(generated_catalogue, term)
    for name, plan in plans.items():
        print(f"\n--- q={term!r}, {name} query\n{plan}")
    assert "Index Scan using courses_newest_idx on courses" in plans["page"], plans["page"]


def test_rare_two_character_term_falls_back_to_a_sequential_scan(generated_catalogue):
    """The documented limit (docs/performance.md): under three characters there is no trigram to look up.

    If this starts failing, the planner found something better: update the documentation.
    """
    plans = explain(generated_catalogue, "ab")
    for name, plan in plans.items():
        print(f"\n--- q='ab', {name} query\n{plan}")
    assert "Seq Scan on courses" in plans["count"]


def test_search_through_the_service_is_fast_and_right(generated_catalogue, monkeypatch):
    from eduplatform import db, settings

    monkeypatch.setenv("DATABASE_URL", generated_catalogue)
    settings.get_settings.cache_clear()
    db.reset_database()
    try:
        service.catalogue(CatalogueQuery(q=SELECTIVE_TERM), 20, 0)  # warm the connection
        started = time.perf_counter()
        page = service.catalogue(CatalogueQuery(q=SELECTIVE_TERM), 20, 0)
        items, total = page.items, page.total
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"\nservice.catalogue(q={SELECTIVE_TERM!r}) over {COURSES} courses: {elapsed_ms:.1f} ms, total={total}")
        assert total == 1 and items[0].title.endswith(", course 73519")
    finally:
        db.reset_database()
        settings.get_settings.cache_clear()
