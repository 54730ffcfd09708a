"""Request and response models of the notification API, and the domain events it consumes."""

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from eduplatform.http import CursorPage
from eduplatform.types import ApiModel, Timestamp, multi_line_text, plain_text

NotificationType = Literal["registration", "enrollment", "payment"]
Title = Annotated[str, *plain_text(max_length=500, min_length=1)]  # titles are plain text (markup refused)
Body = Annotated[str, *multi_line_text(max_length=5000)]


class NotificationRequest(ApiModel):
    type: NotificationType
    title: Title
    body: Body | None = None


class NotificationOut(ApiModel):
    id: UUID
    user_id: UUID
    type: NotificationType
    title: str
    body: str | None
    is_read: bool
    created_at: Timestamp


# ---- the domain events that become notifications -------------------------------------------------


class EventDetail(ApiModel):
    event_id: UUID
    user_id: UUID


class UserRegistered(EventDetail):
    name: str
    role: str


class PaymentCompleted(EventDetail):
    payment_id: UUID
    course_id: UUID
    amount: Decimal


class EnrollmentCreated(EventDetail):
    enrollment_id: UUID
    course_id: UUID


class NotificationPage(CursorPage[NotificationOut]):
    """A page of the caller's notifications, with how many of all of them are unread."""

    unread: int
