-- The token vault: Keycloak offline and refresh tokens sealed with AES-256-GCM (app/src/vault/).
-- A token is bound to its row: the row id, the Keycloak subject and the kind are the associated
-- data, so a ciphertext copied to another row does not open. `token_hash` (SHA-256) finds a
-- token without decrypting; no column ever holds a token in the clear.
CREATE TABLE vault_tokens (
    id            TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('offline', 'refresh')),
    ciphertext    BYTEA NOT NULL,
    nonce         BYTEA NOT NULL,
    key_id        TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    session_state TEXT NOT NULL DEFAULT '',
    attributes    TEXT NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX vault_tokens_subject ON vault_tokens (subject, kind);
CREATE INDEX vault_tokens_session ON vault_tokens (session_state, kind);
-- The seed keeps one refresh token per user; the database holds that, not a read-then-write.
CREATE UNIQUE INDEX vault_tokens_one_refresh ON vault_tokens (subject) WHERE kind = 'refresh';

-- Pending offline-token consents: the `state` is a signed, expiring JWT whose hash keys one row,
-- deleted when the callback takes it, so it works once.
CREATE TABLE vault_consents (
    state_hash    TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    session_state TEXT NOT NULL DEFAULT '',
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    return_to     TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
