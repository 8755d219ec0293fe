-- The signature embedded in every final PDF (PAdES B-B): the department's algorithm,
-- its own root certification authorities (private halves in the key store), and the
-- officials' certificates, one per key, algorithm and authority (renewed on expiry).
ALTER TABLE departments ADD COLUMN signature_algorithm TEXT NOT NULL DEFAULT 'p256';

CREATE TABLE certificate_authorities (
    fingerprint   TEXT PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    certificate   BLOB NOT NULL,
    not_before    INTEGER NOT NULL,
    not_after     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER
);
CREATE UNIQUE INDEX certificate_authorities_active ON certificate_authorities (department_id) WHERE retired_at IS NULL;

CREATE TABLE official_certificates (
    fingerprint TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL REFERENCES official_keys (key_id),
    algorithm   TEXT NOT NULL,
    authority   TEXT NOT NULL REFERENCES certificate_authorities (fingerprint),
    certificate BLOB NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX official_certificates_key ON official_certificates (key_id, algorithm, authority);

-- The certificate whose key signed the final PDF.
ALTER TABLE letters ADD COLUMN signature_certificate TEXT;
