"""Publishes this domain's pending outbox events to the bus (every minute, or when invoked).

An event normally leaves the outbox right after the request that recorded it commits;
this relay retries the ones the bus did not take then. Answer ``{"published", "failed"}``.
"""

from eduplatform.events import relay_handler, relay_template_properties

TEMPLATE_PROPERTIES = relay_template_properties()

handler = relay_handler()
