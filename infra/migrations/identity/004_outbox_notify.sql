-- The outbox relay listens on channel "outbox" and publishes pending events when notified
-- (eduplatform.events.listen). One notification per transaction that wrote events, sent by
-- PostgreSQL at commit, so the request path makes no extra round trip for it.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
