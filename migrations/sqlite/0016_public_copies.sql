-- The public copy of a signed document with personal data (the SK with NIKs masked),
-- made once from the signed revision, sealed with the department's own signature and
-- kept with its hash, so that the verification page recognises it when it is uploaded.
CREATE TABLE public_copies (
    letter_id        INTEGER PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    department_id    INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    pdf              BLOB NOT NULL,
    sha256           TEXT NOT NULL,
    seal_certificate TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);

-- The department's seal: a P-256 certificate from its own root, for the signature on
-- what the department publishes in its own name (not an official's signature). The
-- key is derived from the root's key, so nothing secret is stored twice.
CREATE TABLE department_seals (
    fingerprint   TEXT PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    authority     TEXT NOT NULL REFERENCES certificate_authorities (fingerprint),
    certificate   BLOB NOT NULL,
    not_before    INTEGER NOT NULL,
    not_after     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX department_seals_authority ON department_seals (authority, not_after);
