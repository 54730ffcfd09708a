"""Where one lesson belongs, for other domains: its module and course.

Invoked with the Lambda API (no HTTP route). Event ``{"lesson_id": "<uuid>"}``; answer
``{"found": true, "lesson_id", "module_id", "course_id"}`` or ``{"found": false}``
(also for a missing or malformed id).
"""

from eduplatform.facts import facts_handler

from course import service

handler = facts_handler("lesson_id", service.lesson_facts)
