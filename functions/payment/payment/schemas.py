"""Request and response models of the payment API."""

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from eduplatform.types import Money, Timestamp

# A number or a string, more than zero, at most two decimal places ("49.99", 49.99).
Amount = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]


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
