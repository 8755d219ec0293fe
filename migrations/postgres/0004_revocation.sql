-- Revocation and correction of signed letters: shown at once on the public
-- verification page.
ALTER TABLE letters ADD COLUMN revoked_at BIGINT;
ALTER TABLE letters ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE letters ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
-- The correction (ralat) that supersedes this letter, once signed.
ALTER TABLE letters ADD COLUMN superseded_by BIGINT REFERENCES letters (id);
-- The letter this one corrects.
ALTER TABLE letters ADD COLUMN corrects BIGINT REFERENCES letters (id);
