"""Where one lesson belongs, for other domains: its module and course.

Invoked with the Lambda API (no HTTP route). Event ``{"lesson_id": "<uuid>"}``; answer
``{"found": true, "lesson_id", "module_id", "course_id"}`` or ``{"found": false}``
(also for a missing or malformed id).
"""

from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger

from course import service


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    raw_id = event.get("lesson_id") if isinstance(event, dict) else None
    try:
        lesson_id = UUID(str(raw_id))
    except ValueError:
        logger.info("lesson facts: malformed id", extra={"lesson_id": str(raw_id)})
        return {"found": False}
    facts = service.lesson_facts(lesson_id)
    logger.info("lesson facts", extra={"lesson_id": str(lesson_id), "found": facts is not None})
    return {"found": False} if facts is None else {"found": True, **facts}
