-- Certified signatures through the state CA's signing service (BSrE): the department's
-- choice of signing backend, the officials' NIK (BSrE knows signers by it) and, per
-- letter, the PDF stamped with number, date and QR code that waits for BSrE's signature.
CREATE TABLE department_signing (
    department_id        INTEGER PRIMARY KEY REFERENCES departments (id) ON DELETE CASCADE,
    backend              TEXT NOT NULL DEFAULT 'lokal',
    bsre_base_url        TEXT NOT NULL DEFAULT '',
    bsre_username        TEXT NOT NULL DEFAULT '',
    bsre_timeout_seconds INTEGER NOT NULL DEFAULT 60,
    updated_at           INTEGER NOT NULL
);

-- Personal data: shown masked, to staff only.
ALTER TABLE officials ADD COLUMN nik TEXT NOT NULL DEFAULT '';

-- status: siap (stamped, not sent or last attempt refused), dikirim (request under
-- way), tidak_diketahui (sent, no answer: outcome unknown), diterima (signed PDF
-- received, letter not yet completed), selesai.
CREATE TABLE remote_signatures (
    letter_id       INTEGER PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    department_id   INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    step_id         INTEGER NOT NULL REFERENCES letter_steps (id),
    official_id     INTEGER NOT NULL REFERENCES officials (id),
    number          TEXT NOT NULL,
    letter_date     TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    qr_token        TEXT NOT NULL,
    stamped_pdf     BLOB NOT NULL,
    stamped_sha256  TEXT NOT NULL,
    signed_pdf      BLOB,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX remote_signatures_status ON remote_signatures (department_id, status);
