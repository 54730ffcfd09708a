"""Request and response models of the payment API."""

from typing import Literal
from uuid import UUID

from eduplatform.types import ApiModel, Money, MoneyAmount, Timestamp

Amount = MoneyAmount


class PaymentRequest(ApiModel):
    course_id: UUID
    amount: Amount


class PaymentOut(ApiModel):
    id: UUID
    student_id: UUID
    course_id: UUID
    amount: Money
    status: Literal["pending", "completed", "failed", "refunded"]
    created_at: Timestamp
