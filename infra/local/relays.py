"""The outbox relays' listeners, started right after a deploy or `make sync` instead of at their next schedule."""

from infra.local.aws import aws_client, function_name
from infra.template.generate import read_template, serverless_functions

OUTBOX_RELAY_SUFFIX = "InternalOutboxRelayFunction"


def start_outbox_listeners(stack: str, logical_ids: set[str] | None = None) -> list[str]:
    """Start each outbox relay (or those among ``logical_ids``) listening now: an asynchronous invoke
    with its schedule's input.

    Their schedule starts them too, but only a minute after a deploy or `make sync`; until then
    events would wait in the outboxes. A run already listening hands over to the new one.
    """
    started = []
    for logical_id, properties in serverless_functions(read_template()).items():
        if not logical_id.endswith(OUTBOX_RELAY_SUFFIX) or (logical_ids is not None and logical_id not in logical_ids):
            continue
        schedule = properties["Events"]["Schedule"]["Properties"]
        aws_client("lambda").invoke(
            FunctionName=function_name(stack, logical_id), InvocationType="Event", Payload=schedule["Input"].encode()
        )
        started.append(logical_id)
    return started
