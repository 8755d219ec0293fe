-- Distribution, first part: the department's directory of recipients. Villages,
-- kelurahan and kecamatan come from the official region codes; agencies and officials
-- (for copies, tembusan) are added by hand or by CSV.
CREATE TABLE recipients (
    id            BIGSERIAL PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    -- desa | kelurahan | kecamatan | instansi | pejabat
    kind          TEXT NOT NULL,
    region_code   TEXT,
    name          TEXT NOT NULL,
    -- How the letter addresses its head: "Kepala Desa Sotek", "Lurah Penajam", "Camat Sepaku".
    head_title    TEXT NOT NULL DEFAULT '',
    head_name     TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX recipients_region ON recipients (department_id, region_code);
CREATE UNIQUE INDEX recipients_name ON recipients (department_id, kind, name);
