"""Course facts of every course, a page at a time in course id order (rebuilding read models).

Invoked with the Lambda API (no HTTP route). Event ``{"after": "<uuid>" | null, "limit": n}``;
answer ``{"items": [course facts, as course_facts answers them], "next": "<uuid>" | null}``.
"""

from eduplatform.facts import page_handler
from eduplatform.read_models import COURSE_PAGE_SIZE

from course import service

handler = page_handler(service.course_facts_page, "course_id", COURSE_PAGE_SIZE)
