"""Turns domain events (EventBridge -> SQS) into notifications.

Declared in infra/template/base.yaml with an SQS event source reporting batch item
failures. A record that cannot be handled (not an EventBridge event, an event from a source that does not own its type, an unknown type, a
detail missing fields, the database down) is reported as failed: SQS redelivers it and,
after the queue's maxReceiveCount, moves it to the dead-letter queue. Redelivery of an
event already handled adds nothing (notifications are unique by source event id).
"""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from eduplatform.consumers import owned_event, queue_consumer_handler
from eduplatform.observability import logger

from notification import service


def record_handler(record: SQSRecord) -> None:
    event = owned_event(record.body)
    created = service.notify_from_event(event)
    logger.info(
        "event handled" if created else "event already handled",
        extra={
            "message_id": record.message_id,
            "detail_type": event.detail_type,
            "event_id": event.detail.get("event_id"),
        },
    )


handler = queue_consumer_handler(record_handler)
