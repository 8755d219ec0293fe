-- Beneficiary data: candidates imported from the poverty registers (P3KE, DTKS,
-- DTSEN), each import with its file and report, the sources a candidate came from,
-- and every change of a candidate's status with who, when, why and from which letter
-- or file.

-- Per-department rules of the programme (defaults from PP 44/2015 as amended).
CREATE TABLE beneficiary_settings (
    department_id     BIGINT PRIMARY KEY REFERENCES departments (id) ON DELETE CASCADE,
    min_age           BIGINT NOT NULL DEFAULT 18,
    max_age           BIGINT NOT NULL DEFAULT 64,
    monthly_rupiah    BIGINT NOT NULL DEFAULT 16800,
    months            BIGINT NOT NULL DEFAULT 12,
    updated_at        BIGINT NOT NULL
);

-- Column mappings saved by a department for exports without a preset (e.g. DTSEN).
CREATE TABLE candidate_mappings (
    id            BIGSERIAL PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    source        TEXT NOT NULL,
    -- JSON object: our field -> the file's header.
    columns       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (department_id, name)
);

-- One uploaded file: checked first (the report is kept), then imported or cancelled.
CREATE TABLE candidate_imports (
    id             BIGSERIAL PRIMARY KEY,
    department_id  BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    -- P3KE | DTKS | DTSEN | LAIN
    source         TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    file_sha256    TEXT NOT NULL,
    file_size      BIGINT NOT NULL,
    -- Kept between the check and the import only.
    content        BYTEA,
    layout         TEXT NOT NULL,
    mapping_name   TEXT NOT NULL,
    -- JSON object: our field -> the file's header.
    mapping        TEXT NOT NULL,
    rows_total     BIGINT NOT NULL,
    rows_valid     BIGINT NOT NULL,
    rows_refused   BIGINT NOT NULL,
    rows_new       BIGINT NOT NULL DEFAULT 0,
    rows_merged    BIGINT NOT NULL DEFAULT 0,
    -- unmapped (columns to be mapped) | checked | imported | cancelled
    status         TEXT NOT NULL,
    checked_by     TEXT NOT NULL,
    checked_at     BIGINT NOT NULL,
    finished_by    TEXT NOT NULL DEFAULT '',
    finished_at    BIGINT
);
CREATE INDEX candidate_imports_department ON candidate_imports (department_id, id);

-- The report of an import: one row per problem (refused row) or note (a row taken
-- after cleaning), with the file's line and column.
CREATE TABLE candidate_import_problems (
    id          BIGSERIAL PRIMARY KEY,
    import_id   BIGINT NOT NULL REFERENCES candidate_imports (id) ON DELETE CASCADE,
    line        BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    code        TEXT NOT NULL,
    refused     BIGINT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX candidate_import_problems_import ON candidate_import_problems (import_id, line);

-- A person, once per department (merged by NIK across sources).
CREATE TABLE candidates (
    id             BIGSERIAL PRIMARY KEY,
    department_id  BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    nik            TEXT NOT NULL,
    name           TEXT NOT NULL,
    -- L | P
    sex            TEXT NOT NULL,
    birth_date     TEXT NOT NULL,
    address        TEXT NOT NULL DEFAULT '',
    -- The village (desa/kelurahan) in dotted form, 64.09.01.1005.
    region_code    TEXT NOT NULL,
    occupation     TEXT NOT NULL DEFAULT '',
    -- kandidat | sementara | dikonfirmasi | ditolak | terdaftar | final
    status         TEXT NOT NULL,
    status_reason  TEXT NOT NULL DEFAULT '',
    -- The candidate this one replaces (proposed by the village, or after BPJS).
    replaces_id    BIGINT REFERENCES candidates (id),
    -- The confirmation letter whose list carries the candidate.
    letter_id      BIGINT REFERENCES letters (id),
    import_id      BIGINT REFERENCES candidate_imports (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (department_id, nik)
);
CREATE INDEX candidates_village ON candidates (department_id, region_code, status);
CREATE INDEX candidates_status ON candidates (department_id, status);

-- Each source a candidate came from, as that source gave it.
CREATE TABLE candidate_sources (
    id           BIGSERIAL PRIMARY KEY,
    candidate_id BIGINT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    -- The import, or none for a replacement proposed in a village's reply.
    import_id    BIGINT REFERENCES candidate_imports (id),
    source       TEXT NOT NULL,
    line         BIGINT NOT NULL,
    -- The row's identifier in the source (ID Individu, IDDTKS, ...).
    source_ref   TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    occupation   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX candidate_sources_candidate ON candidate_sources (candidate_id);
CREATE INDEX candidate_sources_import ON candidate_sources (import_id);

-- Every change of a candidate: who, when, why, and from which file or letter.
CREATE TABLE candidate_events (
    id            BIGSERIAL PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    candidate_id  BIGINT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    -- diimpor | digabung | status | nik_dilihat
    kind          TEXT NOT NULL,
    status_from   TEXT NOT NULL DEFAULT '',
    status_to     TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    import_id     BIGINT REFERENCES candidate_imports (id),
    letter_id     BIGINT REFERENCES letters (id)
);
CREATE INDEX candidate_events_candidate ON candidate_events (candidate_id, id);
