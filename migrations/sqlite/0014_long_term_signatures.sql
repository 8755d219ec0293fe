-- Long-term signatures (PAdES B-T, B-LT, B-LTA): the department's chosen level, the
-- revocation of officials' certificates and the CRLs of the department's authority,
-- and the durable job that adds timestamps and validation data after signing.
ALTER TABLE departments ADD COLUMN signature_level TEXT;

-- Certificates issued with the CRL distribution point and AIA (profile 2) are the only
-- ones reused; older ones are left to expire.
ALTER TABLE official_certificates ADD COLUMN profile INTEGER NOT NULL DEFAULT 1;
ALTER TABLE official_certificates ADD COLUMN revoked_at INTEGER;

CREATE TABLE certificate_revocation_lists (
    authority   TEXT NOT NULL REFERENCES certificate_authorities (fingerprint),
    number      INTEGER NOT NULL,
    crl         BLOB NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    PRIMARY KEY (authority, number)
);

CREATE TABLE signature_augmentations (
    letter_id       INTEGER PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    department_id   INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    target_level    TEXT NOT NULL,
    reached_level   TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    base_sha256     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX signature_augmentations_due ON signature_augmentations (status, next_attempt_at);
