"""Keeps payment's course read model (is_free, price) from the course domain's events.

Declared in infra/template/base.yaml on the payment read-model queue (EventBridge rule ->
SQS, with a dead-letter queue), reporting batch item failures; see eduplatform.read_models.
"""

from eduplatform import events, read_models
from eduplatform.consumers import read_model_consumer_handler

handler = read_model_consumer_handler(
    {detail_type: read_models.course_facts_applier(keep_lessons=False) for detail_type in events.COURSE_FACT_EVENTS}
)
