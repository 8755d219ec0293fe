-- Revocation and correction of signed letters: shown at once on the public
-- verification page.
ALTER TABLE letters ADD COLUMN revoked_at INTEGER;
ALTER TABLE letters ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE letters ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
-- The correction (ralat) that supersedes this letter, once signed.
ALTER TABLE letters ADD COLUMN superseded_by INTEGER REFERENCES letters (id);
-- The letter this one corrects.
ALTER TABLE letters ADD COLUMN corrects INTEGER REFERENCES letters (id);
