"""What the warm-up starts for the template's scheduled functions (infra/local/warmup.py)."""

import pytest

from infra.local.relays import OUTBOX_RELAY_SUFFIX
from infra.local.warmup import scheduled_instances, template_functions
from infra.template.generate import read_template, serverless_functions


def listening_functions() -> set[str]:
    """The functions whose runs listen for commits (started by them, besides their schedule): the outbox relays."""
    return {
        logical_id for logical_id in serverless_functions(read_template()) if logical_id.endswith(OUTBOX_RELAY_SUFFIX)
    }


def test_every_scheduled_function_is_warmed():
    _routes, internal, consumers, scheduled = template_functions()
    assert listening_functions() <= set(scheduled)
    assert {"IdentityInternalMailRelayFunction", "IdentityInternalPurgeSessionsFunction"} <= set(scheduled)
    assert not set(scheduled) & (set(internal) | set(consumers))


@pytest.mark.parametrize("width", [1, 3])
def test_a_listening_relay_gets_its_width_besides_the_listeners_instance(width):
    listening = listening_functions()
    assert len(listening) == 4, listening  # one outbox relay per domain that publishes events
    for logical_id in listening:
        assert scheduled_instances(logical_id, width) == (width + 1, width)


def test_other_scheduled_functions_get_their_width():
    _routes, _internal, _consumers, scheduled = template_functions()
    for logical_id in set(scheduled) - listening_functions():
        assert scheduled_instances(logical_id, 1) == (1, 1)


def test_width_zero_starts_nothing():
    for logical_id in template_functions()[3]:
        assert scheduled_instances(logical_id, 0) == (0, 0)
