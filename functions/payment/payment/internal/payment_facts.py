"""Payment facts for other domains: does a payment exist, whose is it, for which course, its status.

Invoked with the Lambda API (not routed through API Gateway):
``{"payment_id": "<uuid>"}`` -> ``{"found": true, "payment_id", "student_id", "course_id",
"status", "amount"}`` or ``{"found": false}``.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger

from payment import service


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    payment_id = event.get("payment_id") if isinstance(event, dict) else None
    answer = service.payment_facts(payment_id) if payment_id else {"found": False}
    logger.info("payment facts", extra={"payment_id": payment_id, "found": answer["found"]})
    return answer
