-- The public copy of a signed document with personal data (the SK with NIKs masked),
-- made once from the signed revision, sealed with the department's own signature and
-- kept with its hash, so that the verification page recognises it when it is uploaded.
CREATE TABLE public_copies (
    letter_id        BIGINT PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    department_id    BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    pdf              BYTEA NOT NULL,
    sha256           TEXT NOT NULL,
    seal_certificate TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

-- The department's seal: a P-256 certificate from its own root, for the signature on
-- what the department publishes in its own name (not an official's signature). The
-- key is derived from the root's key, so nothing secret is stored twice.
CREATE TABLE department_seals (
    fingerprint   TEXT PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    authority     TEXT NOT NULL REFERENCES certificate_authorities (fingerprint),
    certificate   BYTEA NOT NULL,
    not_before    BIGINT NOT NULL,
    not_after     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX department_seals_authority ON department_seals (authority, not_after);
