"""The contract on the deployed stack: the served OpenAPI document, response headers, the body size limit, unknown fields."""

import json

import pytest

from infra.openapi import DOCUMENT

pytestmark = pytest.mark.e2e


def test_the_deployed_api_serves_the_committed_openapi_document(api):
    response = api.request("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == json.loads(DOCUMENT.read_text())


def test_responses_carry_one_date_header_and_no_server_header_as_api_gateway_does(api):
    # The emulator's HTTP server (uvicorn, infra/emulator/serve.py) adds neither: the app sets Date.
    response = api.request("GET", "/courses?limit=1")
    assert response.status_code == 200
    assert len(response.raw.headers.getlist("Date")) == 1
    assert "Server" not in response.headers


def test_a_body_over_1_mb_is_413(api, register_user):
    student = register_user("student")
    body = json.dumps({"type": "payment", "title": "t", "body": "x" * (1024 * 1024)})
    response = api.request(
        "POST", "/notifications", token=student.token, data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (limit 1 MB)"}


def test_unknown_fields_are_ignored_and_grant_nothing(api):
    response = api.request(
        "POST",
        "/register",
        json={
            "email": "extra-fields@example.com",
            "password": "password123",
            "name": "Extra",
            "role": "teacher",
            "is_verified": True,
            "role_override": "admin",
            "id": "00000000-0000-0000-0000-000000000001",
        },
    )
    assert response.status_code == 200, response.text
    me = api.request("GET", "/me", token=response.json()["access_token"]).json()
    assert me["role"] == "teacher" and me["is_verified"] is False
    assert me["id"] != "00000000-0000-0000-0000-000000000001"
