CREATE TYPE user_role AS ENUM ('student', 'teacher', 'admin');

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    role          user_role NOT NULL,
    is_verified   boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Emails are unique whatever their case; lookups go through lower(email).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- The admin's queue of teachers awaiting verification, oldest first.
CREATE INDEX users_pending_teachers_idx ON users (created_at, id) WHERE role = 'teacher' AND NOT is_verified;
