"""The entry points of consumers of bus events, which EventBridge reaches through an SQS queue each.

``owned_event`` reads an SQS record's EventBridge event and refuses one whose source does not own
its type (``eduplatform.events.EVENT_OWNERS``); ``queue_consumer_handler`` runs a record handler
over a batch with Powertools' batch processor, reporting the records it could not handle as batch
item failures; ``read_model_consumer_handler`` is that entry point for a read model kept from
other domains' events (``eduplatform.read_models``).

Only consumers import this module: the API functions record events (``eduplatform.events``)
without Powertools' batch processor and parser models.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.db import database
from eduplatform.deferred import run_deferred
from eduplatform.events import EVENT_OWNERS
from eduplatform.observability import logger
from eduplatform.read_models import Applier

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


class EventEnvelope(EventBridgeModel):
    """An EventBridge event as a rule delivers it to SQS.

    Only detail-type and detail are used; ``account`` is optional because some emulators
    (moto) leave it out. ``detail`` is the JSON object every event of this platform carries
    (Powertools' model also admits a model class or instance there, which JSON never is).
    """

    account: str | None = None  # type: ignore[assignment]  # optional here, unlike in Powertools' model
    detail: dict[str, Any]


class ForeignEvent(ValueError):
    """An event whose source does not own its type: forged, or routed by a wrong rule."""


def owned_event(body: str) -> EventEnvelope:
    """The event an SQS record carries, once its source is known to own its type.

    Raises pydantic.ValidationError for a body that is not an event and ForeignEvent for an event
    of a type nobody here emits or from a source that does not own the type.
    """
    event = EventEnvelope.model_validate_json(body)
    owner = EVENT_OWNERS.get(event.detail_type)
    if owner is None:
        raise ForeignEvent(f"no domain of this platform emits {event.detail_type!r} events")
    if event.source != owner:
        raise ForeignEvent(f"{event.detail_type} events come from {owner}, not from {event.source!r}")
    return event


def queue_consumer_handler(
    record_handler: Callable[[SQSRecord], None],
) -> Callable[[dict[str, Any], LambdaContext], "PartialItemFailureResponse"]:
    """The Lambda entry point of a consumer of bus events delivered through an SQS queue.

    ``record_handler`` takes one record and raises when it cannot be handled; that record is
    logged ("event not applied", with its message id, the error and its receive count) and
    reported as a batch item failure, so SQS redelivers it and, after the queue's
    maxReceiveCount, moves it to the dead-letter queue. A batch whose every record failed is
    reported the same way rather than by raising: the outcome for SQS is the same, and the
    invocation still logs and returns normally.
    """
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def handle_logged(record: SQSRecord) -> None:
        try:
            record_handler(record)
        except Exception as exc:
            logger.warning(
                "event not applied",
                extra={
                    "message_id": record.message_id,
                    "error": str(exc)[:2000],
                    "receive_count": record.attributes.approximate_receive_count,
                },
            )
            raise

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
        if not event.get("Records"):  # nothing to do (`make up` warms consumers this way)
            logger.info("empty batch")
            return {"batchItemFailures": []}
        try:
            response = process_partial_response(
                event=event, record_handler=handle_logged, processor=processor, context=context
            )
        finally:
            run_deferred()
        logger.info(
            "batch processed",
            extra={"records": len(event.get("Records", [])), "failed": len(response.get("batchItemFailures", []))},
        )
        return response

    return handler


def read_model_consumer_handler(
    appliers: dict[str, Applier],
) -> Callable[[dict[str, Any], LambdaContext], "PartialItemFailureResponse"]:
    """The Lambda entry point of a read-model consumer: each SQS record is one event of the bus.

    A record that cannot be applied (not an event, an event from a source that does not own its type, a type this consumer does not keep, a detail
    missing fields, the database down) is reported as a batch item failure: SQS redelivers it,
    then moves it to the dead-letter queue.
    """

    def record_handler(record: SQSRecord) -> None:
        event = owned_event(record.body)
        apply = appliers.get(event.detail_type)
        if apply is None:
            raise ValueError(f"no read model here is kept from {event.detail_type} events")
        with database().transaction() as conn:
            changed = apply(conn, event.detail)
        logger.info(
            "event applied" if changed else "event already reflected (duplicate or older version)",
            extra={
                "message_id": record.message_id,
                "detail_type": event.detail_type,
                "event_id": event.detail.get("event_id"),
            },
        )

    return queue_consumer_handler(record_handler)
