"""The HTTP side every endpoint function shares: resolver, errors, pagination.

Each function module builds its resolver with ``create_app()``, declares its one route
with Powertools' decorators (the route table of template.yaml and the OpenAPI document
are both derived from those declarations) and exposes ``handler = lambda_handler(app)``.
Who the caller is comes from ``eduplatform.auth``, which only the routes that take a token import.
"""

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from eduplatform import cursors
from eduplatform.cors import CORS
from eduplatform.cursors import CURSOR_MAX_LENGTH, CURSOR_PATTERN
from eduplatform.cursors import INVALID as INVALID_CURSOR
from eduplatform.db import database
from eduplatform.deferred import run_deferred
from eduplatform.observability import logger, metrics
from eduplatform.types import OFFSET_MAX, PAGE_SIZE_MAX, ApiModel

# An API Gateway proxy event and the function's answer to it.
LambdaEvent = dict[str, Any]
LambdaResponse = dict[str, Any]
LambdaHandler = Callable[[LambdaEvent, LambdaContext], LambdaResponse]

BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]
# The security of a route open to everyone that answers more to some callers (a token is optional).
OPTIONAL_BEARER_AUTH: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class Conflict(ServiceError):
    def __init__(self, msg: str) -> None:
        super().__init__(409, msg)


class PaymentRequired(ServiceError):
    def __init__(self, msg: str) -> None:
        super().__init__(402, msg)


class TooManyRequests(ServiceError):
    """429 with ``Retry-After`` (whole seconds)."""

    def __init__(self, msg: str, retry_after: int) -> None:
        super().__init__(429, msg)
        self.retry_after = max(1, int(retry_after))


class ErrorDetail(ApiModel):
    """Every error but request validation: {"detail": "<human readable reason>"}."""

    detail: str


ERROR_DESCRIPTIONS = {
    400: "Bad request",
    402: "Payment required",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflicts with the current state",
    422: "Invalid request",
    429: "Too many requests; Retry-After says when to try again",
}


def api_responses(
    *errors: int | tuple[int, str],
    success: int = 200,
    model: type[BaseModel] | None = None,
    description: str = "Successful Response",
) -> dict[int, OpenAPIResponse]:
    """A route's ``responses=``: its success and the error statuses its own rules answer.

    Each error is a status or (status, description) and carries the ``{"detail": str}``
    schema. A success without ``model`` is described by the function's return annotation.
    401, 413, 422 and 503, common to many routes, are added by infra/openapi.py.
    """
    if success == 204:
        responses: dict[int, OpenAPIResponse] = {204: {"description": description, "content": {}}}
    elif model is not None:
        responses = {
            success: {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}
        }
    else:
        responses = {success: {"description": description}}
    for error in errors:
        status, text = error if isinstance(error, tuple) else (error, ERROR_DESCRIPTIONS[error])
        responses[status] = {"description": text, "content": {content_types.APPLICATION_JSON: {"model": ErrorDetail}}}
    return responses


def error_response(status: int, detail: Any) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps({"detail": detail})
    )


def _validation_error_item(error: dict[str, Any]) -> dict[str, Any]:
    item = {
        "loc": list(error.get("loc", ())),
        "msg": error.get("msg") or "Invalid value",
        "type": error.get("type", "value_error"),
    }
    if "ctx" in error:
        item["ctx"] = {key: str(value) for key, value in error["ctx"].items()}
    return item


def create_app() -> APIGatewayRestResolver:
    """A Powertools REST resolver with validation and the API's error shapes."""
    app = APIGatewayRestResolver(enable_validation=True, cors=CORS)
    app.configure_openapi(
        title="EduPlatform API",
        version="1.0.0",
        # The scheme as its OpenAPI document, not as Powertools' HTTPBearer model: the pydantic
        # models of the OpenAPI document take ~0.2 s to import, which every cold start paid for a
        # schema only the generators (infra/openapi.py) build; Powertools validates it then.
        security_schemes={"bearerAuth": BEARER_SCHEME},  # type: ignore[dict-item]
    )

    # Powertools' exception_handler is not annotated: these three handlers keep their own types.
    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(exc: RequestValidationError) -> Response[str]:
        return error_response(422, [_validation_error_item(error) for error in exc.errors()])

    @app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
    def _service_error(exc: ServiceError) -> Response[str]:
        return error_response(exc.status_code, exc.msg)

    @app.exception_handler(TooManyRequests)  # type: ignore[untyped-decorator]
    def _too_many_requests(exc: TooManyRequests) -> Response[str]:
        response = error_response(429, exc.msg)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    # Powertools routes both an unmatched path and a raised NotFoundError here.
    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        # Powertools hands an unmatched request over without raising (no traceback). API Gateway
        # only routes this function's own route here, so the path matched it but a parameter holds
        # characters Powertools' route pattern refuses (e.g. "£"): an invalid id, 422 like any other.
        parameters = app.current_event.path_parameters or {}
        if exc.__traceback__ is None and parameters:
            return error_response(
                422,
                [
                    {"loc": ["path", name], "msg": "Invalid path parameter", "type": "value_error"}
                    for name in parameters
                ],
            )
        return error_response(404, getattr(exc, "msg", None) or "Not Found")

    return app


def lambda_handler(app: APIGatewayRestResolver, no_store: bool = False) -> LambdaHandler:
    """The Lambda entry point for a resolver: structured logs and one EMF record per request.

    The EMF record (Requests, Duration, ResponseSize by service/route/method/status) is what
    infra/metrics/bridge.py turns into Prometheus metrics; Powertools adds a ColdStart
    record on a cold start. The last line of defence: an exception nothing expected is logged
    with its stack trace and answered ``500 {"detail", "request_id"}``, never with its text,
    so API Gateway's own 502 only ever means the function itself died.
    Then what the request deferred runs (``eduplatform.deferred``: starting the outbox relay
    once its events are committed), before the answer leaves.

    Every response carries ``X-Content-Type-Options: nosniff``; ``Cache-Control: no-store`` is
    added to the answers of authenticated requests (an Authorization header) and, with
    ``no_store=True``, of every request of the route (those handing out tokens).
    """

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: LambdaEvent, context: LambdaContext) -> LambdaResponse:
        started = time.perf_counter()
        route = event.get("resource") or event.get("path") or ""
        method = event.get("httpMethod", "")
        try:
            response = _unreadable_body(event) or app.resolve(event, context)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": context.aws_request_id})
            response = internal_error_response(event, context.aws_request_id)
        run_deferred()
        _security_headers(response, no_store or _carries_credentials(event))
        _record_request(
            context, method, route, response.get("statusCode", 500), started, len(response.get("body") or "")
        )
        return response

    logged: LambdaHandler = handler  # Powertools' log_metrics decorator returns Callable[..., Any]
    return logged


def _carries_credentials(event: LambdaEvent) -> bool:
    return any(name.lower() == "authorization" for name in (event.get("headers") or {}))


def _security_headers(response: LambdaResponse, no_store: bool) -> None:
    extra = {"X-Content-Type-Options": "nosniff", **({"Cache-Control": "no-store"} if no_store else {})}
    if response.get("multiValueHeaders") is not None:
        response["multiValueHeaders"].update({name: [value] for name, value in extra.items()})
    else:
        response.setdefault("headers", {}).update(extra)


INTERNAL_ERROR = "Internal server error"


def internal_error_response(event: LambdaEvent, request_id: str) -> LambdaResponse:
    """What a client sees of a failure nobody expected: the request id to quote, nothing else."""
    return _json_response(event, 500, {"detail": INTERNAL_ERROR, "request_id": request_id})


def _json_response(event: LambdaEvent, status: int, body: dict[str, Any]) -> LambdaResponse:
    """A complete API Gateway response built outside the resolver, with the API's JSON and CORS headers."""
    origin = next((value for name, value in (event.get("headers") or {}).items() if name.lower() == "origin"), None)
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": content_types.APPLICATION_JSON,
            "X-Content-Type-Options": "nosniff",
            **CORS.to_dict(origin),
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


MAX_BODY_BYTES = 1024 * 1024


def _unreadable_body(event: LambdaEvent) -> LambdaResponse | None:
    """413 for a body over 1 MB, 415 for a body declared as anything but JSON; None when it may be parsed.

    Answered before Powertools reads the body: it would try to parse a form or multipart body
    (and fails with an unhandled error on a multipart type without a boundary).
    """
    body = event.get("body") or ""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode(errors="surrogatepass"))
    media_type = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if size > MAX_BODY_BYTES:
        status, detail = 413, "Request body too large (limit 1 MB)"
    elif body and media_type and media_type != "application/json" and not media_type.endswith("+json"):
        status, detail = 415, "Content-Type must be application/json"
    else:
        return None
    return _json_response(event, status, {"detail": detail})


def _record_request(context: LambdaContext, method: str, route: str, status: int, started: float, size: int) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_dimension("route", route)
    metrics.add_dimension("method", method)
    metrics.add_dimension("status", str(status))
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    metrics.add_metric(name="ResponseSize", unit=MetricUnit.Bytes, value=size)
    metrics.add_metadata(key="request_id", value=context.aws_request_id)
    logger.info(
        "request handled",
        extra={
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(elapsed_ms, 2),
            "response_bytes": size,
        },
    )


# ---- pagination ---------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description=f"Page size, 1 to {PAGE_SIZE_MAX}")]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description=f"Items to skip, 0 to {OFFSET_MAX:,}")]

Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_LENGTH,
        pattern=CURSOR_PATTERN,
        description="next_cursor of the previous page, instead of offset; only valid for the same list and query",
    ),
]
WithTotal = Annotated[bool, Query(description="With a cursor: also count the list (total)")]


class CursorPage[ItemT](ApiModel):
    """A page of a list (every list pages by offset or by cursor): ``total`` is left out of cursor
    pages unless ``with_total=true``; ``next_cursor`` is null on the last page."""

    items: list[ItemT]
    total: int | None = None
    next_cursor: str | None = None


def list_responses(item_model: Any, *errors: int | tuple[int, str]) -> dict[int, OpenAPIResponse]:
    """A list route's ``responses=``: a CursorPage of ``item_model``, and the route's own errors."""
    return api_responses(
        *errors,
        model=CursorPage[item_model],
        description="A page; total is left out of cursor pages unless with_total=true",
    )


def invalid_query(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": message, "type": "value_error"}])


def invalid_cursor() -> RequestValidationError:
    return invalid_query("cursor", INVALID_CURSOR)


def check_cursor_or_offset(cursor: str | None, offset: int) -> None:
    if cursor is not None and offset:
        raise invalid_query("offset", "Send either a cursor or an offset, not both")


def keyset_list[ItemT: BaseModel](
    model: type[ItemT],
    endpoint: str,
    listing: cursors.KeysetList,
    params: dict[str, Any],
    limit: int,
    offset: int,
    cursor: str | None,
    with_total: bool,
) -> CursorPage[ItemT]:
    """One page of a list endpoint, by offset or by a cursor bound to ``endpoint`` and ``params``
    (the values of ``listing``'s conditions: whose list it is).

    The total is counted for offset pages, and for cursor pages only ``with_total``; ``next_cursor``
    is None on the last page. A tampered or foreign cursor, or a cursor sent with an offset, is a 422.
    """
    check_cursor_or_offset(cursor, offset)
    bound_to = cursors.fingerprint(endpoint, params)
    try:
        after = listing.order.after_cursor(cursor, bound_to)
    except cursors.InvalidCursor:
        raise invalid_cursor() from None
    with database().transaction() as conn:
        rows, total = listing.read(conn, params, limit + 1, offset, after, cursor is None or with_total)
    rows, next_cursor = listing.order.page(rows, limit, bound_to)
    # Parametrised with the runtime model (which mypy cannot check) so the page serialises its items as that model.
    page_model: type[CursorPage[ItemT]] = CursorPage[model]  # type: ignore[valid-type]
    return page_model(items=[model(**row) for row in rows], total=total, next_cursor=next_cursor)


def cursor_page_response(page: BaseModel) -> Response[str]:
    """A CursorPage as the answer: ``total`` omitted when it was not counted."""
    exclude = {"total"} if getattr(page, "total", None) is None else None
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=page.model_dump_json(exclude=exclude)
    )


def created(body: BaseModel) -> Response[str]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def no_content() -> Response[str]:
    return Response(status_code=204, body="")


def accepted(body: BaseModel) -> Response[str]:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def source_ip(app: APIGatewayRestResolver) -> str:
    """The client's address as API Gateway saw it (requestContext.identity.sourceIp)."""
    return app.current_event.request_context.identity.source_ip or "unknown"
