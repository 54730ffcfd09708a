-- Sessions, account recovery and abuse limits (docs/api.md).

-- Whether the user proved they read the address (POST /verify-email). Accounts created before
-- email verification existed are taken as verified: they were never sent a link to follow.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
UPDATE users SET email_verified = true;

-- A family is the chain of refresh tokens one login (or registration) started; reuse of a spent
-- token, a logout or a password reset revokes the whole family.
CREATE TABLE refresh_families (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id) WHERE revoked_at IS NULL;

-- Only the SHA-256 of a refresh token is stored; a token is spent by the refresh that uses it.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    family_id  uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
-- The purge's scan: tokens past their expiry.
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Single-use tokens of the email links (verification, password reset), stored as SHA-256.
CREATE TYPE email_token_purpose AS ENUM ('verify_email', 'reset_password');
CREATE TABLE email_tokens (
    id         uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    email_token_purpose NOT NULL,
    -- false for the verification email registration sends: only resends count against their limit
    requested  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose, created_at);

-- Mail outbox: an email is written here in the transaction that issues its token and sent
-- through SES after the commit (and by the mail relay until SES takes it). It holds the token's
-- id, never the token: the mailer derives the link's token from the id (eduplatform.security).
CREATE TABLE mail_outbox (
    id         uuid PRIMARY KEY,
    token_id   uuid NOT NULL REFERENCES email_tokens (id) ON DELETE CASCADE,
    recipient  text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at    timestamptz,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (created_at) WHERE sent_at IS NULL;
