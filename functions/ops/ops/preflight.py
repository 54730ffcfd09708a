"""CORS preflight for every path of the API (routed here by template.yaml)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.cors import ALLOWED_METHODS, CORS
from eduplatform.observability import logger


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    headers = CORS.to_dict(origin=request_headers.get("origin") or "*")
    headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    logger.info("preflight", extra={"path": event.get("path")})
    return {"statusCode": 204, "headers": headers, "body": ""}
