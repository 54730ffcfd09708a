-- GET /notifications/me answers the caller's unread count: counted off this index of the unread
-- notifications alone (a read notification leaves it).
CREATE INDEX notifications_user_unread_idx ON notifications (user_id) WHERE NOT is_read;
