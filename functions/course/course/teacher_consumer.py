"""Applies identity's UserRegistered events of teachers: the teachers table, from which every
course answer names its teacher (teacher_name).

Declared in infra/template/base.yaml on the course teachers queue (EventBridge rule -> SQS, with
a dead-letter queue), reporting batch item failures. The course domain never asks identity: a
teacher's event records the name once (a redelivered event changes nothing); a student's or an
admin's is skipped. The rule routes every UserRegistered event: a pattern pairs a source with
its types only (eduplatform.events.EVENT_OWNERS).
"""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import Field

from eduplatform import events
from eduplatform.consumers import owned_event, queue_consumer_handler
from eduplatform.observability import logger
from eduplatform.principal import Role
from eduplatform.types import ApiModel

from course import service


class UserRegistered(ApiModel):
    event_id: UUID
    user_id: UUID
    name: Annotated[str, Field(min_length=1, max_length=255)]
    role: str


def record_handler(record: SQSRecord) -> None:
    event = owned_event(record.body)
    if event.detail_type != events.USER_REGISTERED:
        raise ValueError(f"the course domain learns teachers from UserRegistered events only, not {event.detail_type}")
    detail = UserRegistered.model_validate(event.detail)
    if detail.role != Role.TEACHER:
        logger.info("not a teacher: skipped", extra={"message_id": record.message_id, "event_id": str(detail.event_id)})
        return
    recorded = service.record_teacher(detail.user_id, detail.name)
    logger.info(
        "teacher recorded" if recorded else "teacher already recorded (duplicate event)",
        extra={"message_id": record.message_id, "event_id": str(detail.event_id), "teacher_id": str(detail.user_id)},
    )


handler = queue_consumer_handler(record_handler)
