"""Facts about one course for other domains: owner, price, lessons (the read models' fallback).

Invoked with the Lambda API (no HTTP route). Event ``{"course_id": "<uuid>"}``; answer
``{"found": true, "course_id", "teacher_id", "is_free", "price": "49.99" | null, "total_lessons",
"version", "lesson_ids"}`` (the course events' shape) or ``{"found": false}`` (also for a
missing or malformed id).
"""

from eduplatform.facts import facts_handler

from course import service

handler = facts_handler("course_id", service.course_facts)
