CREATE TYPE notification_type AS ENUM ('registration', 'enrollment', 'payment');

CREATE TABLE notifications (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL,
    type            notification_type NOT NULL,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    body            text,
    is_read         boolean NOT NULL DEFAULT false,
    -- The domain event a notification was made from (null when a client created it):
    -- a redelivered event finds its notification already there and adds nothing.
    source_event_id uuid UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A user's notifications, newest first.
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id);
