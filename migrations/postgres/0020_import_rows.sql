-- Imports of any size, checked and imported in bulk.
--
-- The valid rows of a checked import, cleaned as its report says, kept until the user
-- imports them (moved into candidates, sources and events in one transaction, then
-- deleted) or cancels. The import then runs as a few set-based statements instead of
-- reading and checking the file a second time. No foreign key: rows are written and
-- removed only beside their import, and a key checked per row is what a bulk write
-- can least afford.
CREATE TABLE candidate_import_rows (
    import_id   BIGINT NOT NULL,
    line        BIGINT NOT NULL,
    nik         TEXT NOT NULL,
    name        TEXT NOT NULL,
    sex         TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    address     TEXT NOT NULL,
    region_code TEXT NOT NULL,
    occupation  TEXT NOT NULL,
    source_ref  TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- The uploaded file as it came, in pieces of at most 1 MiB, kept between the check and
-- the import (a new mapping checks it again); never held whole in memory. Stored as it
-- is: compressing a file that lives minutes costs more than it saves.
CREATE TABLE candidate_import_files (
    import_id BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    bytes     BYTEA NOT NULL,
    PRIMARY KEY (import_id, seq)
);
ALTER TABLE candidate_import_files ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- On PostgreSQL every foreign key is a trigger run per inserted row (~3 µs each here:
-- a third of a 100,000-row import). The references below name the import a row came
-- from, or repeat the department its candidate already names; they are written only by
-- the import itself, beside the import row it holds locked, so they are kept as plain
-- columns. The keys that protect data (candidate, department of a candidate,
-- letter, incoming letter) stay. SQLite checks a key with one B-tree probe and keeps all.
ALTER TABLE candidates DROP CONSTRAINT candidates_import_id_fkey;
ALTER TABLE candidate_sources DROP CONSTRAINT candidate_sources_import_id_fkey;
ALTER TABLE candidate_events DROP CONSTRAINT candidate_events_import_id_fkey;
ALTER TABLE candidate_events DROP CONSTRAINT candidate_events_department_id_fkey;

-- Only a candidate put on a confirmation letter has a letter; an import writes none, so
-- its rows need no entry in this index.
DROP INDEX candidates_letter;
CREATE INDEX candidates_letter ON candidates (letter_id) WHERE letter_id IS NOT NULL;
