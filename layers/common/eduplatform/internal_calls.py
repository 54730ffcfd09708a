"""Synchronous calls to another domain's internal functions (Lambda Invoke, not the API).

A domain never opens another domain's database; it asks the owning domain through a
small internal function. The caller finds the target's name in an environment variable
(set in template.yaml with ``{"Ref": "<LogicalId>"}``). Any failure of the dependency
(unreachable, throttled, the function raised) becomes a 503 with a clear detail, so a
client sees "try again later" rather than a 500.
"""

import json
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError

from eduplatform.aws_clients import InstanceClient
from eduplatform.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


def _new_lambda_client() -> "LambdaClient":
    # boto3 and botocore's client machinery (~0.45 s with the client) are imported with the first
    # call, not with this module: most requests of the functions that may call never do.
    import boto3
    from botocore.config import Config

    # A cold target in the emulator can take seconds to answer; its own timeout is 15 s.
    config = Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("lambda", config=config)


_lambda: InstanceClient["LambdaClient"] = InstanceClient(_new_lambda_client)


def lambda_client() -> "LambdaClient":
    """The instance's Lambda client."""
    return _lambda.get()


def use_client(client: "LambdaClient | None") -> None:
    """Replace the Lambda client (tests inject a fake; None goes back to the real one)."""
    _lambda.replace(client)


def invoke(function_name_variable: str, payload: dict[str, Any], dependency: str) -> dict[str, Any]:
    """Invoke the function named by env ``function_name_variable`` and return its JSON answer.

    ``dependency`` names the owning domain in error details, e.g. "course".
    """
    unavailable = f"The {dependency} service is unavailable, try again later"
    function_name = os.environ.get(function_name_variable)
    if not function_name:
        logger.error("internal function not configured", extra={"variable": function_name_variable})
        raise ServiceUnavailableError(unavailable)
    from botocore.exceptions import BotoCoreError, ClientError  # with the first call, as boto3

    try:
        response = lambda_client().invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
        )
        raw = response["Payload"].read()
    except (BotoCoreError, ClientError) as exc:
        logger.warning("internal call failed", extra={"function": function_name, "error": str(exc)})
        raise ServiceUnavailableError(unavailable) from exc
    if response.get("FunctionError"):
        logger.warning(
            "internal function raised", extra={"function": function_name, "error": raw[:1000].decode(errors="replace")}
        )
        raise ServiceUnavailableError(unavailable)
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        logger.warning("internal function answered non-JSON", extra={"function": function_name})
        raise ServiceUnavailableError(unavailable) from exc
    if not isinstance(answer, dict):
        logger.warning("internal function answered an unexpected shape", extra={"function": function_name})
        raise ServiceUnavailableError(unavailable)
    return answer


def start(function_name_variable: str, payload: dict[str, Any]) -> bool:
    """Start the function named by env ``function_name_variable`` without waiting for it (an
    asynchronous invoke); whether Lambda took the event. Never raises: the caller's work is done."""
    function_name = os.environ.get(function_name_variable)
    if not function_name:
        logger.warning("function to start not configured", extra={"variable": function_name_variable})
        return False
    from botocore.exceptions import BotoCoreError, ClientError  # with the first call, as boto3

    try:
        lambda_client().invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode())
    except (BotoCoreError, ClientError) as exc:
        logger.warning("function not started", extra={"function": function_name, "error": str(exc)})
        return False
    return True
