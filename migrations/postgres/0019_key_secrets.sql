-- The private halves of every key, in the database so that any service node holding
-- it (and, for the service's own secrets, the deployment's master key) can sign; no
-- node keeps a key on its disk.
--   official:<key_id>        an official's Ed25519 key, sealed under their passphrase
--   department:<key_id>      the department's QR-token key, sealed under the master key
--   authority:<fingerprint>  the department CA's P-256 key, sealed under the master key
--   bsre-client:<dept id>    the BSrE client password, sealed under the master key
-- sealed_with is 'passphrase' or the master key's identifier (never the key itself),
-- so that a node given another master key says so at start-up.
CREATE TABLE key_secrets (
    name          TEXT PRIMARY KEY,
    department_id BIGINT NOT NULL,
    sealed_with   TEXT NOT NULL,
    envelope      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX key_secrets_sealed_with ON key_secrets (sealed_with);
