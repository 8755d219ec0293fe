-- Every list page is one range of an index, so a page costs the same at ten times the
-- data (BENCHMARKS.md, "Ten times the data"): the letters by last change (Surat) and by
-- signature (Distribusi), the deliveries not yet received (Distribusi, Tugas saya), the
-- register in its order (year, series, unit, serial), and the candidates in list order
-- (village, name), which also serves a village's filter.
CREATE INDEX letters_recent ON letters (department_id, updated_at, id);
CREATE INDEX letters_signed ON letters (department_id, signed_at, revoked_at, batch_id, id);
CREATE INDEX deliveries_open ON deliveries (department_id, status, letter_id);
DROP INDEX register_department;
CREATE INDEX register_department ON register (department_id, year, series, unit_code, serial, id);
DROP INDEX candidates_village;
CREATE INDEX candidates_village ON candidates (department_id, region_code, name, id);

-- How many deliveries the signature planned (NULL before it): a letter nobody is to
-- receive shows on the distribution dashboard, found by this index instead of a look
-- for deliveries of every signed letter.
ALTER TABLE letters ADD COLUMN recipients INTEGER;
UPDATE letters SET recipients = (SELECT COUNT(*) FROM deliveries d WHERE d.letter_id = letters.id) WHERE signed_at IS NOT NULL;
CREATE INDEX letters_without_recipients ON letters (department_id, signed_at) WHERE recipients = 0;
