"""Cursors (docs/api.md) through the deployed stack on the lists of the other domains:
GET /enrollments/me, /payments/me, /notifications/me (newest first) and
GET /admin/teachers/pending (oldest first)."""

import pytest

from tests.support.polling import poll

pytestmark = pytest.mark.e2e

NOTIFICATION_WAIT_SECONDS = 30


def by_cursor(api, path: str, token: str, limit: int = 2, between=None) -> list[dict]:
    """Every page of a list by cursor (``between()`` runs between two pages); each page's body."""
    pages = []
    response = api.request("GET", path, token=token, params={"limit": limit})
    for _ in range(200):
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            return pages
        if between:
            between()
        response = api.request("GET", path, token=token, params={"limit": limit, "cursor": pages[-1]["next_cursor"]})
    pytest.fail(f"paging {path} by cursor never reached the last page")


def ids(pages: list[dict]) -> list[str]:
    return [item["id"] for page in pages for item in page["items"]]


def assert_cursor_pages(api, path: str, token: str, count: int) -> list[dict]:
    """Pages by cursor in the offset order; total on the first page only, or with with_total=true."""
    pages = by_cursor(api, path, token)
    everything = api.request("GET", path, token=token, params={"limit": 100}).json()
    assert ids(pages) == [item["id"] for item in everything["items"]] and len(ids(pages)) == count
    assert pages[0]["total"] == count and all("total" not in page for page in pages[1:])
    counted = api.request(
        "GET", path, token=token, params={"limit": 2, "cursor": pages[0]["next_cursor"], "with_total": "true"}
    )
    assert counted.status_code == 200 and counted.json()["total"] == count
    return pages


def assert_refused(response) -> None:
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "cursor"] and "modified" in error["msg"]


def test_payments_and_enrollments_page_by_cursor(api, register_user, verified_teacher):
    student, other = register_user("student"), register_user("student")
    for index in range(3):
        course = api.request(
            "POST",
            "/courses",
            token=verified_teacher.token,
            json={"title": f"Cursor course {index}", "is_free": False, "price": "15.00"},
        )
        assert course.status_code == 201, course.text
        for buyer in (student, other) if index == 0 else (student,):
            paid = api.request(
                "POST", "/payments", token=buyer.token, json={"course_id": course.json()["id"], "amount": "15.00"}
            )
            assert paid.status_code == 201, paid.text
            enrolled = api.request(
                "POST",
                "/enrollments",
                token=buyer.token,
                json={"course_id": course.json()["id"], "payment_id": paid.json()["id"]},
            )
            assert enrolled.status_code == 201, enrolled.text

    for path in ("/payments/me", "/enrollments/me"):
        pages = assert_cursor_pages(api, path, student.token, 3)
        cursor = pages[0]["next_cursor"]
        # Bound to the caller's list, and to this endpoint.
        assert_refused(api.request("GET", path, token=other.token, params={"cursor": cursor}))
        elsewhere = "/enrollments/me" if path == "/payments/me" else "/payments/me"
        assert_refused(api.request("GET", elsewhere, token=student.token, params={"cursor": cursor}))
        assert_refused(api.request("GET", path, token=student.token, params={"cursor": cursor[:-2] + "AA"}))
        with_offset = api.request("GET", path, token=student.token, params={"cursor": cursor, "offset": 1})
        assert with_offset.status_code == 422 and with_offset.json()["detail"][0]["loc"] == ["query", "offset"]


def test_notifications_written_while_paging_never_repeat_or_hide_older_ones(api, register_user):
    user = register_user("student")
    poll(
        lambda: api.request("GET", "/notifications/me", token=user.token).json()["items"],
        bool,
        NOTIFICATION_WAIT_SECONDS,
    )  # the registration notification, from the event
    for index in range(4):
        created = api.request(
            "POST", "/notifications", token=user.token, json={"type": "payment", "title": f"N{index}"}
        )
        assert created.status_code == 201, created.text
    existing = assert_cursor_pages(api, "/notifications/me", user.token, 5)

    def notify():
        api.request("POST", "/notifications", token=user.token, json={"type": "payment", "title": "Meanwhile"})

    seen = ids(by_cursor(api, "/notifications/me", user.token, between=notify))
    assert seen == ids(existing)  # newer ones go before the first page: never met, never repeated
    assert_refused(api.request("GET", "/payments/me", token=user.token, params={"cursor": existing[0]["next_cursor"]}))


def test_pending_teachers_page_oldest_first_by_cursor(api, admin_token, register_user):
    mine = [register_user("teacher").id for _ in range(3)]
    newcomers = []

    def register_meanwhile():
        if len(newcomers) < 3:
            newcomers.append(register_user("teacher").id)

    seen = ids(by_cursor(api, "/admin/teachers/pending", admin_token, between=register_meanwhile))
    assert len(seen) == len(set(seen))
    # Oldest first: the three in the order they registered, then those registered while paging.
    assert [teacher for teacher in seen if teacher in mine + newcomers] == mine + newcomers
    first = api.request("GET", "/admin/teachers/pending", token=admin_token, params={"limit": 1}).json()
    assert_refused(api.request("GET", "/notifications/me", token=admin_token, params={"cursor": first["next_cursor"]}))
