"""Creating a payment, once per Idempotency-Key: Powertools idempotency over DynamoDB.

A request carrying an ``Idempotency-Key`` goes through Powertools idempotency (records in the
DynamoDB table named by IDEMPOTENCY_TABLE): a retry with the same key and body returns the first
payment and creates nothing; the same key with another body is refused. Its own module, as only
``POST /payments`` needs it: Powertools' idempotency imports boto3, which the payment function's
reads never use.
"""

import os
from decimal import Decimal
from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import ServiceUnavailableError
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    BaseError as IdempotencyError,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.http import Conflict
from eduplatform.observability import logger

from payment import service
from payment.schemas import PaymentOut, PaymentRequest

IDEMPOTENCY_KEY_MAX_LENGTH = 255
# How long a key is remembered (the table's TTL attribute is "expiration").
IDEMPOTENCY_TTL_SECONDS = 24 * 3600

idempotency_config = IdempotencyConfig(
    event_key_jmespath="[student_id, idempotency_key]",
    payload_validation_jmespath="[course_id, amount]",
    expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
)
_idempotent_charge: Any = None


def create_payment(
    student_id: UUID, request: PaymentRequest, idempotency_key: str | None, lambda_context: LambdaContext | None
) -> PaymentOut:
    if idempotency_key is None:
        return service.charge(student_id, request.course_id, request.amount)
    key = idempotency_key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise service.Unprocessable(f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters")
    if lambda_context is not None:
        idempotency_config.register_lambda_context(lambda_context)
    data = {
        "student_id": str(student_id),
        "idempotency_key": key,
        "course_id": str(request.course_id),
        "amount": f"{request.amount:.2f}",
    }
    try:
        stored = idempotent_charge()(request=data)
    except IdempotencyValidationError:
        raise service.Unprocessable("This Idempotency-Key was already used with a different request body") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still being processed, retry shortly") from None
    except IdempotencyError as exc:
        logger.warning("idempotency store unavailable", extra={"error": str(exc)})
        raise ServiceUnavailableError("Payments are unavailable, try again later") from exc
    return PaymentOut(**stored)


def idempotent_charge() -> Any:
    """``service.charge`` wrapped by Powertools idempotency; built on first use (it needs the table)."""
    global _idempotent_charge
    if _idempotent_charge is None:
        table = os.environ.get("IDEMPOTENCY_TABLE")
        if not table:
            logger.error("IDEMPOTENCY_TABLE is not set")
            raise ServiceUnavailableError("Payments are unavailable, try again later")

        # Powertools' idempotent_function is not annotated; charge_once keeps its own types.
        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request",
            persistence_store=DynamoDBPersistenceLayer(table_name=table),
            config=idempotency_config,
        )
        def charge_once(request: dict[str, str]) -> dict[str, Any]:
            payment = service.charge(
                UUID(request["student_id"]), UUID(request["course_id"]), Decimal(request["amount"])
            )
            return payment.model_dump(mode="json")

        _idempotent_charge = charge_once
    return _idempotent_charge


def reset_idempotency() -> None:
    """Forget the idempotency store (tests point IDEMPOTENCY_TABLE at a fresh table)."""
    global _idempotent_charge
    _idempotent_charge = None
