-- The last two foreign keys an import checks once per person on PostgreSQL: each is a
-- trigger that locks the referenced row (FOR KEY SHARE), ~3 µs a row, together a third
-- of a province's million-row import. Both links are made only by joins with the rows
-- they name inside the import's transaction (a candidate's department is the
-- importing department; a source's candidate was just inserted or matched by NIK), and
-- no code deletes a candidate or a department; tests/it/bulk_import.rs checks that no
-- source or candidate points nowhere. SQLite checks a key with one B-tree probe and
-- keeps them (0024 there changes nothing).
ALTER TABLE candidates DROP CONSTRAINT IF EXISTS candidates_department_id_fkey;
ALTER TABLE candidate_sources DROP CONSTRAINT IF EXISTS candidate_sources_candidate_id_fkey;
