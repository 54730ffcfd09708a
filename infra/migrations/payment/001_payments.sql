CREATE TYPE payment_status AS ENUM ('pending', 'completed', 'failed', 'refunded');

CREATE TABLE payments (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id uuid NOT NULL,
    course_id  uuid NOT NULL,
    amount     numeric(10, 2) NOT NULL CHECK (amount > 0),
    status     payment_status NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A student's payments, newest first.
CREATE INDEX payments_student_idx ON payments (student_id, created_at DESC, id);
