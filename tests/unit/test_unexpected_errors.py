"""The layer's last line of defence: a failure nobody expected is a 500 with a request id, never its text.

One endpoint of each domain is made to fail with an exception whose text must not leak; the
answer is the API's JSON error with CORS headers, and the log holds the stack trace under
the same request id.
"""

import importlib
import json
import uuid

import pytest

from tests.support.lambda_events import FakeLambdaContext, proxy_event

from eduplatform.http import INTERNAL_ERROR
from eduplatform.principal import Role
from eduplatform.security import issue_token

SECRET_TEXT = "bigint out of range at relation users_secret_column"

# (handler module, the name in it to break, query)
FAILING_ENDPOINTS = {
    "identity": ("identity.handlers.me", "service.profile", None),
    "course": ("course.handlers.list_courses", "service.catalogue", {"q": "python"}),
    "enrollment": ("enrollment.handlers.my_enrollments", "service.my_enrollments", None),
    "payment": ("payment.handlers.my_payments", "service.my_payments", None),
    "notification": ("notification.handlers.my_notifications", "service.my_notifications", None),
    "ops": ("ops.handlers.health", "_check", None),
}


def _explode(*args, **kwargs):
    raise RuntimeError(SECRET_TEXT)


@pytest.mark.parametrize("domain", FAILING_ENDPOINTS)
def test_an_unexpected_exception_is_a_500_with_a_request_id_and_no_internals(domain, monkeypatch, caplog):
    module_name, target, query = FAILING_ENDPOINTS[domain]
    module = importlib.import_module(module_name)
    owner_name, _, attribute = target.rpartition(".")
    monkeypatch.setattr(getattr(module, owner_name) if owner_name else module, attribute, _explode)
    ((path, item),) = module.app.get_openapi_schema().paths.items()
    method = next(m for m in ("get", "post", "put", "patch", "delete") if getattr(item, m, None)).upper()
    context = FakeLambdaContext(function_name=domain)

    raw = module.handler(
        proxy_event(method, path, query=query, token=issue_token(uuid.uuid4(), Role.STUDENT, True)), context
    )

    assert raw["statusCode"] == 500
    assert json.loads(raw["body"]) == {"detail": INTERNAL_ERROR, "request_id": context.aws_request_id}
    assert raw["headers"]["Content-Type"] == "application/json"
    assert raw["headers"]["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert SECRET_TEXT not in raw["body"] and "RuntimeError" not in raw["body"]
    failure = next(record for record in caplog.records if record.getMessage() == "unhandled error")
    assert failure.request_id == context.aws_request_id
    assert failure.exc_info[0] is RuntimeError and str(failure.exc_info[1]) == SECRET_TEXT  # the stack trace is logged
    handled = next(record for record in caplog.records if record.getMessage() == "request handled")
    assert handled.status == 500
