-- A signed letter's official PDF in a table of its own: in the letters row it sat
-- between the columns every list and the verification page read, so that on SQLite
-- each of those reads walked the file's overflow pages (tens per letter).
CREATE TABLE letter_files (
    letter_id BIGINT PRIMARY KEY REFERENCES letters (id) ON DELETE CASCADE,
    pdf       BYTEA NOT NULL
);
INSERT INTO letter_files (letter_id, pdf) SELECT id, final_pdf FROM letters WHERE final_pdf IS NOT NULL;
ALTER TABLE letters DROP COLUMN final_pdf;
