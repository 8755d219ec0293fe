-- Certified signatures through the state CA's signing service (BSrE): the department's
-- choice of signing backend, the officials' NIK (BSrE knows signers by it) and, per
-- letter, the PDF stamped with number, date and QR code that waits for BSrE's signature.
CREATE TABLE department_signing (
    department_id        BIGINT PRIMARY KEY REFERENCES departments (id) ON DELETE CASCADE,
    backend              TEXT NOT NULL DEFAULT 'lokal',
    bsre_base_url        TEXT NOT NULL DEFAULT '',
    bsre_username        TEXT NOT NULL DEFAULT '',
    bsre_timeout_seconds BIGINT NOT NULL DEFAULT 60,
    updated_at           BIGINT NOT NULL
);

-- Personal data: shown masked, to staff only.
ALTER TABLE officials ADD COLUMN nik TEXT NOT NULL DEFAULT '';

-- status: siap (stamped, not sent or last attempt refused), dikirim (request under
-- way), tidak_diketahui (sent, no answer: outcome unknown), diterima (signed PDF
-- received, letter not yet completed), selesai.
CREATE TABLE remote_signatures (
    letter_id       BIGINT PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    department_id   BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    step_id         BIGINT NOT NULL REFERENCES letter_steps (id),
    official_id     BIGINT NOT NULL REFERENCES officials (id),
    number          TEXT NOT NULL,
    letter_date     TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    qr_token        TEXT NOT NULL,
    stamped_pdf     BYTEA NOT NULL,
    stamped_sha256  TEXT NOT NULL,
    signed_pdf      BYTEA,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX remote_signatures_status ON remote_signatures (department_id, status);
