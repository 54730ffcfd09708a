"""Turns domain events (EventBridge -> SQS) into notifications.

Declared in infra/template/base.yaml with an SQS event source reporting batch item
failures. A record that cannot be handled (not an EventBridge event, an unknown type, a
detail missing fields, the database down) is reported as failed: SQS redelivers it and,
after the queue's maxReceiveCount, moves it to the dead-letter queue. Redelivery of an
event already handled adds nothing (notifications are unique by source event id).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger

from notification import service
from notification.schemas import EventEnvelope

# A batch whose every record failed is reported like any partial failure (every id listed)
# rather than by raising: the outcome for SQS is the same, and the invocation still logs
# and returns normally.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    try:
        event = EventEnvelope.model_validate_json(record.body)
        created = service.notify_from_event(event)
    except Exception as exc:
        # The batch processor only reports the id; say why, so a message in the DLQ can be understood.
        logger.warning("message not handled", extra={"message_id": record.message_id, "error": str(exc)[:2000],
                                                      "receive_count": record.attributes.approximate_receive_count})
        raise
    logger.info(
        "event handled" if created else "event already handled",
        extra={"message_id": record.message_id, "detail_type": event.detail_type, "event_id": event.detail.get("event_id")},
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    logger.info("batch processed", extra={"records": len(event.get("Records", [])),
                                          "failed": len(response.get("batchItemFailures", []))})
    return response
