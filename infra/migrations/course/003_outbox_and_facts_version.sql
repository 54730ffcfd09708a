-- Course facts other domains keep in read models (price, is_free, lesson ids and count) are
-- announced by versioned events; facts_version grows by one with every change to them, under
-- the course row's lock, so consumers can apply the events in version order.
ALTER TABLE courses ADD COLUMN facts_version bigint NOT NULL DEFAULT 1;

-- Transactional outbox: a domain event is written here in the same transaction as the
-- change it announces, then published to EventBridge (right after commit, and by the
-- outbox relay until the bus accepts it), so a bus outage delays events but loses none.
CREATE TABLE outbox (
    event_id     uuid PRIMARY KEY,
    source       text NOT NULL,
    detail_type  text NOT NULL,
    detail       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);

-- What the relay reads: pending events, oldest first.
CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE published_at IS NULL;
