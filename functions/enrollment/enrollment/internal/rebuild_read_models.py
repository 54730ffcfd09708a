"""Fills enrollment's read models (courses with their lessons, completed payments) from the
owning domains' exports, one page per call.

Run by `make rebuild-read-models`. Event ``{"model": "courses" |
"payments", "after": "<uuid>" | null}``; answer ``{"model", "received", "applied", "next"}``.
"""

from eduplatform.facts import COMPLETED_PAYMENTS_PAGE, COURSE_FACTS_PAGE, template_properties
from eduplatform.read_models import rebuild_handler

TEMPLATE_PROPERTIES = {**template_properties(COURSE_FACTS_PAGE, COMPLETED_PAYMENTS_PAGE), "Timeout": 60}

handler = rebuild_handler(keep_lessons=True, with_payments=True)
