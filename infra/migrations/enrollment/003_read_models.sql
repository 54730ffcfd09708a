-- Read models of other domains' facts, fed by their events (EventBridge -> SQS -> the
-- enrollment read-model consumer), so enrolling and completing lessons ask no other domain.

-- The course domain's facts at course_facts.version (CourseCreated/Updated, LessonCreated/Deleted).
CREATE TABLE course_facts (
    course_id     uuid PRIMARY KEY,
    teacher_id    uuid NOT NULL,
    is_free       boolean NOT NULL,
    price         numeric(10, 2),
    total_lessons integer NOT NULL CHECK (total_lessons >= 0),
    version       bigint NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now()
);

-- The lessons of each course at its course_facts.version (replaced as a whole by a newer version).
CREATE TABLE course_lessons (
    lesson_id uuid PRIMARY KEY,
    course_id uuid NOT NULL REFERENCES course_facts (course_id) ON DELETE CASCADE
);

CREATE INDEX course_lessons_course_idx ON course_lessons (course_id);

-- Completed payments (PaymentCompleted); a completed payment never changes.
CREATE TABLE completed_payments (
    payment_id   uuid PRIMARY KEY,
    student_id   uuid NOT NULL,
    course_id    uuid NOT NULL,
    amount       numeric(10, 2) NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now()
);
