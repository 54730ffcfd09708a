"""Sends the identity domain's pending emails through SES (every minute, or when invoked).

An email normally leaves the mail outbox right after the request that recorded it commits;
this relay sends the ones SES did not take then, and those of POST /forgot-password, which
invokes it asynchronously. Answer ``{"sent", "failed"}``.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger, metrics

from identity import mailer
from identity.capacity import SEND_EMAIL_POLICY

TEMPLATE_PROPERTIES = {
    "Policies": [SEND_EMAIL_POLICY],
    "Events": {"Schedule": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}},
}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = mailer.relay()
    metrics.add_metric(name="EmailsRelayed", unit=MetricUnit.Count, value=result["sent"])
    logger.info("mail relay run", extra=result)
    return result
