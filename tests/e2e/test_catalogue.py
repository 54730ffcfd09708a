"""The catalogue (docs/api.md) through the deployed stack: GET /categories, category_id on
courses, filters and sorts combined with q, sort=popular fed by EnrollmentCreated events over
the bus and the course domain's own queue, and the teacher's name from UserRegistered events."""

import uuid

import psycopg
import pytest

from infra.config import deploy_parameters
from tests.e2e.conftest import E2E_STACK
from tests.support.polling import poll

from eduplatform.cache import Cache

pytestmark = pytest.mark.e2e

EVENT_WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def categories(api, e2e_database_urls):
    """Two categories loaded out of band, as the seed loads them; the cached list is told so."""
    suffix = uuid.uuid4().hex[:8]
    ids = {}
    with psycopg.connect(e2e_database_urls["course"], autocommit=True) as conn:
        for name in ("Music", "Programming"):
            ids[name] = str(
                conn.execute(
                    "INSERT INTO categories (slug, name) VALUES (%s, %s) RETURNING id",
                    (f"{name.lower()}-{suffix}", f"{name} {suffix}"),
                ).fetchone()[0]
            )
    cache_url = deploy_parameters("local").get("CacheUrl")
    if cache_url:
        Cache(cache_url, f"{E2E_STACK}:").invalidate("categories")
    return ids


def titles(api, **query) -> list[str]:
    response = api.request("GET", "/courses", params={"limit": 100, **query})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_categories_filters_sorts_and_popularity(api, categories, verified_teacher, register_user):
    listed = api.request("GET", "/categories")
    assert listed.status_code == 200
    names = [item["name"] for item in listed.json()["items"]]
    assert names == sorted(names)
    assert {item["id"] for item in listed.json()["items"]} >= set(categories.values())

    tag = uuid.uuid4().hex[:10]  # q=tag keeps this test's courses apart from the other tests'
    specs = [
        ("Guitar", "Music", None, "beginner"),
        ("Piano", "Music", "49.00", "advanced"),
        ("Rust", "Programming", "19.00", "advanced"),
    ]
    created = {}
    for title, category, price, level in specs:
        body = {
            "title": f"{title} {tag}",
            "is_free": price is None,
            "level": level,
            "category_id": categories[category],
        }
        if price:
            body["price"] = price
        response = api.request("POST", "/courses", token=verified_teacher.token, json=body)
        assert response.status_code == 201, response.text
        assert response.json()["category_id"] == categories[category]
        created[title] = response.json()["id"]
    unknown = api.request(
        "POST",
        "/courses",
        token=verified_teacher.token,
        json={"title": "x", "is_free": True, "category_id": str(uuid.uuid4())},
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "category_id"]

    def mine(**query):
        return [title.split()[0] for title in titles(api, q=tag, **query)]

    assert mine() == ["Rust", "Piano", "Guitar"]
    assert mine(category_id=categories["Music"]) == ["Piano", "Guitar"]
    assert mine(level="advanced", sort="price_asc") == ["Rust", "Piano"]
    assert mine(is_free="true") == ["Guitar"]
    assert mine(price_min="10", price_max="30") == ["Rust"]
    assert mine(sort="price_desc") == ["Piano", "Rust", "Guitar"]
    assert mine(min_rating=1) == []
    assert api.request("GET", "/courses", params={"sort": "cheapest"}).status_code == 422

    # Two students enroll in Guitar (free): EnrollmentCreated reaches the course domain's queue.
    for _ in range(2):
        student = register_user("student")
        enrolled = api.request("POST", "/enrollments", token=student.token, json={"course_id": created["Guitar"]})
        assert enrolled.status_code == 201, enrolled.text
    popular = poll(lambda: mine(sort="popular"), lambda found: found[:1] == ["Guitar"], EVENT_WAIT_SECONDS)
    assert popular[0] == "Guitar", popular

    # A review re-orders sort=rating and the min_rating filter at once (no stale cached page).
    assert len(mine(sort="rating")) == 3 and mine(min_rating="4.5") == []  # both pages cached now
    # Only a student enrolled in the course may review it: Rust is paid, so pay, enroll, and wait
    # for the course domain to consume the EnrollmentCreated event.
    student = register_user("student")
    body = {"course_id": created["Rust"], "rating": 5, "comment": "Great <3"}
    refused = api.request("POST", "/reviews", token=student.token, json=body)
    assert refused.status_code == 403 and refused.json() == {"detail": "Enroll in this course to review it"}
    payment = api.request(
        "POST", "/payments", token=student.token, json={"course_id": created["Rust"], "amount": "19.00"}
    )
    assert payment.status_code == 201, payment.text
    enrolled = api.request(
        "POST",
        "/enrollments",
        token=student.token,
        json={"course_id": created["Rust"], "payment_id": payment.json()["id"]},
    )
    assert enrolled.status_code == 201, enrolled.text
    reviewed = poll(
        lambda: api.request("POST", "/reviews", token=student.token, json=body),
        lambda response: response.status_code != 403,
        EVENT_WAIT_SECONDS,
    )
    assert reviewed.status_code == 201, reviewed.text
    assert mine(sort="rating")[0] == "Rust" and mine(min_rating="4.5") == ["Rust"]


def test_a_course_names_its_teacher_from_their_registration_event(api, verified_teacher):
    """identity's UserRegistered reaches the course domain's own queue; until it is applied a course
    answers teacher_name null, and no cached answer keeps the null once it is."""
    tag = uuid.uuid4().hex[:10]
    created = api.request(
        "POST", "/courses", token=verified_teacher.token, json={"title": f"Named {tag}", "is_free": True}
    )
    assert created.status_code == 201, created.text
    assert created.json()["teacher_name"] in (None, "E2E teacher")
    course_id = created.json()["id"]

    def answers() -> list:
        course = api.request("GET", f"/courses/{course_id}").json()
        listed = api.request("GET", "/courses", params={"q": tag}).json()["items"]
        mine = api.request("GET", "/courses/my", token=verified_teacher.token, params={"limit": 100}).json()["items"]
        return [course["teacher_name"], *(item["teacher_name"] for item in listed + mine if item["id"] == course_id)]

    named = poll(answers, lambda found: found == ["E2E teacher"] * 3, EVENT_WAIT_SECONDS)
    assert named == ["E2E teacher"] * 3, named


def test_markup_refused_and_rich_text_sanitised(api, verified_teacher):
    refused = api.request("POST", "/courses", token=verified_teacher.token, json={"title": "<b>x</b>", "is_free": True})
    assert refused.status_code == 422 and "plain text" in refused.json()["detail"][0]["msg"]
    course = api.request(
        "POST",
        "/courses",
        token=verified_teacher.token,
        json={
            "title": "Safe",
            "is_free": True,
            "description": "<p onclick=x()>Hi <script>alert(1)</script><em>there</em></p>",
        },
    )
    assert course.status_code == 201
    assert course.json()["description"] == "<p>Hi <em>there</em></p>"
    fetched = api.request("GET", f"/courses/{course.json()['id']}").json()
    assert fetched["description"] == "<p>Hi <em>there</em></p>"


def test_cursor_paging_through_a_filtered_sorted_search(api, categories, verified_teacher):
    tag = uuid.uuid4().hex[:10]
    for index in range(5):
        body = {
            "title": f"Cursor {index} {tag}",
            "is_free": False,
            "price": ("10.00", "20.00")[index % 2],
            "category_id": categories["Programming"],
        }
        assert api.request("POST", "/courses", token=verified_teacher.token, json=body).status_code == 201
    query = {"q": tag, "category_id": categories["Programming"], "sort": "price_asc", "limit": 2}
    first = api.request("GET", "/courses", params=query).json()
    assert first["total"] == 5 and first["next_cursor"]
    seen = [item["title"] for item in first["items"]]
    body = first
    while body["next_cursor"]:
        response = api.request("GET", "/courses", params={**query, "cursor": body["next_cursor"]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "total" not in body
        seen += [item["title"] for item in body["items"]]
    offset_order = [
        item["title"] for item in api.request("GET", "/courses", params={**query, "limit": 10}).json()["items"]
    ]
    assert seen == offset_order and len(set(seen)) == 5
    assert {title.split()[1] for title in seen[:3]} == {"0", "2", "4"}  # the 10.00 courses first

    foreign = api.request("GET", "/courses", params={**query, "sort": "newest", "cursor": first["next_cursor"]})
    assert foreign.status_code == 422 and foreign.json()["detail"][0]["loc"] == ["query", "cursor"]
    with_total = api.request("GET", "/courses", params={**query, "cursor": first["next_cursor"], "with_total": "true"})
    assert with_total.json()["total"] == 5
