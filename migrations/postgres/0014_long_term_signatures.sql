-- Long-term signatures (PAdES B-T, B-LT, B-LTA): the department's chosen level, the
-- revocation of officials' certificates and the CRLs of the department's authority,
-- and the durable job that adds timestamps and validation data after signing.
ALTER TABLE departments ADD COLUMN signature_level TEXT;

-- Certificates issued with the CRL distribution point and AIA (profile 2) are the only
-- ones reused; older ones are left to expire.
ALTER TABLE official_certificates ADD COLUMN profile BIGINT NOT NULL DEFAULT 1;
ALTER TABLE official_certificates ADD COLUMN revoked_at BIGINT;

CREATE TABLE certificate_revocation_lists (
    authority   TEXT NOT NULL REFERENCES certificate_authorities (fingerprint),
    number      BIGINT NOT NULL,
    crl         BYTEA NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    PRIMARY KEY (authority, number)
);

CREATE TABLE signature_augmentations (
    letter_id       BIGINT PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    department_id   BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    target_level    TEXT NOT NULL,
    reached_level   TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    base_sha256     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX signature_augmentations_due ON signature_augmentations (status, next_attempt_at);
