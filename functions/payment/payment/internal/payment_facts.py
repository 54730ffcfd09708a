"""Payment facts for other domains: does a payment exist, whose is it, for which course, its status.

Invoked with the Lambda API (not routed through API Gateway):
``{"payment_id": "<uuid>"}`` -> ``{"found": true, "payment_id", "student_id", "course_id",
"status", "amount"}`` or ``{"found": false}``.
"""

from eduplatform.facts import facts_handler

from payment import service

handler = facts_handler("payment_id", service.payment_facts)
