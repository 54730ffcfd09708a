"""Keeps enrollment's read models from other domains' events: course facts with their lesson
ids (CourseCreated/Updated, LessonCreated/Deleted) and completed payments (PaymentCompleted).

Declared in infra/template/base.yaml on the enrollment read-model queue (EventBridge rule ->
SQS, with a dead-letter queue), reporting batch item failures; see eduplatform.read_models.
"""

from eduplatform import events, read_models
from eduplatform.consumers import read_model_consumer_handler

handler = read_model_consumer_handler(
    {
        **{
            detail_type: read_models.course_facts_applier(keep_lessons=True)
            for detail_type in events.COURSE_FACT_EVENTS
        },
        events.PAYMENT_COMPLETED: read_models.completed_payment_applier,
    }
)
