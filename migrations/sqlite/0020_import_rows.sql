-- Imports of any size, checked and imported in bulk.
--
-- The valid rows of a checked import, cleaned as its report says, kept until the user
-- imports them (moved into candidates, sources and events in one transaction, then
-- deleted) or cancels. The import then runs as a few set-based statements instead of
-- reading and checking the file a second time. No foreign key: rows are written and
-- removed only beside their import, and a key checked per row is what a bulk write
-- can least afford.
CREATE TABLE candidate_import_rows (
    import_id   INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    nik         TEXT NOT NULL,
    name        TEXT NOT NULL,
    sex         TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    address     TEXT NOT NULL,
    region_code TEXT NOT NULL,
    occupation  TEXT NOT NULL,
    source_ref  TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;

-- The uploaded file as it came, in pieces of at most 1 MiB, kept between the check and
-- the import (a new mapping checks it again); never held whole in memory.
CREATE TABLE candidate_import_files (
    import_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    bytes     BLOB NOT NULL,
    PRIMARY KEY (import_id, seq)
) WITHOUT ROWID;

-- Only a candidate put on a confirmation letter has a letter; an import writes none, so
-- its rows need no entry in this index.
DROP INDEX candidates_letter;
CREATE INDEX candidates_letter ON candidates (letter_id) WHERE letter_id IS NOT NULL;
