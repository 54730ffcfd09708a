"""Payment rules: a mock processor that completes every payment of the right amount.

A second completed payment of a student for the same course is refused (409), by the database's
unique index on completed payments. Creating a payment with an ``Idempotency-Key`` goes through
``payment.charges``.
"""

import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError

from eduplatform import events, read_models
from eduplatform.db import database
from eduplatform.http import Conflict, CursorPage, keyset_list
from eduplatform.principal import Principal, Role

from payment import repository
from payment.schemas import PaymentOut

EVENT_SOURCE = events.domain_source("payment")
ALREADY_PAID = "Already paid for this course"
# The mock processor: every payment it is given succeeds at once.
PROCESSOR_STATUS = "completed"


class Unprocessable(ServiceError):
    def __init__(self, msg: str) -> None:
        super().__init__(422, msg)


def charge(student_id: UUID, course_id: UUID, amount: Decimal) -> PaymentOut:
    """A completed payment of ``amount`` (the course's current price) for the course, with its event."""
    # The price is the one the course read model holds: the course domain's latest event, or
    # its answer when the read model has not seen the course yet.
    course = read_models.known_course(course_id, keep_lessons=False)
    if course is None:
        raise NotFoundError("Course not found")
    if course.is_free:
        raise Conflict("Course is free, no payment is needed")
    price = course.price
    if price is None or amount != price:
        raise Unprocessable(
            f"Amount must equal the course price ({price:.2f})" if price is not None else "Course has no price"
        )
    payment_id = uuid.uuid4()
    row = events.write_recording(
        database(),
        repository.INSERT_PAYMENT,
        {
            "id": payment_id,
            "student_id": student_id,
            "course_id": course_id,
            "amount": amount,
            "status": PROCESSOR_STATUS,
        },
        EVENT_SOURCE,
        events.PAYMENT_COMPLETED,
        {
            "user_id": str(student_id),
            "payment_id": str(payment_id),
            "course_id": str(course_id),
            "amount": f"{amount:.2f}",
        },
    )
    if row is None:  # nothing written, no event recorded
        raise Conflict(ALREADY_PAID)
    return PaymentOut(**row)


def my_payments(
    student_id: UUID,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    with_total: bool = False,
    course_id: UUID | None = None,
) -> CursorPage[PaymentOut]:
    """The caller's payments (only those for ``course_id`` when given), newest first, by offset or
    cursor (bound to the caller's list and its filter)."""
    listing, params = repository.STUDENT_PAYMENTS, {"student_id": student_id}
    if course_id is not None:
        listing, params = repository.STUDENT_PAYMENTS_FOR_COURSE, {**params, "course_id": course_id}
    return keyset_list(PaymentOut, "GET /payments/me", listing, params, limit, offset, cursor, with_total)


def get_payment(caller: Principal, payment_id: UUID) -> PaymentOut:
    with database().transaction() as conn:
        row = repository.payment_by_id(conn, payment_id)
    # Someone else's payment answers like a missing one: its existence is not the caller's business.
    if row is None or (caller.role is not Role.ADMIN and row["student_id"] != caller.user_id):
        raise NotFoundError("Payment not found")
    return PaymentOut(**row)


def completed_payments_page(after: UUID | None, limit: int) -> list[dict[str, Any]]:
    """Completed payments in payment id order after ``after`` (rebuilding enrollment's read model)."""
    with database().transaction() as conn:
        rows = repository.completed_payments_page(conn, after, limit)
    return [
        {
            "payment_id": str(row["id"]),
            "student_id": str(row["student_id"]),
            "course_id": str(row["course_id"]),
            "amount": f"{row['amount']:.2f}",
        }
        for row in rows
    ]


def payment_facts(payment_id: UUID) -> dict[str, Any] | None:
    """The internal answer other domains get: whose, for what, in which state; None when unknown."""
    with database().transaction() as conn:
        row = repository.payment_by_id(conn, payment_id)
    if row is None:
        return None
    return {
        "payment_id": str(row["id"]),
        "student_id": str(row["student_id"]),
        "course_id": str(row["course_id"]),
        "status": row["status"],
        "amount": f"{row['amount']:.2f}",
    }
