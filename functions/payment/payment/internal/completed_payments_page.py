"""Completed payments, a page at a time in payment id order (rebuilding enrollment's read model).

Invoked with the Lambda API (no HTTP route). Event ``{"after": "<uuid>" | null, "limit": n}``;
answer ``{"items": [{"payment_id", "student_id", "course_id", "amount"}], "next": "<uuid>" | null}``.
"""

from eduplatform.facts import page_handler
from eduplatform.read_models import PAYMENT_PAGE_SIZE

from payment import service

handler = page_handler(service.completed_payments_page, "payment_id", PAYMENT_PAGE_SIZE)
