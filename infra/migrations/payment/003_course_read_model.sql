-- Read model of the course domain's facts a payment needs (is_free, price), fed by its
-- versioned events (EventBridge -> SQS -> the payment read-model consumer).
CREATE TABLE course_facts (
    course_id     uuid PRIMARY KEY,
    teacher_id    uuid NOT NULL,
    is_free       boolean NOT NULL,
    price         numeric(10, 2),
    total_lessons integer NOT NULL CHECK (total_lessons >= 0),
    version       bigint NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now()
);
