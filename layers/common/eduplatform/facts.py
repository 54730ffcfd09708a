"""What one domain may ask another: the internal "facts" functions, one wrapper each.

Each returns the owning domain's answer as a dict, or None when the thing does not
exist. The environment variable holding each target function's name is set in
template.yaml through the calling handler's TEMPLATE_PROPERTIES (see ``template_properties``).
"""

import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.internal_calls import invoke, lambda_client
from eduplatform.observability import logger

COURSE_FACTS = ("COURSE_FACTS_FUNCTION", "CourseInternalCourseFactsFunction")
LESSON_FACTS = ("LESSON_FACTS_FUNCTION", "CourseInternalLessonFactsFunction")
PAYMENT_FACTS = ("PAYMENT_FACTS_FUNCTION", "PaymentInternalPaymentFactsFunction")


def _found(answer: dict[str, Any]) -> dict[str, Any] | None:
    return answer if answer.get("found") is True else None


def course_facts(course_id: UUID) -> dict[str, Any] | None:
    """``{course_id, teacher_id, is_free, price ("49.99" or None), total_lessons}`` or None."""
    return _found(invoke(COURSE_FACTS[0], {"course_id": str(course_id)}, "course"))


def lesson_facts(lesson_id: UUID) -> dict[str, Any] | None:
    """``{lesson_id, module_id, course_id}`` or None."""
    return _found(invoke(LESSON_FACTS[0], {"lesson_id": str(lesson_id)}, "course"))


def payment_facts(payment_id: UUID) -> dict[str, Any] | None:
    """``{payment_id, student_id, course_id, status, amount}`` or None."""
    return _found(invoke(PAYMENT_FACTS[0], {"payment_id": str(payment_id)}, "payment"))


def facts_handler(id_field: str, lookup: Callable[[UUID], dict[str, Any] | None]) -> Callable[[Any, LambdaContext], dict[str, Any]]:
    """The Lambda entry point of an internal facts function answering ``{id_field: "<uuid>"}``.

    The answer is ``{"found": true, **lookup(id)}``, or ``{"found": false}`` when the thing
    does not exist or the id is missing or malformed.
    """

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        raw_id = event.get(id_field) if isinstance(event, dict) else None
        try:
            key = UUID(str(raw_id))
        except ValueError:
            logger.info("facts asked with a malformed id", extra={id_field: str(raw_id)})
            return {"found": False}
        facts = lookup(key)
        logger.info("facts answered", extra={id_field: str(key), "found": facts is not None})
        return {"found": False} if facts is None else {"found": True, **facts}

    return handler


def template_properties(*targets: tuple[str, str], publishes_events: bool = False,
                        variables: dict[str, Any] | None = None, policies: list[Any] | None = None) -> dict[str, Any]:
    """TEMPLATE_PROPERTIES of a function that calls the given facts functions and/or publishes events."""
    all_variables = {variable: {"Ref": logical_id} for variable, logical_id in targets}
    all_policies: list[Any] = [{"LambdaInvokePolicy": {"FunctionName": {"Ref": logical_id}}} for _, logical_id in targets]
    if publishes_events:
        all_variables["EVENT_BUS_NAME"] = {"Ref": "EventBus"}
        all_policies.append({"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "EventBus"}}})
    all_variables.update(variables or {})
    all_policies.extend(policies or [])
    return {"Environment": {"Variables": all_variables}, "Policies": all_policies}


# A function that asks other domains creates its Lambda client while its instance
# initialises (botocore's model loading), not in the first request it serves.
if any(os.environ.get(variable) for variable, _ in (COURSE_FACTS, LESSON_FACTS, PAYMENT_FACTS)):
    lambda_client()
