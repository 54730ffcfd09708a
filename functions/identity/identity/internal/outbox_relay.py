"""Publishes this domain's outbox events to the bus: as they are committed, or pending ones when invoked.

Scheduled every minute with ``{"listen": true}``, a run listens for the notifications
of the commits that record events until its timeout and publishes each commit's events at once; invoked with
anything else, it publishes what is pending once. Answer ``{"published", "failed"}`` (and
``"wakeups"`` when it listened).
"""

from eduplatform.events import relay_handler, relay_template_properties

TEMPLATE_PROPERTIES = relay_template_properties("identity")

handler = relay_handler()
