"""Read models of other domains' facts, kept from their events (docs/architecture.md).

Enrollment and payment keep the course facts they need (``course_facts``, and for enrollment
the lesson ids of each course in ``course_lessons``); enrollment also keeps completed payments
(``completed_payments``). Their consumers apply the course domain's versioned events and
``PaymentCompleted`` (``eduplatform.consumers.read_model_consumer_handler``); a course event
carries the whole state of the course's facts at its version, so applying one is an upsert that
only a newer version wins (events arrive out of order or twice), and the lessons are replaced
with that version's.

A request about something the read model has not seen yet (a course created a moment ago, a
payment just made) asks the owning domain's internal facts function once (``known_course``,
``refreshed_course``, ``known_completed_payment``), stores the answer and counts it in the
metric ``ReadModelFallbacks``. ``rebuild_handler`` fills a read model from the owning
domain's paged export (``make rebuild-read-models``).
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from eduplatform import facts
from eduplatform.db import Connection, database
from eduplatform.observability import logger, metrics
from eduplatform.types import ApiModel

COURSE_FACT_COLUMNS = "course_id, teacher_id, is_free, price, total_lessons, version, title, level"
# Pages of the owning domains' exports: a course page with its lesson ids stays well under
# Lambda's 6 MB synchronous response limit (the seed's largest courses have 40 lessons).
COURSE_PAGE_SIZE = 2000
PAYMENT_PAGE_SIZE = 10000


class CourseFacts(ApiModel):
    """What other domains know of a course, as of ``version`` (the course domain's facts_version)."""

    course_id: UUID
    teacher_id: UUID
    is_free: bool
    price: Decimal | None
    total_lessons: Annotated[int, Field(ge=0)]
    version: Annotated[int, Field(ge=1)]
    lesson_ids: list[UUID] = Field(default_factory=list)
    # What a "my learning" page shows; None in events recorded before the facts carried them.
    title: str | None = None
    level: str | None = None


class CompletedPayment(ApiModel):
    payment_id: UUID
    student_id: UUID
    course_id: UUID
    amount: Decimal


class CourseFactsEvent(ApiModel):
    """The detail of CourseCreated / CourseUpdated / LessonCreated / LessonDeleted."""

    event_id: UUID
    version: Annotated[int, Field(ge=1)]
    course: CourseFacts


class PaymentCompletedEvent(ApiModel):
    event_id: UUID
    payment_id: UUID
    user_id: UUID
    course_id: UUID
    amount: Decimal


# ---- storing and reading ------------------------------------------------------------------------------


def apply_course_facts(conn: Connection, batch: list[CourseFacts], keep_lessons: bool) -> int:
    """Store each course's facts unless the read model already holds that version or a newer one.

    Returns how many courses changed. With ``keep_lessons`` the lesson ids of each changed
    course replace the ones held (the course_facts row lock orders concurrent appliers).
    """
    newest: dict[UUID, CourseFacts] = {}
    for item in batch:
        if item.course_id not in newest or newest[item.course_id].version < item.version:
            newest[item.course_id] = item
    if not newest:
        return 0
    items = list(newest.values())
    applied = conn.execute(
        f"INSERT INTO course_facts ({COURSE_FACT_COLUMNS}) "
        "SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::boolean[], %s::numeric[], %s::integer[], %s::bigint[], "
        "%s::text[], %s::text[]) "
        "ON CONFLICT (course_id) DO UPDATE SET teacher_id = EXCLUDED.teacher_id, is_free = EXCLUDED.is_free, "
        "price = EXCLUDED.price, total_lessons = EXCLUDED.total_lessons, version = EXCLUDED.version, "
        "title = EXCLUDED.title, level = EXCLUDED.level, applied_at = now() "
        # A row kept before the facts carried title and level takes them from the same version.
        "WHERE course_facts.version < EXCLUDED.version "
        "OR (course_facts.version = EXCLUDED.version AND course_facts.title IS NULL AND EXCLUDED.title IS NOT NULL) "
        "RETURNING course_id",
        (
            [i.course_id for i in items],
            [i.teacher_id for i in items],
            [i.is_free for i in items],
            [i.price for i in items],
            [i.total_lessons for i in items],
            [i.version for i in items],
            [i.title for i in items],
            [i.level for i in items],
        ),
    ).fetchall()
    changed = {row["course_id"] for row in applied}
    if keep_lessons and changed:
        conn.execute("DELETE FROM course_lessons WHERE course_id = ANY(%s)", (list(changed),))
        pairs = [
            (lesson_id, item.course_id) for item in items if item.course_id in changed for lesson_id in item.lesson_ids
        ]
        if pairs:
            conn.execute(
                "INSERT INTO course_lessons (lesson_id, course_id) SELECT * FROM unnest(%s::uuid[], %s::uuid[]) "
                "ON CONFLICT (lesson_id) DO UPDATE SET course_id = EXCLUDED.course_id",
                ([lesson_id for lesson_id, _ in pairs], [course_id for _, course_id in pairs]),
            )
    return len(changed)


def apply_completed_payments(conn: Connection, batch: list[CompletedPayment]) -> int:
    """Store completed payments (they never change again); returns how many were new."""
    if not batch:
        return 0
    return conn.execute(
        "INSERT INTO completed_payments (payment_id, student_id, course_id, amount) "
        "SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::numeric[]) ON CONFLICT (payment_id) DO NOTHING",
        (
            [p.payment_id for p in batch],
            [p.student_id for p in batch],
            [p.course_id for p in batch],
            [p.amount for p in batch],
        ),
    ).rowcount


def stored_course(course_id: UUID, lesson_id: UUID | None = None) -> tuple[CourseFacts | None, bool]:
    """The course's facts the read model holds (without its lesson ids), or None; and whether
    ``lesson_id``, when given, is one of its lessons (enrollment's read model; one statement)."""
    has_lesson = (
        (
            "EXISTS (SELECT 1 FROM course_lessons WHERE lesson_id = %(lesson_id)s "
            "AND course_lessons.course_id = course_facts.course_id)"
        )
        if lesson_id
        else "false"
    )
    rows = database().statement(
        f"SELECT {COURSE_FACT_COLUMNS}, {has_lesson} AS has_lesson FROM course_facts WHERE course_id = %(course_id)s",
        {"course_id": course_id, "lesson_id": lesson_id},
    )
    if not rows:
        return None, False
    found = rows[0].pop("has_lesson")
    return CourseFacts(**rows[0]), found


def stored_completed_payment(payment_id: UUID) -> CompletedPayment | None:
    rows = database().statement(
        "SELECT payment_id, student_id, course_id, amount FROM completed_payments WHERE payment_id = %s", (payment_id,)
    )
    return CompletedPayment(**rows[0]) if rows else None


# ---- the fallback: ask the owning domain once ---------------------------------------------------------------


def count_fallback(read_model: str, key: UUID) -> None:
    metrics.add_metric(name="ReadModelFallbacks", unit=MetricUnit.Count, value=1)
    logger.info("read model fallback: asked the owning domain", extra={"read_model": read_model, "key": str(key)})


def known_course(course_id: UUID, keep_lessons: bool) -> CourseFacts | None:
    """The course's facts from the read model; one internal call when it has not seen the course."""
    stored, _ = stored_course(course_id)
    return stored if stored is not None else refreshed_course(course_id, keep_lessons)[0]


def refreshed_course(
    course_id: UUID, keep_lessons: bool, lesson_id: UUID | None = None
) -> tuple[CourseFacts | None, bool]:
    """Ask the course domain for the course's current facts and store them: what is now held
    (as ``stored_course`` answers)."""
    count_fallback("course_facts", course_id)
    answer = facts.course_facts(course_id)
    if answer is None:
        return None, False
    with database().transaction() as conn:
        apply_course_facts(conn, [CourseFacts.model_validate(answer)], keep_lessons)
    return stored_course(course_id, lesson_id)


def known_completed_payment(payment_id: UUID) -> CompletedPayment | None:
    """The completed payment from the read model; one internal call when it has not seen it.

    None when the payment does not exist or is not completed.
    """
    stored = stored_completed_payment(payment_id)
    if stored is not None:
        return stored
    count_fallback("completed_payments", payment_id)
    answer = facts.payment_facts(payment_id)
    if answer is None or answer.get("status") != "completed":
        return None
    payment = CompletedPayment.model_validate(answer)
    with database().transaction() as conn:
        apply_completed_payments(conn, [payment])
    return payment


# ---- the consumers (SQS, fed by the bus) -----------------------------------------------------------------------

Applier = Callable[[Connection, dict[str, Any]], int]


def course_facts_applier(keep_lessons: bool) -> Applier:
    def apply(conn: Connection, detail: dict[str, Any]) -> int:
        event = CourseFactsEvent.model_validate(detail)
        return apply_course_facts(conn, [event.course.model_copy(update={"version": event.version})], keep_lessons)

    return apply


def completed_payment_applier(conn: Connection, detail: dict[str, Any]) -> int:
    event = PaymentCompletedEvent.model_validate(detail)
    return apply_completed_payments(
        conn,
        [
            CompletedPayment(
                payment_id=event.payment_id,
                student_id=event.user_id,
                course_id=event.course_id,
                amount=event.amount,
            )
        ],
    )


# ---- rebuilding from the owning domain's export -----------------------------------------------------------------


def rebuild_handler(
    keep_lessons: bool, with_payments: bool
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point that fills a read model from the owning domain, one page per call.

    Event ``{"model": "courses" | "payments", "after": "<uuid>" | null}``; answer
    ``{"model", "received", "applied", "next"}`` where ``next`` (null at the end) is the
    ``after`` of the following call. Newer versions held already are kept.
    """
    models = ("courses", "payments") if with_payments else ("courses",)

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        model = event.get("model") if isinstance(event, dict) else None
        if model not in models:
            return {"error": f"model must be one of {', '.join(models)}"}
        try:
            after = UUID(str(event["after"])) if event.get("after") else None
        except ValueError:
            return {"error": "after must be a UUID or null"}
        page = (
            facts.course_facts_page(after, COURSE_PAGE_SIZE)
            if model == "courses"
            else facts.completed_payments_page(after, PAYMENT_PAGE_SIZE)
        )
        if "error" in page:
            raise RuntimeError(f"the owning domain refused the page request: {page['error']}")
        if model == "courses":
            batch = [CourseFacts.model_validate(item) for item in page["items"]]
            with database().transaction() as conn:
                applied = apply_course_facts(conn, batch, keep_lessons)
        else:
            payments = [CompletedPayment.model_validate(item) for item in page["items"]]
            with database().transaction() as conn:
                applied = apply_completed_payments(conn, payments)
        result = {"model": model, "received": len(page["items"]), "applied": applied, "next": page.get("next")}
        logger.info("read model page rebuilt", extra=result)
        return result

    return handler
