"""What one domain may ask another: the internal "facts" functions, one wrapper each.

Request paths use them only as the read models' fallback (eduplatform.read_models), for
something a read model has not seen yet; the paged exports rebuild a read model. Each
single lookup returns the owning domain's answer as a dict, or None when the thing does not
exist. The environment variable holding each target function's name is set in
template.yaml through the calling handler's TEMPLATE_PROPERTIES (see ``template_properties``).
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.internal_calls import invoke
from eduplatform.observability import logger

COURSE_FACTS = ("COURSE_FACTS_FUNCTION", "CourseInternalCourseFactsFunction")
COURSE_FACTS_PAGE = ("COURSE_FACTS_PAGE_FUNCTION", "CourseInternalCourseFactsPageFunction")
PAYMENT_FACTS = ("PAYMENT_FACTS_FUNCTION", "PaymentInternalPaymentFactsFunction")
COMPLETED_PAYMENTS_PAGE = ("COMPLETED_PAYMENTS_PAGE_FUNCTION", "PaymentInternalCompletedPaymentsPageFunction")


def _found(answer: dict[str, Any]) -> dict[str, Any] | None:
    return answer if answer.get("found") is True else None


def course_facts(course_id: UUID) -> dict[str, Any] | None:
    """``{course_id, teacher_id, is_free, price ("49.99" or None), total_lessons, version, lesson_ids}`` or None."""
    return _found(invoke(COURSE_FACTS[0], {"course_id": str(course_id)}, "course"))


def course_facts_page(after: UUID | None, limit: int) -> dict[str, Any]:
    """``{"items": [course facts as course_facts answers them], "next": "<uuid>" | None}``, by course id."""
    return invoke(COURSE_FACTS_PAGE[0], {"after": str(after) if after else None, "limit": limit}, "course")


def payment_facts(payment_id: UUID) -> dict[str, Any] | None:
    """``{payment_id, student_id, course_id, status, amount}`` or None."""
    return _found(invoke(PAYMENT_FACTS[0], {"payment_id": str(payment_id)}, "payment"))


def completed_payments_page(after: UUID | None, limit: int) -> dict[str, Any]:
    """``{"items": [{payment_id, student_id, course_id, amount}], "next": "<uuid>" | None}``, by payment id."""
    return invoke(COMPLETED_PAYMENTS_PAGE[0], {"after": str(after) if after else None, "limit": limit}, "payment")


def page_handler(
    load: Callable[[UUID | None, int], list[dict[str, Any]]], id_field: str, max_limit: int
) -> Callable[[Any, LambdaContext], dict[str, Any]]:
    """The Lambda entry point of a paged export: ``{"after": "<uuid>" | null, "limit": n}``.

    Answers ``{"items": [...], "next": <id of the last item> | null}`` (null once a page comes
    back short), or ``{"error": ...}`` for a malformed request.
    """

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        request = event if isinstance(event, dict) else {}
        try:
            after = UUID(str(request["after"])) if request.get("after") else None
            limit = int(request.get("limit", max_limit))
        except (TypeError, ValueError):
            return {"error": "after must be a UUID or null, limit an integer"}
        if not 1 <= limit <= max_limit:
            return {"error": f"limit must be between 1 and {max_limit}"}
        items = load(after, limit)
        logger.info("page exported", extra={"after": str(after), "items": len(items)})
        return {"items": items, "next": items[-1][id_field] if len(items) == limit else None}

    return handler


def facts_handler(
    id_field: str, lookup: Callable[[UUID], dict[str, Any] | None]
) -> Callable[[Any, LambdaContext], dict[str, Any]]:
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


def template_properties(
    *targets: tuple[str, str],
    variables: dict[str, Any] | None = None,
    policies: list[Any] | None = None,
) -> dict[str, Any]:
    """TEMPLATE_PROPERTIES of a function that calls the given facts functions (and its other variables and policies)."""
    all_variables = {variable: {"Ref": logical_id} for variable, logical_id in targets}
    all_policies: list[Any] = [
        {"LambdaInvokePolicy": {"FunctionName": {"Ref": logical_id}}} for _, logical_id in targets
    ]
    all_variables.update(variables or {})
    all_policies.extend(policies or [])
    return {"Environment": {"Variables": all_variables}, "Policies": all_policies}
