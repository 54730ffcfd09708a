"""The outbox relays' one pass, run right after a deploy or `make sync` instead of at their next schedule."""

from infra.local.aws import aws_client, function_name
from infra.template.generate import read_template, serverless_functions

OUTBOX_RELAY_SUFFIX = "InternalOutboxRelayFunction"


def publish_pending_events(stack: str, logical_ids: set[str] | None = None) -> list[str]:
    """Invoke each outbox relay (or those among ``logical_ids``) asynchronously for one pass.

    A commit starts its domain's relay, but a commit made while the deploy replaced the relay may
    not have; its schedule would publish those events only within the minute.
    """
    started = []
    for logical_id in serverless_functions(read_template()):
        if not logical_id.endswith(OUTBOX_RELAY_SUFFIX) or (logical_ids is not None and logical_id not in logical_ids):
            continue
        aws_client("lambda").invoke(
            FunctionName=function_name(stack, logical_id), InvocationType="Event", Payload=b"{}"
        )
        started.append(logical_id)
    return started
