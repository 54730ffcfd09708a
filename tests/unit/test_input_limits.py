"""Bad input of every kind answers a clear 4xx: body size, string lengths, passwords, unknown fields."""

import base64
import importlib
import json
import uuid
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from infra import openapi
from infra.template import generate
from tests.support.lambda_events import FakeLambdaContext, call, proxy_event

from eduplatform.http import MAX_BODY_BYTES
from eduplatform.principal import Role
from eduplatform.security import issue_token

REGISTER = "identity.handlers.register"
LOGIN = "identity.handlers.login"
CREATE_NOTIFICATION = "notification.handlers.create_notification"
TOO_LARGE = {"detail": "Request body too large (limit 1 MB)"}


# ---- request bodies over 1 MB --------------------------------------------------------------------


def _notification_body(total_bytes: int) -> str:
    skeleton = json.dumps({"type": "payment", "title": "t", "body": ""})
    return skeleton.replace('"body": ""', '"body": "' + "x" * (total_bytes - len(skeleton)) + '"')


def test_a_body_over_1_mb_is_413_before_anything_reads_it():
    token = issue_token(uuid.uuid4(), Role.STUDENT, True)
    body = _notification_body(MAX_BODY_BYTES + 1)
    response = call(CREATE_NOTIFICATION, body=body, token=token)
    assert response.status == 413
    assert response.json() == TOO_LARGE
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_a_body_of_exactly_1_mb_is_read_and_validated():
    # No database is configured here: reaching validation (422, body too long for the schema) is the proof.
    token = issue_token(uuid.uuid4(), Role.STUDENT, True)
    response = call(CREATE_NOTIFICATION, body=_notification_body(MAX_BODY_BYTES), token=token)
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["body", "body"]


def test_the_limit_counts_bytes_not_characters_and_decoded_base64():
    multibyte = json.dumps(
        {"email": "a@example.com", "password": "é" * (MAX_BODY_BYTES // 2), "name": "A"}, ensure_ascii=False
    )
    assert len(multibyte) < MAX_BODY_BYTES < len(multibyte.encode())
    assert call(REGISTER, body=multibyte).status == 413

    module = importlib.import_module(REGISTER)
    event = proxy_event("POST", "/register", body=base64.b64encode(b"x" * (MAX_BODY_BYTES + 10)).decode())
    event["isBase64Encoded"] = True
    response = module.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 413 and json.loads(response["body"]) == TOO_LARGE


def test_the_openapi_document_states_the_limit_for_every_body():
    document = openapi.build()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], f"{method.upper()} {path}"


# ---- bodies that are not JSON, path ids Powertools cannot route ----------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain"],
)
def test_a_body_declared_as_anything_but_json_is_415(content_type):
    body = {"email": "ada@example.com", "password": "password123", "name": "Ada"}
    response = call(REGISTER, body=body, headers={"Content-Type": content_type})
    assert response.status == 415
    assert response.json() == {"detail": "Content-Type must be application/json"}


def test_json_with_a_charset_is_json():
    response = call(
        REGISTER, body={"email": "not-an-email"}, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status == 422


@pytest.mark.parametrize("course_id", ["B£", "é", "a/b"])
def test_a_path_id_with_characters_the_router_refuses_is_422(course_id):
    response = call("enrollment.handlers.enrollment_count", {"course_id": course_id})
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["path", "course_id"]


# ---- string lengths ---------------------------------------------------------------------------------


def _body_models() -> dict[str, type[BaseModel]]:
    """Every request body model of every handler, by schema name."""
    generate._import_functions_code()
    models = {}
    for endpoint in generate.discover_endpoints():
        module = importlib.import_module(endpoint.module)
        operation = getattr(module.app.get_openapi_schema().paths[endpoint.path], endpoint.method)
        if operation.requestBody is None:
            continue
        name = operation.requestBody.content["application/json"].schema_.ref.rsplit("/", 1)[-1]
        models[name] = next(
            value for value in vars(module).values() if isinstance(value, type) and value.__name__ == name
        )
    return models


def _strings_without_a_bound(schema: dict, where: str) -> list[str]:
    if "anyOf" in schema:
        return [problem for option in schema["anyOf"] for problem in _strings_without_a_bound(option, where)]
    bounded = (
        "maxLength" in schema
        or "enum" in schema
        or "const" in schema
        or schema.get("format") == "uuid"
        or "pattern" in schema
    )
    return [where] if schema.get("type") == "string" and not bounded else []


def test_every_string_a_client_sends_has_a_maximum_length():
    document = openapi.build()
    schemas = document["components"]["schemas"]
    unbounded = []
    for name in _body_models():
        for field, schema in schemas[name]["properties"].items():
            unbounded += _strings_without_a_bound(schema, f"{name}.{field}")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                unbounded += _strings_without_a_bound(
                    parameter["schema"], f"{method.upper()} {path} {parameter['name']}"
                )
    assert not unbounded


VALID = {
    "RegisterRequest": {"email": "ada@example.com", "password": "password123", "name": "Ada", "role": "student"},
    "LoginRequest": {"email": "ada@example.com", "password": "password123"},
    "RefreshRequest": {"refresh_token": "r" * 43},
    "EmailTokenRequest": {"token": "t" * 43},
    "ForgotPasswordRequest": {"email": "ada@example.com"},
    "ResetPasswordRequest": {"token": "t" * 43, "new_password": "password123"},
    "CourseCreate": {
        "title": "Course",
        "description": "About",
        "is_free": False,
        "price": "49.99",
        "level": "advanced",
    },
    "CourseUpdate": {"title": "Course", "description": "About"},
    "ModuleCreate": {"title": "Module", "order": 1},
    "ModuleUpdate": {"title": "Module", "order": 2},
    "LessonCreate": {
        "title": "Lesson",
        "content": "Text",
        "video_url": "https://example.com/v.mp4",
        "duration_minutes": 5,
    },
    "LessonUpdate": {"title": "Lesson", "content": "Text"},
    "ReviewCreate": {"course_id": str(uuid.uuid4()), "rating": 5, "comment": "Good"},
    "EnrollmentRequest": {"course_id": str(uuid.uuid4()), "payment_id": str(uuid.uuid4())},
    "CompleteLessonRequest": {"course_id": str(uuid.uuid4())},
    "PaymentRequest": {"course_id": str(uuid.uuid4()), "amount": "49.99"},
    "NotificationRequest": {"type": "payment", "title": "Paid", "body": "Thanks"},
}

# (model, field, longest accepted value); one character more is refused.
LONGEST = [
    ("RegisterRequest", "name", "n" * 255),
    # email-validator's own limit (254) is below the schema's 320.
    ("RegisterRequest", "email", "e" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 57 + ".com"),
    ("RegisterRequest", "password", "p" * 72),
    ("LoginRequest", "email", "e" * 320),
    ("LoginRequest", "password", "p" * 1024),
    ("RefreshRequest", "refresh_token", "r" * 128),
    ("EmailTokenRequest", "token", "t" * 128),
    ("ForgotPasswordRequest", "email", "e" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 57 + ".com"),
    ("ResetPasswordRequest", "token", "t" * 128),
    ("ResetPasswordRequest", "new_password", "p" * 72),
    ("CourseCreate", "title", "t" * 500),
    ("CourseCreate", "description", "d" * 10_000),
    ("CourseUpdate", "title", "t" * 500),
    ("ModuleCreate", "title", "t" * 500),
    ("LessonCreate", "title", "t" * 500),
    ("LessonCreate", "content", "c" * 100_000),
    ("LessonUpdate", "content", "c" * 100_000),
    ("ReviewCreate", "comment", "c" * 5_000),
    ("NotificationRequest", "title", "t" * 500),
    ("NotificationRequest", "body", "b" * 5_000),
]


@pytest.mark.parametrize(("model_name", "field", "longest"), LONGEST, ids=[f"{m}.{f}" for m, f, _ in LONGEST])
def test_string_length_limits(model_name, field, longest):
    model = _body_models()[model_name]
    model.model_validate({**VALID[model_name], field: longest})
    too_long = longest[:-1] + longest[-1] * 2 if "@" not in longest else "e" + longest
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**VALID[model_name], field: too_long})
    assert refused.value.errors()[0]["loc"] == (field,)


def test_empty_titles_and_names_are_refused():
    models = _body_models()
    for model_name, field in [
        ("RegisterRequest", "name"),
        ("CourseCreate", "title"),
        ("ModuleCreate", "title"),
        ("LessonCreate", "title"),
        ("NotificationRequest", "title"),
    ]:
        with pytest.raises(ValidationError):
            models[model_name].model_validate({**VALID[model_name], field: "   "})


# ---- passwords and bcrypt's 72 bytes ---------------------------------------------------------------


@pytest.fixture
def identity_db(domain_database):
    return domain_database("identity")


@pytest.mark.parametrize(
    "password", ["p" * 73, "é" * 37, "🔑" * 19], ids=["73-ascii", "74-bytes-in-37-chars", "76-bytes-in-19-chars"]
)
def test_a_password_over_72_bytes_is_422_not_cut(identity_db, password):
    response = call(REGISTER, body={"email": "ada@example.com", "password": password, "name": "Ada"})
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]
    assert "72" in response.json()["detail"][0]["msg"]


def test_a_72_byte_multibyte_password_registers_and_only_it_logs_in(identity_db):
    password = "é" * 36
    assert call(REGISTER, body={"email": "ada@example.com", "password": password, "name": "Ada"}).status == 200
    assert call(LOGIN, body={"email": "ada@example.com", "password": password}).status == 200
    assert call(LOGIN, body={"email": "ada@example.com", "password": "é" * 35}).status == 400


@pytest.mark.parametrize("email", ["ada@example.com", "nobody@example.com"])
def test_login_with_a_password_over_72_bytes_is_the_usual_400(identity_db, email):
    # bcrypt refuses to check such a password; it cannot match a stored one, so it is simply wrong.
    call(REGISTER, body={"email": "ada@example.com", "password": "p" * 72, "name": "Ada"})
    response = call(LOGIN, body={"email": email, "password": "p" * 73})
    assert response.status == 400
    assert response.json() == {"detail": "Incorrect email or password"}


# ---- unknown JSON fields: ignored, by every request model -----------------------------------------


def test_every_request_model_has_a_valid_example_here():
    assert set(_body_models()) == set(VALID), "add the new request model to VALID (and LONGEST for its strings)"


@pytest.mark.parametrize("model_name", sorted(VALID))
def test_unknown_fields_are_ignored_by_every_request_model(model_name):
    model = _body_models()[model_name]
    assert model.model_config.get("extra", "ignore") == "ignore"
    plain = model.model_validate(VALID[model_name])
    with_extras = model.model_validate(
        {**VALID[model_name], "unknown": 1, "id": str(uuid.uuid4()), "is_verified": True}
    )
    assert with_extras.model_dump() == plain.model_dump()
    assert openapi.build()["components"]["schemas"][model_name].get("additionalProperties") is not False


def test_unknown_fields_cannot_grant_anything_at_registration(identity_db):
    from eduplatform.security import decode_token

    response = call(
        REGISTER,
        body={
            "email": "ada@example.com",
            "password": "password123",
            "name": "Ada",
            "role": "teacher",
            "is_verified": True,
            "id": str(uuid.uuid4()),
            "password_hash": "x",
        },
    )
    assert response.status == 200
    principal = decode_token(response.json()["access_token"])
    assert principal.role is Role.TEACHER and principal.is_verified is False


# ---- what a client string and integer may be (eduplatform.types) -------------------------------


def _request_schemas(document: dict):
    """Every (where, schema) a client fills: parameters and request body properties, refs resolved."""
    components = document["components"]["schemas"]

    def resolve(schema: dict) -> dict:
        return components[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema

    def leaves(where: str, schema: dict):
        schema = resolve(schema)
        variants = schema.get("anyOf") or schema.get("allOf")
        if variants and any(variant.get("type") == "number" for variant in variants):
            # A decimal: pydantic also accepts its string form, whose pattern is max_digits/decimal_places.
            yield where, next(variant for variant in variants if variant.get("type") == "number")
        elif variants:
            for variant in variants:
                yield from leaves(where, variant)
        elif schema.get("type") == "object":
            for name, field in schema.get("properties", {}).items():
                yield from leaves(f"{where}.{name}", field)
        elif schema.get("type") != "null":
            yield where, schema

    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                yield from leaves(f"{method.upper()} {path} {parameter['in']}:{parameter['name']}", parameter["schema"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                yield from leaves(f"{method.upper()} {path} body", body)


def test_every_client_string_and_integer_in_the_document_is_bounded():
    document = json.loads(openapi.DOCUMENT.read_text())
    unbounded = []
    for where, schema in _request_schemas(document):
        kind = schema.get("type")
        if kind == "string" and "enum" not in schema and schema.get("format") not in ("uuid", "email"):
            if "maxLength" not in schema or "pattern" not in schema:
                unbounded.append(f"{where}: {schema}")
        elif kind in ("integer", "number") and (
            "maximum" not in schema or ("minimum" not in schema and "exclusiveMinimum" not in schema)
        ):
            unbounded.append(f"{where}: {schema}")
    assert not unbounded, "\n".join(unbounded)


@pytest.mark.parametrize(
    "text", ["nul\x00inside", "bell\x07", "line\nbreak", "lone \ud800 surrogate", "tab\tin a name"]
)
def test_single_line_text_refuses_control_characters_and_surrogates(text):
    from eduplatform.types import single_line_text

    class Model(BaseModel):
        name: Annotated[str, *single_line_text(max_length=50)]

    with pytest.raises(ValidationError):
        Model(name=text)


def test_multi_line_text_keeps_line_breaks_and_tabs_but_not_nul():
    from eduplatform.types import multi_line_text

    class Model(BaseModel):
        body: Annotated[str, *multi_line_text(max_length=50)]

    assert Model(body="one\r\ntwo\tthree").body == "one\r\ntwo\tthree"
    for text in ("nul\x00", "escape\x1b[31m", "lone \udfff"):
        with pytest.raises(ValidationError):
            Model(body=text)


@pytest.mark.parametrize(
    ("module", "body"),
    [
        (LOGIN, {"email": "a\x00@example.com", "password": "password123"}),
        (LOGIN, {"email": "a@example.com", "password": "pass\x00word"}),
        (REGISTER, {"email": "a@example.com", "password": "password123", "name": "Ada\x00"}),
        (REGISTER, {"email": "a\x00b@example.com", "password": "password123", "name": "Ada"}),
    ],
)
def test_nul_in_identity_requests_is_422_before_the_database(module, body):
    response = call(module, body=body)
    assert response.status == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_nul_in_a_notification_is_422():
    token = issue_token(uuid.uuid4(), Role.STUDENT, True)
    response = call(CREATE_NOTIFICATION, body={"type": "payment", "title": "t\x00", "body": "b"}, token=token)
    assert response.status == 422 and response.json()["detail"][0]["loc"] == ["body", "title"]


def test_an_escaped_lone_surrogate_in_json_is_422():
    body = '{"email": "a@example.com", "password": "password123", "name": "Ada \\ud800"}'
    response = call(REGISTER, body=body)
    assert response.status == 422, response.text


LISTS = [
    "course.handlers.list_courses",
    "course.handlers.my_courses",
    "identity.handlers.pending_teachers",
    "notification.handlers.my_notifications",
    "payment.handlers.my_payments",
    "enrollment.handlers.my_enrollments",
]


@pytest.mark.parametrize("module", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        {"offset": "2266455429066619355136"},
        {"offset": 1_000_001},
        {"offset": -1},
        {"limit": 0},
        {"limit": 101},
        {"limit": "9" * 30},
    ],
)
def test_out_of_range_limit_or_offset_is_422(module, query):
    token = issue_token(uuid.uuid4(), Role.ADMIN if "pending" in module else Role.TEACHER, True)
    response = call(module, query=query, token=token)
    assert response.status == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(query))]


def test_reviews_list_offset_is_bounded_too():
    response = call("course.handlers.list_course_reviews", {"course_id": uuid.uuid4()}, query={"offset": "9" * 25})
    assert response.status == 422 and response.json()["detail"][0]["loc"] == ["query", "offset"]
