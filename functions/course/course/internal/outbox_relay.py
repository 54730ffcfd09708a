"""Publishes this domain's outbox events to the bus (eduplatform/relay.py).

Started by a request whose commit recorded events when no run listens (``{"listen": true}``: it
publishes, then listens for commits until idle); once a minute by its schedule, and by anything
else, it publishes what is pending once. Answer ``{"published", "failed"}`` (with ``"wakeups"``
and ``"listened"`` when it listened).
"""

from eduplatform.relay import relay_handler, relay_template_properties

TEMPLATE_PROPERTIES = relay_template_properties("course")

handler = relay_handler()
