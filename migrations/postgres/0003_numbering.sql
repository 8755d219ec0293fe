-- Numbering at signature: the department's number format, classification codes, one
-- counter per series (letters, decrees), unit and year, the outgoing-letter register
-- (agenda), and what a signed letter carries.

ALTER TABLE departments ADD COLUMN number_format TEXT NOT NULL DEFAULT '{kode_klasifikasi}/{urut:04}/{unit}/{tahun}';
-- The {unit} of the number, e.g. "Disnaker".
ALTER TABLE departments ADD COLUMN number_unit TEXT NOT NULL DEFAULT '';
-- 1: each unit (of the drafter's position) has its own series; 0: one per department.
ALTER TABLE departments ADD COLUMN number_per_unit BIGINT NOT NULL DEFAULT 0;

CREATE TABLE classification_codes (
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    PRIMARY KEY (department_id, code)
);
INSERT INTO classification_codes (department_id, code, name) SELECT id, '500.15', 'Ketenagakerjaan' FROM departments;
INSERT INTO classification_codes (department_id, code, name) SELECT id, '500.15.16', 'Pengawasan Norma Kerja dan Jaminan Sosial Tenaga Kerja' FROM departments;
INSERT INTO classification_codes (department_id, code, name) SELECT id, '100.3.3', 'Keputusan Kepala Daerah' FROM departments;

ALTER TABLE letters ADD COLUMN classification_code TEXT NOT NULL DEFAULT '';
ALTER TABLE letters ADD COLUMN number TEXT;
ALTER TABLE letters ADD COLUMN letter_date TEXT;
ALTER TABLE letters ADD COLUMN verification_id TEXT;
ALTER TABLE letters ADD COLUMN final_pdf BYTEA;
ALTER TABLE letters ADD COLUMN final_sha256 TEXT;
ALTER TABLE letters ADD COLUMN signed_at BIGINT;
CREATE UNIQUE INDEX letters_verification ON letters (verification_id);

CREATE TABLE number_series (
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    series        TEXT NOT NULL,
    unit_code     TEXT NOT NULL,
    year          BIGINT NOT NULL,
    last_serial   BIGINT NOT NULL,
    PRIMARY KEY (department_id, series, unit_code, year)
);

-- Every serial ever issued: a signed letter (terbit) or a cancelled number (batal).
CREATE TABLE register (
    id                  BIGSERIAL PRIMARY KEY,
    department_id       BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    series              TEXT NOT NULL,
    unit_code           TEXT NOT NULL,
    year                BIGINT NOT NULL,
    serial              BIGINT NOT NULL,
    number              TEXT NOT NULL,
    letter_id           BIGINT REFERENCES letters (id),
    status              TEXT NOT NULL,
    letter_date         TEXT NOT NULL,
    subject             TEXT NOT NULL,
    classification_code TEXT NOT NULL,
    signer              TEXT NOT NULL,
    cancelled_reason    TEXT NOT NULL DEFAULT '',
    cancelled_by        TEXT NOT NULL DEFAULT '',
    cancelled_at        BIGINT,
    created_at          BIGINT NOT NULL,
    UNIQUE (department_id, series, unit_code, year, serial)
);
CREATE INDEX register_department ON register (department_id, year, series, serial);
