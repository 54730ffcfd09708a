-- Accounts locked by failed logins. The failures are counted in the limit store (Redis); when
-- they reach the maximum the lock is also written here, and every login reads it with the account,
-- so a locked account stays locked while the limit store is down. account_key is the SHA-256
-- prefix of the lower-cased email the limit store uses (never the address itself).
CREATE TABLE account_locks (
    account_key  text PRIMARY KEY,
    locked_until timestamptz NOT NULL
);
CREATE INDEX account_locks_until_idx ON account_locks (locked_until);
