"""Applies EnrollmentCreated events: enrollments per course (GET /courses?sort=popular) and who
is enrolled in which course (course_enrollments, what opens a paid course's lessons).

Declared in infra/template/base.yaml on the course enrollment queue (EventBridge rule -> SQS,
with a dead-letter queue), reporting batch item failures. The course domain never asks
enrollment: each event adds one to its course's enrollment_count and records its student's
enrollment, once per event_id (a redelivered event changes nothing), and the popular-sorted
catalogue pages are invalidated.
"""

from uuid import UUID

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from eduplatform import events
from eduplatform.consumers import owned_event, queue_consumer_handler
from eduplatform.observability import logger
from eduplatform.types import ApiModel

from course import service


class EnrollmentCreated(ApiModel):
    event_id: UUID
    course_id: UUID
    user_id: UUID  # the student


def record_handler(record: SQSRecord) -> None:
    event = owned_event(record.body)
    if event.detail_type != events.ENROLLMENT_CREATED:
        raise ValueError(f"the course domain counts EnrollmentCreated events only, not {event.detail_type}")
    detail = EnrollmentCreated.model_validate(event.detail)
    counted = service.count_enrollment(detail.event_id, detail.course_id, detail.user_id)
    logger.info(
        "enrollment counted" if counted else "enrollment already counted (duplicate event)",
        extra={"message_id": record.message_id, "event_id": str(detail.event_id), "course_id": str(detail.course_id)},
    )


handler = queue_consumer_handler(record_handler)
