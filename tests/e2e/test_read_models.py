"""Event-carried state through the deployed stack: the course domain's events reach enrollment's
and payment's read models over the bus and their queues, and `make rebuild-read-models` refills
them from the owning domains."""

import psycopg
import pytest

from infra.local import read_models
from tests.e2e.conftest import E2E_STACK
from tests.support.polling import poll

pytestmark = pytest.mark.e2e

EVENT_WAIT_SECONDS = 20


def held(url: str, course_id: str):
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT price, total_lessons, version FROM course_facts WHERE course_id = %s", (course_id,)
        ).fetchone()
        lessons = (
            {str(r[0]) for r in conn.execute("SELECT lesson_id FROM course_lessons WHERE course_id = %s", (course_id,))}
            if "enrollment" in url
            else None
        )
    return row, lessons


def test_course_changes_reach_both_read_models(api, verified_teacher, e2e_database_urls):
    teacher = verified_teacher
    course = api.request(
        "POST", "/courses", token=teacher.token, json={"title": "Events", "is_free": False, "price": "30.00"}
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    assert api.request("PUT", f"/courses/{course_id}", token=teacher.token, json={"price": "25.00"}).status_code == 200
    module = api.request("POST", f"/courses/{course_id}/modules", token=teacher.token, json={"title": "M"}).json()
    lesson = api.request("POST", f"/modules/{module['id']}/lessons", token=teacher.token, json={"title": "L"}).json()

    enrollment_url, payment_url = e2e_database_urls["enrollment"], e2e_database_urls["payment"]
    row, lessons = poll(
        lambda: held(enrollment_url, course_id),
        lambda found: found[0] is not None and found[0][2] == 3,
        EVENT_WAIT_SECONDS,
    )
    assert str(row[0]) == "25.00" and row[1] == 1 and lessons == {lesson["id"]}
    row, _ = poll(
        lambda: held(payment_url, course_id),
        lambda found: found[0] is not None and found[0][2] == 3,
        EVENT_WAIT_SECONDS,
    )
    assert str(row[0]) == "25.00" and row[2] == 3

    assert api.request("DELETE", f"/lessons/{lesson['id']}", token=teacher.token).status_code == 204
    row, lessons = poll(lambda: held(enrollment_url, course_id), lambda found: found[0][2] == 4, EVENT_WAIT_SECONDS)
    assert row[1] == 0 and lessons == set()


def test_rebuild_refills_the_read_models(api, verified_teacher, register_user, e2e_database_urls):
    teacher, student = verified_teacher, register_user("student")
    course_id = api.request(
        "POST", "/courses", token=teacher.token, json={"title": "Rebuilt", "is_free": False, "price": "9.00"}
    ).json()["id"]
    payment = api.request("POST", "/payments", token=student.token, json={"course_id": course_id, "amount": "9.00"})
    assert payment.status_code == 201, payment.text
    poll(
        lambda: held(e2e_database_urls["enrollment"], course_id), lambda found: found[0] is not None, EVENT_WAIT_SECONDS
    )
    for domain in ("enrollment", "payment"):
        with psycopg.connect(e2e_database_urls[domain]) as conn:
            conn.execute("TRUNCATE course_facts CASCADE")
            if domain == "enrollment":
                conn.execute("TRUNCATE completed_payments")

    read_models.rebuild(E2E_STACK)

    assert held(e2e_database_urls["enrollment"], course_id)[0] == (9, 0, 1)
    assert held(e2e_database_urls["payment"], course_id)[0] == (9, 0, 1)
    with psycopg.connect(e2e_database_urls["enrollment"]) as conn:
        found = conn.execute(
            "SELECT student_id::text FROM completed_payments WHERE payment_id = %s", (payment.json()["id"],)
        ).fetchone()
    assert found == (student.id,)
    # The rebuilt read models serve the enrollment without asking anyone.
    enrolled = api.request(
        "POST", "/enrollments", token=student.token, json={"course_id": course_id, "payment_id": payment.json()["id"]}
    )
    assert enrolled.status_code == 201, enrolled.text
