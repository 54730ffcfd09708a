"""Call a function's handler in-process with an API Gateway REST proxy event; build SQS batches of bus events."""

import importlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.local import events


@dataclass
class FakeLambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def _route_of(module: Any) -> tuple[str, str]:
    paths = module.app.get_openapi_schema().paths
    ((path, item),) = paths.items()
    method = next(m for m in ("get", "post", "put", "patch", "delete") if getattr(item, m, None))
    return method.upper(), path


def proxy_event(method: str, resource: str, path_params: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
    """The API Gateway event of `make invoke` (infra/local/events.py), from a browser's origin as the tests call it."""
    headers = {"Origin": "http://localhost:5173", **(kwargs.pop("headers", None) or {})}
    return events.proxy_event(method, resource, path_params, headers=headers, stage="test", **kwargs)


def call(module_name: str, path_params: dict[str, Any] | None = None, **kwargs: Any) -> ApiResponse:
    """Invoke the handler module's route through its domain function's entry point (``<domain>.routes``)."""
    module = importlib.import_module(module_name)
    method, resource = _route_of(module)
    event = proxy_event(method, resource, path_params, **kwargs)
    domain_function = importlib.import_module(f"{module_name.split('.', 1)[0]}.routes")
    raw = domain_function.handler(event, FakeLambdaContext(function_name=module_name))
    headers = {k: ",".join(v) if isinstance(v, list) else v for k, v in (raw.get("multiValueHeaders") or {}).items()}
    headers.update(raw.get("headers") or {})
    return ApiResponse(status=raw["statusCode"], headers=headers, text=raw.get("body") or "")


def envelope(detail_type: str, detail: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """An EventBridge event as a rule delivers it to SQS."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source
        or {
            "UserRegistered": "eduplatform.identity",
            "PaymentCompleted": "eduplatform.payment",
            "EnrollmentCreated": "eduplatform.enrollment",
        }.get(detail_type, "eduplatform.course"),
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def sqs_event(*bodies: Any) -> dict[str, Any]:
    """An SQS event source batch, one record per body (a dict is sent as JSON, a str as is)."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "x",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:notification-events",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }
