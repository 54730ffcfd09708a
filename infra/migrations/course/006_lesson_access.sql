-- What paying buys: a paid course's lessons open to its enrolled students, its teacher and
-- admins; a lesson its teacher marks is_preview opens to everyone.
ALTER TABLE lessons ADD COLUMN is_preview boolean NOT NULL DEFAULT false;

-- Who is enrolled in which course, as the course domain learns it from EnrollmentCreated events
-- (the same consumer that counts enrollment_count, idempotent by applied_enrollment_events):
-- a lesson's access is decided from this table, with no call to the enrollment domain.
CREATE TABLE course_enrollments (
    student_id uuid NOT NULL,
    course_id  uuid NOT NULL,
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (student_id, course_id)
);

-- Enrollments recorded before this table existed: each applied event only kept its course, so
-- they cannot be recovered here; the seed fills the table together with enrollment_count.
