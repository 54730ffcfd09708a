"""Deletes expired refresh tokens, long-revoked sessions and spent or expired email tokens (hourly).

Requests never purge: they only read and mark rows. Answer the rows deleted per table.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger

from identity import service

TEMPLATE_PROPERTIES = {"Events": {"Schedule": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}}}}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    counts = service.purge()
    logger.info("expired sessions and tokens purged", extra=counts)
    return counts
