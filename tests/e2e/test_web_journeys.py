"""The web app driven in a real headless browser (Debian's chromium, Playwright) the way a person uses
it: by role, label and visible text, against the e2e stack's CloudFront distribution and API.

Asynchronous outcomes (lessons opening after an enrollment, notifications) are waited for by
polling the page with a deadline.
"""

import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import jwt
import pytest

from infra.config import ROOT
from infra.local.aws import stack_outputs
from tests.e2e.conftest import ADMIN, E2E_STACK, forge_token, wait_for_email

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
AXE_SCRIPT = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORT = {"width": 1280, "height": 900}
EVENT_SECONDS = 90  # enrollments and notifications arrive through queues


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("the web journeys need chromium: `make test-tools` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, whom chromium's sandbox refuses.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_url(api) -> str:
    outputs = stack_outputs(E2E_STACK)
    assert outputs is not None
    return outputs["WebAppUrl"]


class Problems(list):
    """Console errors and uncaught page errors of one page."""

    def watch(self, page) -> None:
        page.on("console", lambda message: self.append(f"console: {message.text}") if message.type == "error" else None)
        page.on("pageerror", lambda error: self.append(f"page error: {error}"))


@pytest.fixture
def new_page(browser):
    """new_page(): a page in a fresh browser context (a person of their own), closed afterwards."""
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(viewport=VIEWPORT, **context_options)
        contexts.append(context)
        page = context.new_page()
        page.problems = Problems()
        page.problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def unexpected(problems: list[str], allowed_statuses: tuple[int, ...]) -> list[str]:
    """The problems other than the browser's note of an API answer whose status the journey expects."""
    allowed = re.compile(
        rf"console: Failed to load resource: the server responded with a status of ({'|'.join(map(str, allowed_statuses))})\b"
    )
    return [problem for problem in problems if not allowed.match(problem)]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:10]}"


def reload_until(page, shown: Callable[[], object], seconds: float = EVENT_SECONDS, poll_seconds: float = 5) -> None:
    """Reloads the page until `shown()` (a locator) is visible, for what the API learns from events."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            expect(shown()).to_be_visible(timeout=poll_seconds * 1000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def log_in(page, app_url: str, email: str, password: str) -> None:
    page.goto(f"{app_url}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Account", exact=True)).to_be_visible(timeout=30_000)


def signed_out(page):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")


def create_course(api, teacher, title: str, *, price: str | None, level: str = "beginner") -> tuple[str, list[str]]:
    """A course of `teacher` with one module and two lessons, through the API: (course id, lesson ids)."""
    body = {"title": title, "description": "<p>Built by the web journeys.</p>", "level": level}
    body.update({"is_free": False, "price": price} if price else {"is_free": True})
    course = api.request("POST", "/courses", token=teacher.token, json=body)
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    module = api.request(
        "POST", f"/courses/{course_id}/modules", token=teacher.token, json={"title": "Getting started"}
    )
    assert module.status_code == 201, module.text
    lessons = []
    for lesson_title in ("First steps", "Going further"):
        lesson = api.request(
            "POST",
            f"/modules/{module.json()['id']}/lessons",
            token=teacher.token,
            json={"title": lesson_title, "content": f"<p>The text of {lesson_title}.</p>"},
        )
        assert lesson.status_code == 201, lesson.text
        lessons.append(lesson.json()["id"])
    return course_id, lessons


# ---- 1. a student: register, verify, search, pay, learn, review, notifications -------------------------


def test_a_student_registers_verifies_finds_pays_completes_reviews_and_reads_notifications(
    api, app_url, new_page, verified_teacher
):
    word = uuid.uuid4().hex[:10]
    title = f"Journey course {word}"
    create_course(api, verified_teacher, title, price="19.99", level="intermediate")
    email = f"journey-{uuid.uuid4().hex[:12]}@example.com"
    page = new_page()

    page.goto(f"{app_url}/register")
    page.get_by_label("Name").fill("Journey Student")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill("journey-password-1")
    expect(page.get_by_role("radio", name="Learn (student)")).to_be_checked()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Courses", level=1)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("region", name="Email verification")).to_be_visible()

    link = re.search(r"https?://\S+/verify-email\?token=[A-Za-z0-9_-]+", wait_for_email(email, 1)["BodyText"])
    assert link and link.group(0).startswith(app_url), link
    page.goto(link.group(0))
    expect(page.get_by_role("status").filter(has_text=f"{email} is verified")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("region", name="Email verification")).to_be_hidden(timeout=30_000)

    page.get_by_role("link", name="Browse courses").click()
    course_link = page.get_by_role("link", name=title)
    expect(course_link).to_be_visible(timeout=30_000)
    page.get_by_label("Search courses").press_sequentially(word)
    expect(page.get_by_role("link", name=re.compile("^Journey course"))).to_have_count(1, timeout=15_000)
    expect(course_link).to_be_visible()
    page.get_by_label("Level", exact=True).select_option(label="Intermediate")
    page.get_by_label("Free or paid").select_option(label="Free only")
    expect(page.get_by_text("No courses match your search")).to_be_visible(timeout=15_000)
    page.get_by_label("Free or paid").select_option(label="Paid only")
    expect(course_link).to_be_visible(timeout=15_000)
    course_link.click()

    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=30_000)
    page.get_by_role("button", name=re.compile("^Pay and enroll")).click()
    expect(page.get_by_role("status").filter(has_text="You are enrolled").first).to_be_visible(timeout=30_000)

    page.get_by_role("link", name="First steps").click()
    reload_until(page, lambda: page.get_by_role("button", name="Complete lesson"))
    expect(page.get_by_role("heading", name="First steps", level=1)).to_be_visible()
    expect(page.get_by_text("The text of First steps.")).to_be_visible()
    page.get_by_role("button", name="Complete lesson").click()
    expect(page.get_by_role("status").filter(has_text="Lesson completed")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Next lesson").click()
    expect(page.get_by_role("heading", name="Going further", level=1)).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Complete lesson").click()
    expect(page.get_by_text("Course completed: you have finished every lesson.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("2 of 2 lessons (100%)")).to_be_visible()

    page.get_by_role("link", name="Back to the course").click()
    reload_until(page, lambda: page.get_by_text("You have completed this course."))
    page.get_by_label("Rating", exact=True).select_option(value="4")
    page.get_by_label("Comment").fill("Clear and to the point.")
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Thank you for your review.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("4 out of 5")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Clear and to the point.")).to_be_visible()

    # Registering, the payment and the enrollment each notify the student.
    header = page.get_by_role("navigation", name="Main")
    reload_until(page, lambda: header.get_by_role("link", name="Notifications 3 unread"))
    header.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3 unread.")).to_be_visible(timeout=30_000)
    mark_buttons = page.get_by_role("button", name=re.compile("^Mark as read: "))
    expect(mark_buttons).to_have_count(3)
    mark_buttons.first.click()
    expect(page.get_by_text("2 unread.")).to_be_visible(timeout=30_000)
    expect(mark_buttons).to_have_count(2)
    expect(header.get_by_role("link", name="Notifications 2 unread")).to_be_visible(timeout=30_000)
    # A lesson answers 403 until the enrollment's event has opened the course's lessons.
    assert unexpected(page.problems, allowed_statuses=(403,)) == []


# ---- 2. a teacher, verified by the admin, builds a course in the editor ----------------------------------


def test_a_teacher_waits_for_verification_then_builds_a_course_that_the_catalogue_lists(api, app_url, new_page):
    name = unique("Teacher")
    email = f"teacher-{uuid.uuid4().hex[:12]}@example.com"
    teacher = new_page()
    teacher.goto(f"{app_url}/register")
    teacher.get_by_label("Name").fill(name)
    teacher.get_by_label("Email", exact=True).fill(email)
    teacher.get_by_label("Password", exact=True).fill("teacher-password-1")
    teacher.get_by_role("radio", name=re.compile(r"^Teach \(teacher")).check()
    teacher.get_by_role("button", name="Create account").click()
    expect(teacher.get_by_role("heading", name="My courses", level=1)).to_be_visible(timeout=30_000)
    expect(teacher.get_by_text("Your teacher account is waiting for an administrator to verify it")).to_be_visible()
    expect(teacher.get_by_role("link", name="Create course")).to_have_count(0)

    admin = new_page()
    log_in(admin, app_url, ADMIN["email"], ADMIN["password"])
    admin.get_by_role("link", name="Pending teachers").click()
    expect(admin.get_by_role("heading", name="Pending teachers", level=1)).to_be_visible(timeout=30_000)
    pending = admin.get_by_role("list", name="Teachers waiting for verification")
    expect(pending.get_by_role("listitem").first).to_be_visible(timeout=30_000)
    verify = pending.get_by_role("button", name=f"Verify {name}")
    for _ in range(20):
        if verify.is_visible():
            break
        shown = pending.get_by_role("listitem").count()
        admin.get_by_role("button", name="Load more").click()
        expect(pending.get_by_role("listitem")).not_to_have_count(shown, timeout=30_000)
    verify.click()
    expect(admin.get_by_text(f"{name} is verified.")).to_be_visible(timeout=30_000)

    teacher.reload()
    create = teacher.get_by_role("link", name="Create course")
    expect(create).to_be_visible(timeout=30_000)
    create.click()
    title = unique("Editor course")
    teacher.get_by_label("Title", exact=True).fill(title)
    teacher.get_by_label("Description").fill("Made in the course editor.")
    teacher.get_by_label("Level", exact=True).select_option(label="Advanced")
    teacher.get_by_role("checkbox", name="Free course").uncheck()
    teacher.get_by_label("Price", exact=True).fill("25.50")
    teacher.get_by_role("button", name="Create course").click()
    expect(teacher.get_by_role("heading", name=f"Edit course: {title}", level=1)).to_be_visible(timeout=30_000)

    teacher.get_by_label("New module title").fill("Foundations")
    teacher.get_by_role("button", name="Add module").click()
    module = teacher.get_by_role("region", name="Module Foundations")
    expect(module).to_be_visible(timeout=30_000)
    for lesson_title in ("Opening lesson", "Closing lesson"):
        module.get_by_label("New lesson title").fill(lesson_title)
        module.get_by_role("button", name="Add lesson").click()
        expect(module.get_by_text(f"Lesson: {lesson_title}")).to_be_visible(timeout=30_000)

    teacher.get_by_role("link", name="View the public page").click()
    expect(teacher.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=30_000)
    expect(teacher.get_by_text("2 lessons")).to_be_visible(timeout=30_000)
    expect(teacher.get_by_role("link", name="Opening lesson")).to_be_visible()

    teacher.get_by_role("link", name="Courses", exact=True).click()
    teacher.get_by_label("Search courses").press_sequentially(title)
    expect(teacher.get_by_role("link", name=title)).to_be_visible(timeout=30_000)
    expect(teacher.get_by_text("$25.50")).to_be_visible()
    assert teacher.problems == [] and admin.problems == []


# ---- 3. an anonymous visitor and deep links ---------------------------------------------------------------


def test_an_anonymous_deep_link_to_a_paid_lesson_shows_why_not_and_deep_links_survive_a_reload(
    api, app_url, new_page, verified_teacher
):
    title = unique("Deep link course")
    course_id, lessons = create_course(api, verified_teacher, title, price="9.00")
    refusal = api.request("GET", f"/lessons/{lessons[0]}")
    assert refusal.status_code == 401
    page = new_page()

    page.goto(f"{app_url}/courses/{course_id}/lessons/{lessons[0]}")
    expect(page.get_by_role("alert").filter(has_text=refusal.json()["detail"])).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="First steps", level=1)).to_be_visible()
    expect(page.get_by_text("The text of First steps.")).to_have_count(0)
    expect(page.get_by_role("button", name="Complete lesson")).to_have_count(0)
    page.get_by_role("link", name="Log in to open this lesson").click()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible(timeout=30_000)
    assert urlsplit(page.url).path == "/login" and f"lessons%2F{lessons[0]}" in page.url

    page.goto(f"{app_url}/courses/{course_id}")
    heading = page.get_by_role("heading", name=title, level=1)
    expect(heading).to_be_visible(timeout=30_000)
    page.reload()
    expect(heading).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name=re.compile("^Pay and enroll"))).to_be_visible()


# ---- 4. a session: it survives an expired access token, and logging out ends it --------------------------


def api_path(url: str) -> str:
    return urlsplit(url).path.rsplit("/api", 1)[-1]


def test_a_session_survives_an_expired_access_token_and_logging_out_ends_it(api, app_url, new_page, register_user):
    student = register_user("student")
    page = new_page()
    log_in(page, app_url, student.email, student.password)
    answers: list[tuple[str, str, int]] = []
    page.on(
        "response", lambda response: answers.append((response.request.method, api_path(response.url), response.status))
    )
    expired: list[str] = []

    def send_one_expired_token(route, request) -> None:
        """The first GET /me leaves with the page's own token as it will be once it has expired:
        the same claims, signed with the stack's key, its expiry past."""
        authorization = request.headers.get("authorization")
        if request.method != "GET" or expired or not authorization:
            route.continue_()
            return
        claims = jwt.decode(authorization.removeprefix("Bearer "), options={"verify_signature": False})
        now = int(time.time())
        expired.append(forge_token(**{**claims, "iat": now - 1000, "exp": now - 100}))
        route.continue_(headers={**request.headers, "authorization": f"Bearer {expired[-1]}"})

    page.route(lambda url: api_path(url) == "/me", send_one_expired_token)
    page.get_by_role("link", name="Account", exact=True).click()
    expect(page.get_by_text(student.email)).to_be_visible(timeout=30_000)
    assert expired, "the account page asked GET /me with a token"
    me_and_refresh = [answer for answer in answers if answer[1] in ("/me", "/refresh")]
    # Refused as expired, renewed once with the refresh token, asked again: the person saw none of it.
    assert me_and_refresh == [("GET", "/me", 401), ("POST", "/refresh", 200), ("GET", "/me", 200)], me_and_refresh
    expect(signed_out(page)).to_have_count(0)
    page.unroute(lambda url: api_path(url) == "/me")

    refresh_token = page.evaluate("() => localStorage.getItem('eduplatform.refreshToken')")
    assert refresh_token
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(signed_out(page)).to_be_visible(timeout=30_000)
    assert ("POST", "/logout", 204) in answers or ("POST", "/logout", 200) in answers, answers
    assert page.evaluate("() => localStorage.getItem('eduplatform.refreshToken')") is None
    page.reload()
    expect(signed_out(page)).to_be_visible(timeout=30_000)
    page.goto(f"{app_url}/my-learning")
    expect(page.get_by_text("to see this page")).to_be_visible(timeout=30_000)
    # The session is over on the API too, not only forgotten by the page.
    assert api.request("POST", "/refresh", json={"refresh_token": refresh_token}).status_code == 401
    assert unexpected(page.problems, (401,)) == []


# ---- 5. accessibility: axe-core on every page ----------------------------------------------------------


AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' -- ' + n.failureSummary.replace(/\\s+/g, ' ')),
  }));
}"""


def test_every_page_has_no_wcag_a_or_aa_violation_and_no_console_error(
    api, app_url, new_page, verified_teacher, register_user, admin_token
):
    assert AXE_SCRIPT.exists(), "run `npm ci` in web/ (axe-core is a devDependency)"
    course_id, lessons = create_course(api, verified_teacher, unique("Accessible course"), price=None)
    student = register_user("student")
    enrolled = api.request("POST", "/enrollments", token=student.token, json={"course_id": course_id})
    assert enrolled.status_code == 201, enrolled.text
    pending = register_user("teacher")
    verify_link = re.search(
        r"https?://\S+/verify-email\?token=[A-Za-z0-9_-]+", wait_for_email(pending.email, 1)["BodyText"]
    )
    assert verify_link

    # The app's CSP (script-src 'self') refuses injected scripts such as axe: bypass_csp lets it run.
    anonymous, learner, teacher, admin = (new_page(bypass_csp=True) for _ in range(4))
    log_in(learner, app_url, student.email, student.password)
    log_in(teacher, app_url, verified_teacher.email, verified_teacher.password)
    log_in(admin, app_url, ADMIN["email"], ADMIN["password"])

    h1 = lambda name: lambda page: page.get_by_role("heading", name=name, level=1)  # noqa: E731
    visits = [
        (anonymous, "/", lambda page: page.get_by_role("link", name=re.compile("^Accessible course")).first),
        (anonymous, f"/courses/{course_id}", lambda page: page.get_by_role("link", name="Going further")),
        (anonymous, "/login", h1("Log in")),
        (anonymous, "/register", h1("Create an account")),
        (anonymous, verify_link.group(0).removeprefix(app_url), lambda page: page.get_by_text("is verified")),
        (anonymous, "/forgot-password", lambda page: page.get_by_role("heading", level=1)),
        (anonymous, "/reset-password?token=not-a-real-token", lambda page: page.get_by_role("heading", level=1)),
        (anonymous, "/no-such-page", lambda page: page.get_by_role("heading", level=1)),
        (learner, f"/courses/{course_id}", lambda page: page.get_by_role("button", name="Submit review")),
        (
            learner,
            f"/courses/{course_id}/lessons/{lessons[0]}",
            lambda page: page.get_by_role("button", name="Complete lesson"),
        ),
        (learner, "/my-learning", lambda page: page.get_by_role("link", name=re.compile("^Accessible course"))),
        (
            learner,
            "/notifications",
            lambda page: page.get_by_text(re.compile(r"^(No unread notifications|\d+ unread)\.$")),
        ),
        (learner, "/account", lambda page: page.get_by_text(student.email)),
        (teacher, "/teach", lambda page: page.get_by_role("link", name=re.compile("^Accessible course"))),
        (teacher, "/teach/courses/new", lambda page: page.get_by_role("button", name="Create course")),
        (
            teacher,
            f"/teach/courses/{course_id}",
            lambda page: page.get_by_role("region", name="Module Getting started"),
        ),
        # Every teacher the suite registered and left unverified is on that page: any one will do.
        (admin, "/admin/teachers", lambda page: page.get_by_role("button", name=re.compile("^Verify ")).first),
    ]
    report = []
    for page, path, loaded in visits:
        page.problems.clear()
        page.goto(f"{app_url}{path}")
        expect(loaded(page)).to_be_visible(timeout=30_000)
        expect(page.get_by_role("status").filter(has_text=re.compile("^Loading|…$"))).to_have_count(0, timeout=30_000)
        page.add_script_tag(path=str(AXE_SCRIPT))
        violations = page.evaluate(AXE_RUN, WCAG_TAGS)
        for v in violations:
            report.append(f"{path}: {v['id']} ({v['impact']}) {v['help']}\n    " + "\n    ".join(v["nodes"]))
        report.extend(f"{path}: {problem}" for problem in page.problems)
    assert not report, "\n".join(report)
