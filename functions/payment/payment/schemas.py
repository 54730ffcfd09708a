"""Request and response models of the payment API."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from eduplatform.types import Money, MoneyAmount, Timestamp

Amount = MoneyAmount


class PaymentRequest(BaseModel):
    course_id: UUID
    amount: Amount


class PaymentOut(BaseModel):
    id: UUID
    student_id: UUID
    course_id: UUID
    amount: Money
    status: Literal["pending", "completed", "failed", "refunded"]
    created_at: Timestamp
