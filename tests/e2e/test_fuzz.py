"""Property-based fuzzing of every operation of the deployed API, from docs/openapi.json (schemathesis).

Every operation is called with data generated from its schema, authenticated as a role
API.md admits for it. Checks: no 5xx, every status documented, every response body and
content type as documented. `make test` runs a short deterministic profile; `make fuzz`
(FUZZ_EXAMPLES=200 by default) a longer random one.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.openapi import DOCUMENT

pytestmark = pytest.mark.e2e

FUZZ_EXAMPLES = os.environ.get("FUZZ_EXAMPLES")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]

schema = schemathesis.openapi.from_path(DOCUMENT)

ADMIN_PATHS = ("/admin/",)
TEACHER_OPERATIONS = {
    ("GET", "/courses/my"), ("POST", "/courses"), ("PUT", "/courses/{course_id}"), ("POST", "/courses/{course_id}/modules"),
    ("PUT", "/modules/{module_id}"), ("DELETE", "/modules/{module_id}"), ("POST", "/modules/{module_id}/lessons"),
    ("PUT", "/lessons/{lesson_id}"), ("DELETE", "/lessons/{lesson_id}"),
}


@pytest.fixture(scope="module")
def tokens(api, admin_token):
    """A real student and a verified teacher of the e2e stack, and its admin."""
    import uuid

    def register(role: str) -> tuple[str, str]:
        email = f"fuzz-{role}-{uuid.uuid4().hex[:10]}@example.com"
        response = api.request("POST", "/register", json={"email": email, "password": "password123", "name": "Fuzz", "role": role})
        assert response.status_code == 200, response.text
        return email, response.json()["access_token"]

    _, student = register("student")
    teacher_email, teacher = register("teacher")
    me = api.request("GET", "/me", token=teacher).json()
    assert api.request("PATCH", f"/admin/users/{me['id']}/verify", token=admin_token).status_code == 200
    teacher = api.request("POST", "/login", json={"email": teacher_email, "password": "password123"}).json()["access_token"]
    return {"student": student, "teacher": teacher, "admin": admin_token}


def role_for(method: str, path: str) -> str:
    if path.startswith(ADMIN_PATHS):
        return "admin"
    if (method, path) in TEACHER_OPERATIONS:
        return "teacher"
    return "student"


@schema.parametrize()
@settings(max_examples=int(FUZZ_EXAMPLES or 8), derandomize=FUZZ_EXAMPLES is None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, api, tokens):
    headers = {}
    if case.operation.definition.raw.get("security"):
        headers["Authorization"] = f"Bearer {tokens[role_for(case.method, case.path)]}"
    case.call_and_validate(base_url=api.url, session=api.session, headers=headers, checks=CHECKS, timeout=60)
