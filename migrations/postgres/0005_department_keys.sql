-- The department's own Ed25519 keys, which sign the compact token in every QR code so
-- that a letter can be checked offline. Public halves here (published at
-- /.well-known/naskah-keys.json, retired ones kept); private halves in the key store.
CREATE TABLE department_keys (
    key_id        TEXT PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    public_key    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT
);
CREATE UNIQUE INDEX department_keys_active ON department_keys (department_id) WHERE retired_at IS NULL;

-- The signed token the letter's QR code carries.
ALTER TABLE letters ADD COLUMN qr_token TEXT;
