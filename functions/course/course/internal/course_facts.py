"""Facts about one course for other domains: owner, price, lesson count.

Invoked with the Lambda API (no HTTP route). Event ``{"course_id": "<uuid>"}``; answer
``{"found": true, "course_id", "teacher_id", "is_free", "price": "49.99" | null, "total_lessons"}``
or ``{"found": false}`` (also for a missing or malformed id).
"""

from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger

from course import service


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    raw_id = event.get("course_id") if isinstance(event, dict) else None
    try:
        course_id = UUID(str(raw_id))
    except ValueError:
        logger.info("course facts: malformed id", extra={"course_id": str(raw_id)})
        return {"found": False}
    facts = service.course_facts(course_id)
    logger.info("course facts", extra={"course_id": str(course_id), "found": facts is not None})
    return {"found": False} if facts is None else {"found": True, **facts}
