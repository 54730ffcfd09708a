"""The bulk seed at a small scale: counts, cross-domain consistency, determinism, login."""

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from infra.config import DOMAINS
from seed import generate
from tests.support import databases
from tests.support.lambda_events import call

SCALE = 0.01
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded():
    urls = {domain: databases.prepare("seedtest", domain) for domain in DOMAINS}
    generate.seed(urls, random_seed=7, scale=SCALE, do_reset=True, now=NOW)
    yield urls
    for url in urls.values():
        databases.drop_database(url)


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def scalar(url: str, sql: str):
    return rows(url, sql)[0][0]


def test_volumes_at_scale(seeded):
    assert scalar(seeded["identity"], "SELECT count(*) FROM users") == 500 + 1
    assert rows(
        seeded["identity"], "SELECT role::text, is_verified, count(*) FROM users GROUP BY 1, 2 ORDER BY 1, 2"
    ) == [("admin", True, 1), ("student", True, 400), ("teacher", False, 30), ("teacher", True, 70)]
    assert scalar(seeded["course"], "SELECT count(*) FROM courses") == 1000
    assert scalar(seeded["course"], "SELECT count(*) FROM reviews") == 1000
    assert scalar(seeded["enrollment"], "SELECT count(*) FROM enrollments") == 2000
    assert scalar(seeded["payment"], "SELECT count(*) FROM payments WHERE status = 'completed'") == 500
    modules_per_course = rows(seeded["course"], "SELECT count(*) FROM modules GROUP BY course_id")
    assert len(modules_per_course) == 100 and all(3 <= n <= 5 for (n,) in modules_per_course)
    lessons_per_module = rows(seeded["course"], "SELECT count(*) FROM lessons GROUP BY module_id")
    assert all(3 <= n <= 8 for (n,) in lessons_per_module)


def test_teacher_and_student_numbering(seeded):
    users = dict(rows(seeded["identity"], "SELECT email, role::text || ':' || is_verified FROM users"))
    assert users["user0@example.com"] == "teacher:true" and users["user69@example.com"] == "teacher:true"
    assert users["user70@example.com"] == "teacher:false" and users["user99@example.com"] == "teacher:false"
    assert users["user100@example.com"] == "student:true"


def test_courses_belong_to_verified_teachers_and_the_oldest_have_curricula(seeded):
    verified = {r[0] for r in rows(seeded["identity"], "SELECT id FROM users WHERE role = 'teacher' AND is_verified")}
    teachers = {r[0] for r in rows(seeded["course"], "SELECT DISTINCT teacher_id FROM courses")}
    assert teachers <= verified
    with_modules = {r[0] for r in rows(seeded["course"], "SELECT DISTINCT course_id FROM modules")}
    oldest = {r[0] for r in rows(seeded["course"], "SELECT id FROM courses ORDER BY created_at LIMIT 100")}
    assert with_modules == oldest
    span = scalar(seeded["course"], "SELECT max(created_at) - min(created_at) FROM courses")
    assert span.days > 600


def test_reviews_by_students_with_ratings_kept_right(seeded):
    students = {r[0] for r in rows(seeded["identity"], "SELECT id FROM users WHERE role = 'student'")}
    assert {r[0] for r in rows(seeded["course"], "SELECT DISTINCT student_id FROM reviews")} <= students
    mismatches = rows(
        seeded["course"],
        """
        SELECT c.id FROM courses c LEFT JOIN reviews r ON r.course_id = c.id
        GROUP BY c.id, c.review_count, c.avg_rating
        HAVING c.review_count <> count(r.id) OR c.avg_rating IS DISTINCT FROM round(avg(r.rating), 2)""",
    )
    assert mismatches == []
    ratings = Counter(dict(rows(seeded["course"], "SELECT rating, count(*) FROM reviews GROUP BY rating")))
    assert 0.33 < ratings[5] / sum(ratings.values()) < 0.47


def test_enrollments_and_payments_are_consistent(seeded):
    courses = {r[0]: (r[1], r[2]) for r in rows(seeded["course"], "SELECT id, is_free, price FROM courses")}
    students = {r[0] for r in rows(seeded["identity"], "SELECT id FROM users WHERE role = 'student'")}
    enrollments = rows(seeded["enrollment"], "SELECT student_id, course_id, payment_id FROM enrollments")
    assert {student for student, _, _ in enrollments} <= students
    free_share = sum(courses[course][0] for _, course, _ in enrollments) / len(enrollments)
    assert free_share == pytest.approx(0.60, abs=0.001)

    payments = {r[0]: r[1:] for r in rows(seeded["payment"], "SELECT id, student_id, course_id, amount FROM payments")}
    linked = {payment: (student, course) for student, course, payment in enrollments if payment}
    assert set(linked) == set(payments)
    for payment_id, (student_id, course_id, amount) in payments.items():
        is_free, price = courses[course_id]
        assert not is_free and amount == price and amount > Decimal(0)
        assert linked[payment_id] == (student_id, course_id)


def test_the_same_random_seed_gives_the_same_data():
    first = generate.Generator(3, 0.002, NOW, "hash").build()
    second = generate.Generator(3, 0.002, NOW, "hash").build()
    other = generate.Generator(4, 0.002, NOW, "hash").build()
    assert first.rows == second.rows
    assert first.rows["courses"] != other.rows["courses"]


def test_seeded_users_log_in_with_password123(seeded, monkeypatch):
    from eduplatform import db, settings

    monkeypatch.setenv("DATABASE_URL", seeded["identity"])
    settings.get_settings.cache_clear()
    db.reset_database()
    try:
        for email in ("admin@eduplatform.com", "user0@example.com", "user450@example.com"):
            response = call("identity.handlers.login", body={"email": email, "password": "password123"})
            assert response.status == 200, (email, response.text)
            me = call("identity.handlers.me", token=response.json()["access_token"]).json()
            assert me["email_verified"] is True, email
    finally:
        db.reset_database()
        settings.get_settings.cache_clear()


def test_reset_replaces_and_without_it_the_seed_refuses_to_double(seeded):
    with pytest.raises(SystemExit):
        generate.seed(seeded, random_seed=7, scale=SCALE, do_reset=False, now=NOW)
    assert scalar(seeded["course"], "SELECT count(*) FROM courses") == 1000


def test_at_least_8_categories_and_every_course_in_one(seeded):
    categories = rows(seeded["course"], "SELECT slug, name FROM categories")
    assert len(categories) >= 8
    assert scalar(seeded["course"], "SELECT count(*) FROM courses WHERE category_id IS NULL") == 0
    used = scalar(seeded["course"], "SELECT count(DISTINCT category_id) FROM courses")
    assert used == len(categories)  # 1,000 courses over 50 topics reach every category
    # A course's category is its topic's: every Python course is a programming course.
    assert rows(
        seeded["course"],
        "SELECT DISTINCT c.slug FROM courses JOIN categories c ON c.id = category_id "
        "WHERE title LIKE '% Python %' OR title LIKE '% Python'",
    ) == [("programming",)]


def test_enrollment_counts_match_the_seeded_enrollments(seeded):
    enrolled = Counter(
        dict(rows(seeded["enrollment"], "SELECT course_id, count(*) FROM enrollments GROUP BY course_id"))
    )
    counts = dict(rows(seeded["course"], "SELECT id, enrollment_count FROM courses"))
    assert sum(counts.values()) == 2000
    assert {course_id: n for course_id, n in counts.items() if n} == dict(enrolled)


def test_the_course_domain_knows_every_seeded_enrollment(seeded):
    enrolled = set(rows(seeded["enrollment"], "SELECT student_id, course_id, enrolled_at FROM enrollments"))
    known = set(rows(seeded["course"], "SELECT student_id, course_id, enrolled_at FROM course_enrollments"))
    assert known == enrolled and len(known) == 2000


def test_the_course_domain_knows_every_seeded_teacher_by_name(seeded):
    registered = set(rows(seeded["identity"], "SELECT id, name FROM users WHERE role = 'teacher'"))
    assert set(rows(seeded["course"], "SELECT id, name FROM teachers")) == registered and len(registered) == 100
    unnamed = "SELECT count(*) FROM courses WHERE NOT EXISTS (SELECT 1 FROM teachers WHERE id = courses.teacher_id)"
    assert scalar(seeded["course"], unnamed) == 0


def test_reviews_come_only_from_students_enrolled_in_the_course(seeded):
    sql = "SELECT student_id, course_id, enrolled_at FROM enrollments"
    enrolled = {(student, course): at for student, course, at in rows(seeded["enrollment"], sql)}
    reviews = rows(seeded["course"], "SELECT student_id, course_id, created_at FROM reviews")
    assert len(reviews) == 1000
    for student, course, created_at in reviews:
        assert created_at >= enrolled[(student, course)]


def test_at_most_one_completed_payment_per_student_and_course(seeded):
    assert not rows(
        seeded["payment"],
        "SELECT student_id, course_id FROM payments WHERE status = 'completed' GROUP BY 1, 2 HAVING count(*) > 1",
    )


def test_each_curriculum_opens_with_one_preview_lesson(seeded):
    previews = rows(
        seeded["course"],
        "SELECT m.course_id, count(*) FILTER (WHERE l.is_preview), bool_or(l.is_preview AND m.position = 0 "
        "AND l.position = 0) FROM lessons l JOIN modules m ON m.id = l.module_id GROUP BY m.course_id",
    )
    assert previews and all(count == 1 and first for _, count, first in previews)
