-- Every list page is one range of an index, so a page costs the same at ten times the
-- data (BENCHMARKS.md, "Ten times the data"): the letters by last change (Surat) and by
-- signature (Distribusi), the deliveries not yet received (Distribusi, Tugas saya), the
-- register in its order (year, series, unit, serial). The candidates keep their narrow
-- index by village: a page sorts one village's rows by name (a few ms), where a name in
-- the index costs an import of a million rows 3.5 s on PostgreSQL.
CREATE INDEX letters_recent ON letters (department_id, updated_at, id);
CREATE INDEX letters_signed ON letters (department_id, signed_at, revoked_at, batch_id, id);
CREATE INDEX deliveries_open ON deliveries (department_id, status, letter_id);
DROP INDEX register_department;
CREATE INDEX register_department ON register (department_id, year, series, unit_code, serial, id);

-- How many deliveries the signature planned (NULL before it): a letter nobody is to
-- receive shows on the distribution dashboard, found by this index instead of a look
-- for deliveries of every signed letter.
ALTER TABLE letters ADD COLUMN recipients INTEGER;
UPDATE letters SET recipients = (SELECT COUNT(*) FROM deliveries d WHERE d.letter_id = letters.id) WHERE signed_at IS NOT NULL;
CREATE INDEX letters_without_recipients ON letters (department_id, signed_at) WHERE recipients = 0;

-- How many candidates a department has in each status, kept in the same transaction by
-- every write that adds a candidate or changes a status (beneficiaries/candidates.rs,
-- import/apply.rs), so that the list's figures are six rows, not a million counted.
CREATE TABLE candidate_counts (
    department_id BIGINT NOT NULL,
    status        TEXT NOT NULL,
    count         BIGINT NOT NULL,
    PRIMARY KEY (department_id, status)
);
INSERT INTO candidate_counts (department_id, status, count)
    SELECT department_id, status, COUNT(*) FROM candidates GROUP BY department_id, status;

-- What the register's search looks in: the number and the subject in lower case, one
-- column read with a plain substring test instead of two case-folding patterns a line.
ALTER TABLE register ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE register SET search = LOWER(number || ' ' || subject);
