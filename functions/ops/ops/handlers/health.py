from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError

from eduplatform.db import Database
from eduplatform.http import create_app, lambda_handler
from eduplatform.secrets import secret
from eduplatform.settings import DOMAINS
from eduplatform.types import ApiModel

app = create_app()
_databases: dict[str, Database] = {}


class HealthReport(ApiModel):
    status: str
    checks: dict[str, str]


def _check(domain: str) -> str:
    if domain not in _databases:
        _databases[domain] = Database(secret(f"{domain}_db_url"), name=domain)
    try:
        _databases[domain].ping()
        return "ok"
    except (ServiceError, RuntimeError) as exc:
        return f"error: {exc.msg if isinstance(exc, ServiceError) else exc}"


@app.get(
    "/health",
    summary="Reports whether every domain database answers",
    tags=["ops"],
    responses={
        200: {"description": "Every database answers"},
        503: {
            "description": "At least one database does not answer",
            "content": {"application/json": {"model": HealthReport}},
        },
    },
)
def health() -> Response[HealthReport]:
    with ThreadPoolExecutor(max_workers=len(DOMAINS)) as pool:
        checks = dict(zip(DOMAINS, pool.map(_check, DOMAINS), strict=True))
    healthy = all(result == "ok" for result in checks.values())
    report = HealthReport(status="ok" if healthy else "unavailable", checks=checks)
    # The report itself as the body: the resolver validates it against HealthReport and serialises it
    # (a JSON string would fail that validation, as a 422).
    return Response(status_code=200 if healthy else 503, content_type=content_types.APPLICATION_JSON, body=report)


handler = lambda_handler(app)
