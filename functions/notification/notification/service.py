"""Notification rules: notifications users create for themselves, and those made from domain events."""

from typing import TYPE_CHECKING
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from eduplatform import events
from eduplatform.db import database
from eduplatform.http import keyset_list

from notification import repository
from notification.schemas import (
    EnrollmentCreated,
    NotificationOut,
    NotificationPage,
    NotificationRequest,
    PaymentCompleted,
    UserRegistered,
)

if TYPE_CHECKING:
    from eduplatform.consumers import EventEnvelope


class UnknownEvent(ValueError):
    pass


def create(user_id: UUID, request: NotificationRequest) -> NotificationOut:
    with database().transaction() as conn:
        row = repository.insert_notification(conn, user_id, request.type, request.title, request.body)
    if row is None:  # only a notification made from an event (source_event_id) can already exist
        raise RuntimeError("the notification was not inserted")
    return NotificationOut(**row)


def my_notifications(
    user_id: UUID, limit: int, offset: int = 0, cursor: str | None = None, with_total: bool = False
) -> NotificationPage:
    """The caller's notifications, newest first, by offset or cursor (bound to the caller's list),
    and the caller's unread count (one aggregate, whatever the page)."""
    page = keyset_list(
        NotificationOut,
        "GET /notifications/me",
        repository.USER_NOTIFICATIONS,
        {"user_id": user_id},
        limit,
        offset,
        cursor,
        with_total,
    )
    return NotificationPage(**dict(page), unread=repository.unread_count(database(), user_id))


def mark_read(user_id: UUID, notification_id: UUID) -> NotificationOut:
    with database().transaction() as conn:
        row = repository.mark_read(conn, notification_id, user_id)
    # Another user's notification answers like a missing one.
    if row is None:
        raise NotFoundError("Notification not found")
    return NotificationOut(**row)


def notify_from_event(event: "EventEnvelope") -> bool:
    """Make the notification an event calls for; False when this event was already handled.

    Raises (pydantic.ValidationError, UnknownEvent) for an event it cannot understand.
    """
    detail_type = event.detail_type
    detail: UserRegistered | PaymentCompleted | EnrollmentCreated
    if detail_type == events.USER_REGISTERED:
        registered = UserRegistered.model_validate(event.detail)
        detail, type_, title = registered, "registration", "Welcome to EduPlatform"
        body = f"Hello {registered.name}, your {registered.role} account is ready."
    elif detail_type == events.PAYMENT_COMPLETED:
        paid = PaymentCompleted.model_validate(event.detail)
        detail, type_, title = paid, "payment", "Payment received"
        body = f"Your payment of {paid.amount:.2f} for course {paid.course_id} is complete."
    elif detail_type == events.ENROLLMENT_CREATED:
        enrolled = EnrollmentCreated.model_validate(event.detail)
        detail, type_, title = enrolled, "enrollment", "Enrollment confirmed"
        body = f"You are enrolled in course {enrolled.course_id}. Enjoy learning!"
    else:
        raise UnknownEvent(f"No notification for events of type {detail_type!r} from {event.source!r}")
    with database().transaction() as conn:
        row = repository.insert_notification(conn, detail.user_id, type_, title, body, source_event_id=detail.event_id)
    return row is not None
