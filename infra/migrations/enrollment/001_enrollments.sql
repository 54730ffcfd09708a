CREATE TYPE enrollment_status AS ENUM ('enrolled', 'in_progress', 'completed');

CREATE TABLE enrollments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id  uuid NOT NULL,
    course_id   uuid NOT NULL,
    payment_id  uuid,
    status      enrollment_status NOT NULL DEFAULT 'enrolled',
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT enrollments_student_course_key UNIQUE (student_id, course_id)
);

-- A student's enrollments, newest first; the unique key above serves per-student lookups by course.
CREATE INDEX enrollments_student_idx ON enrollments (student_id, enrolled_at DESC, id);
-- Counting a course's enrollments.
CREATE INDEX enrollments_course_idx ON enrollments (course_id);

CREATE TABLE lesson_progress (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id uuid NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
    student_id    uuid NOT NULL,
    course_id     uuid NOT NULL,
    lesson_id     uuid NOT NULL,
    completed_at  timestamptz NOT NULL DEFAULT now(),
    -- A lesson is completed once.
    CONSTRAINT lesson_progress_enrollment_lesson_key UNIQUE (enrollment_id, lesson_id)
);

CREATE INDEX lesson_progress_student_course_idx ON lesson_progress (student_id, course_id);
