"""Fills payment's course read model from the course domain's export, one page per call.

Run by `make rebuild-read-models`. Event ``{"model": "courses",
"after": "<uuid>" | null}``; answer ``{"model", "received", "applied", "next"}``.
"""

from eduplatform.facts import COURSE_FACTS_PAGE, template_properties
from eduplatform.read_models import rebuild_handler

TEMPLATE_PROPERTIES = {**template_properties(COURSE_FACTS_PAGE), "Timeout": 60}

handler = rebuild_handler(keep_lessons=False, with_payments=False)
