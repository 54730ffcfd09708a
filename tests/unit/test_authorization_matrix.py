"""The "Who" column of docs/api.md as a matrix: every protected endpoint against bad tokens and each role.

Each endpoint runs in-process against its domain's real test database, on data that makes
ownership meaningful (a course with a module and a lesson owned by the owner teacher, the
student's enrollment, payment and notification). Other domains' facts come from the fake
Lambda client. A protected endpoint missing from the matrix fails the test.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest

from infra.template import generate
from tests.support.aws_fakes import aws, event_bus, facts, idempotency_table  # noqa: F401 (fixtures)
from tests.support.lambda_events import call

from eduplatform.principal import Role
from eduplatform.security import issue_token

PRINCIPALS = ("student", "unverified_teacher", "teacher", "owner", "admin")
ROLE_OF = {
    "student": (Role.STUDENT, True),
    "unverified_teacher": (Role.TEACHER, False),
    "teacher": (Role.TEACHER, True),
    "owner": (Role.TEACHER, True),
    "admin": (Role.ADMIN, True),
}


def _bad_tokens() -> dict[str, str | None]:
    now = time.time()
    claims = {"sub": str(uuid.uuid4()), "iat": int(now), "exp": int(now) + 600, "role": "admin", "is_verified": True}
    return {
        "no token": None,
        "expired": issue_token(uuid.uuid4(), Role.ADMIN, True, now=now - 7200),
        "another secret": jwt.encode(claims, "another-secret-0123456789abcdefghij", algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "issued in the future": issue_token(uuid.uuid4(), Role.ADMIN, True, now=now + 3600),
    }


@dataclass
class World:
    """Ids of the principals and of the data the endpoints act on."""

    ids: dict[str, uuid.UUID] = field(default_factory=lambda: {name: uuid.uuid4() for name in PRINCIPALS})
    refs: dict[str, str] = field(default_factory=dict)

    def token(self, principal: str) -> str:
        role, verified = ROLE_OF[principal]
        return issue_token(self.ids[principal], role, verified)


def identity_world(world: World, facts) -> None:
    from identity import service

    for name in ("student", "unverified_teacher", "teacher", "owner"):
        role = "student" if name == "student" else "teacher"
        response = call(
            "identity.handlers.register",
            body={"email": f"{name}@example.com", "password": "password123", "name": name, "role": role},
        )
        world.ids[name] = uuid.UUID(
            jwt.decode(response.json()["access_token"], options={"verify_signature": False})["sub"]
        )
    service.ensure_admin("admin@eduplatform.com", "password123")
    admin = call("identity.handlers.login", body={"email": "admin@eduplatform.com", "password": "password123"}).json()
    world.ids["admin"] = uuid.UUID(jwt.decode(admin["access_token"], options={"verify_signature": False})["sub"])
    for name in ("teacher", "owner"):
        assert (
            call("identity.handlers.verify_teacher", {"user_id": world.ids[name]}, token=world.token("admin")).status
            == 200
        )


def course_world(world: World, facts) -> None:
    """A free course and a paid one of the owner, each with a lesson; the paid one also with a
    preview lesson; the student enrolled in both (as the course domain learns it, from events)."""
    from tests.unit.test_course import enroll

    owner = world.token("owner")
    course = call("course.handlers.create_course", body={"title": "Owned", "is_free": True}, token=owner).json()
    module = call("course.handlers.create_module", {"course_id": course["id"]}, body={"title": "M"}, token=owner).json()
    lesson = call("course.handlers.create_lesson", {"module_id": module["id"]}, body={"title": "L"}, token=owner).json()
    paid_body = {"title": "Paid", "is_free": False, "price": "10.00"}
    paid = call("course.handlers.create_course", body=paid_body, token=owner).json()
    paid_module = call("course.handlers.create_module", {"course_id": paid["id"]}, body={"title": "M"}, token=owner)
    gated, preview = (
        call(
            "course.handlers.create_lesson",
            {"module_id": paid_module.json()["id"]},
            body={"title": "P", "content": "Text", "is_preview": is_preview},
            token=owner,
        ).json()
        for is_preview in (False, True)
    )
    for course_id in (course["id"], paid["id"]):
        enroll(world.ids["student"], course_id)
    world.refs.update(
        course=course["id"],
        module=module["id"],
        lesson=lesson["id"],
        paid=paid["id"],
        gated=gated["id"],
        preview=preview["id"],
    )


def enrollment_world(world: World, facts) -> None:
    enrolled = facts.add_course(lessons=1)
    world.refs.update(enrolled=enrolled, lesson=facts.add_lesson(enrolled), course=facts.add_course())
    assert call("enrollment.handlers.enroll", body={"course_id": enrolled}, token=world.token("student")).status == 201


def payment_world(world: World, facts) -> None:
    course, paid = facts.add_course(price="49.99"), facts.add_course(price="49.99")
    payment = call(
        "payment.handlers.create_payment", body={"course_id": paid, "amount": "49.99"}, token=world.token("student")
    )
    world.refs.update(course=course, payment=payment.json()["id"])  # the student has not paid for course yet


def notification_world(world: World, facts) -> None:
    notification = call(
        "notification.handlers.create_notification",
        body={"type": "payment", "title": "Paid"},
        token=world.token("student"),
    )
    world.refs.update(notification=notification.json()["id"])


WORLDS = {
    "identity": identity_world,
    "course": course_world,
    "enrollment": enrollment_world,
    "payment": payment_world,
    "notification": notification_world,
}


@dataclass(frozen=True)
class Row:
    expected: dict[str, int]
    path: Callable[[World], dict[str, Any]] = lambda world: {}
    body: Callable[[World], Any] = lambda world: None


def who(student: int, unverified_teacher: int, teacher: int, owner: int, admin: int) -> dict[str, int]:
    return dict(zip(PRINCIPALS, (student, unverified_teacher, teacher, owner, admin), strict=True))


ANYONE = who(200, 200, 200, 200, 200)
OWNER_ONLY = who(403, 403, 403, 200, 403)

MATRIX: dict[tuple[str, str], Row] = {
    # identity
    ("get", "/me"): Row(ANYONE),
    ("post", "/logout/all"): Row(who(204, 204, 204, 204, 204)),
    # The admin's address is verified from the start; every registered user's is not yet.
    ("post", "/resend-verification"): Row(who(202, 202, 202, 202, 409)),
    ("get", "/admin/teachers/pending"): Row(who(403, 403, 403, 403, 200)),
    ("patch", "/admin/users/{user_id}/verify"): Row(
        who(403, 403, 403, 403, 200), path=lambda w: {"user_id": w.ids["unverified_teacher"]}
    ),
    # course
    ("get", "/courses/my"): Row(who(403, 200, 200, 200, 403)),
    ("post", "/courses"): Row(who(403, 403, 201, 201, 403), body=lambda w: {"title": "New", "is_free": True}),
    ("put", "/courses/{course_id}"): Row(
        OWNER_ONLY, path=lambda w: {"course_id": w.refs["course"]}, body=lambda w: {"title": "Renamed"}
    ),
    ("post", "/courses/{course_id}/modules"): Row(
        who(403, 403, 403, 201, 403), path=lambda w: {"course_id": w.refs["course"]}, body=lambda w: {"title": "M2"}
    ),
    ("put", "/modules/{module_id}"): Row(
        OWNER_ONLY, path=lambda w: {"module_id": w.refs["module"]}, body=lambda w: {"order": 3}
    ),
    ("delete", "/modules/{module_id}"): Row(
        who(403, 403, 403, 204, 403), path=lambda w: {"module_id": w.refs["module"]}
    ),
    ("post", "/modules/{module_id}/lessons"): Row(
        who(403, 403, 403, 201, 403), path=lambda w: {"module_id": w.refs["module"]}, body=lambda w: {"title": "L2"}
    ),
    ("put", "/lessons/{lesson_id}"): Row(
        OWNER_ONLY, path=lambda w: {"lesson_id": w.refs["lesson"]}, body=lambda w: {"title": "L3"}
    ),
    ("delete", "/lessons/{lesson_id}"): Row(
        who(403, 403, 403, 204, 403), path=lambda w: {"lesson_id": w.refs["lesson"]}
    ),
    ("post", "/reviews"): Row(
        who(201, 403, 403, 403, 403), body=lambda w: {"course_id": w.refs["course"], "rating": 4}
    ),
    # enrollment
    ("post", "/enrollments"): Row(who(201, 403, 403, 403, 403), body=lambda w: {"course_id": w.refs["course"]}),
    ("get", "/enrollments/me"): Row(ANYONE),
    ("post", "/progress/lessons/{lesson_id}/complete"): Row(
        who(201, 403, 403, 403, 403),
        path=lambda w: {"lesson_id": w.refs["lesson"]},
        body=lambda w: {"course_id": w.refs["enrolled"]},
    ),
    ("get", "/progress/courses/{course_id}"): Row(ANYONE, path=lambda w: {"course_id": w.refs["enrolled"]}),
    ("get", "/progress/courses/{course_id}/lessons"): Row(ANYONE, path=lambda w: {"course_id": w.refs["enrolled"]}),
    # payment
    ("post", "/payments"): Row(
        who(201, 403, 403, 403, 403), body=lambda w: {"course_id": w.refs["course"], "amount": "49.99"}
    ),
    ("get", "/payments/me"): Row(ANYONE),
    ("get", "/payments/{payment_id}"): Row(
        who(200, 404, 404, 404, 200), path=lambda w: {"payment_id": w.refs["payment"]}
    ),
    # notification
    ("post", "/notifications"): Row(who(201, 201, 201, 201, 201), body=lambda w: {"type": "enrollment", "title": "Hi"}),
    ("get", "/notifications/me"): Row(ANYONE),
    ("patch", "/notifications/{notification_id}/read"): Row(
        who(200, 404, 404, 404, 404), path=lambda w: {"notification_id": w.refs["notification"]}
    ),
}


def _endpoints_with_security(optional: bool) -> dict[tuple[str, str], generate.Endpoint]:
    """The endpoints that need a token (optional=False) or take one (optional=True: open to
    everyone, answering more to some callers)."""
    generate._import_functions_code()
    found = {}
    for endpoint in generate.discover_endpoints():
        import importlib

        module = importlib.import_module(endpoint.module)
        security = getattr(module.app.get_openapi_schema().paths[endpoint.path], endpoint.method).security
        if security and ({} in security) == optional:
            found[(endpoint.method, endpoint.path)] = endpoint
    return found


PROTECTED = _endpoints_with_security(optional=False)
TOKEN_OPTIONAL = _endpoints_with_security(optional=True)


def test_every_protected_endpoint_is_in_the_matrix():
    assert set(PROTECTED) == set(MATRIX)


# What paying buys: who opens which lesson (anonymous callers included), on the course world's data.
ALL_OPEN = {"anonymous": 200, **ANYONE}
LESSON_MATRIX: dict[str, tuple[tuple[str, str], Row, dict[str, int]]] = {
    "lesson of a free course": (
        ("get", "/lessons/{lesson_id}"),
        Row(ANYONE, path=lambda w: {"lesson_id": w.refs["lesson"]}),
        ALL_OPEN,
    ),
    "lesson of a paid course": (
        ("get", "/lessons/{lesson_id}"),
        Row(ANYONE, path=lambda w: {"lesson_id": w.refs["gated"]}),
        {"anonymous": 401, **who(200, 403, 403, 200, 200)},
    ),
    "preview lesson of a paid course": (
        ("get", "/lessons/{lesson_id}"),
        Row(ANYONE, path=lambda w: {"lesson_id": w.refs["preview"]}),
        ALL_OPEN,
    ),
    "curriculum of a paid course": (
        ("get", "/courses/{course_id}/curriculum"),
        Row(ANYONE, path=lambda w: {"course_id": w.refs["paid"]}),
        ALL_OPEN,
    ),
}


def test_every_endpoint_taking_an_optional_token_is_in_the_lesson_matrix():
    assert set(TOKEN_OPTIONAL) == {route for route, _, _ in LESSON_MATRIX.values()}


@pytest.mark.parametrize("case", sorted(LESSON_MATRIX))
def test_who_may_open_what(case, domain_database, facts):
    route, row, expected = LESSON_MATRIX[case]
    endpoint = TOKEN_OPTIONAL[route]
    domain_database(endpoint.domain)
    world = World()
    course_world(world, facts)

    def answer(token: str | None):
        response = call(endpoint.module, row.path(world), token=token)
        if response.status >= 400:
            assert isinstance(response.json()["detail"], str), response.text
        return response

    bad = {name: answer(token).status for name, token in _bad_tokens().items() if token is not None}
    assert bad == dict.fromkeys(bad, 401)  # a token that is sent must be valid
    actual = {"anonymous": answer(None).status} | {name: answer(world.token(name)).status for name in PRINCIPALS}
    assert actual == expected
    if route[1].endswith("/curriculum"):  # the outline for everyone, the gated content for who may open it
        for name, opens in (
            ("anonymous", False),
            *(
                (name, code == 200)
                for name, code in LESSON_MATRIX["lesson of a paid course"][2].items()
                if name != "anonymous"
            ),
        ):
            token = None if name == "anonymous" else world.token(name)
            lessons = {item["id"]: item for item in answer(token).json()["modules"][0]["lessons"]}
            assert (lessons[world.refs["gated"]]["content"] == "Text") is opens, name
            assert lessons[world.refs["preview"]]["content"] == "Text", name


@pytest.mark.parametrize("route", sorted(MATRIX), ids=[f"{m.upper()} {p}" for m, p in sorted(MATRIX)])
def test_who_may_call_what(route, domain_database, facts, event_bus, idempotency_table):
    endpoint = PROTECTED[route]
    row = MATRIX[route]
    domain_database(endpoint.domain)
    world = World()
    WORLDS[endpoint.domain](world, facts)

    def status(token: str | None) -> int:
        response = call(endpoint.module, row.path(world), body=row.body(world), token=token)
        if response.status >= 400:
            assert isinstance(response.json()["detail"], str), response.text
        return response.status

    bad = {name: status(token) for name, token in _bad_tokens().items()}
    assert bad == dict.fromkeys(bad, 401)
    # Refusals first: the one principal a write succeeds for must not change what the others see.
    order = sorted(PRINCIPALS, key=lambda name: row.expected[name] < 300)
    actual = {name: status(world.token(name)) for name in order}
    assert {name: actual[name] for name in PRINCIPALS} == row.expected
