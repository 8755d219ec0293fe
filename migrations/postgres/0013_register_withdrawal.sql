-- The register follows a letter's public record: a revoked letter's line is `dicabut`
-- (reason, who, when), a letter superseded by a correction or an amending decree is
-- `diganti` (the new number, when). A number that belongs to a signed letter is never
-- `batal`: revocation is the only way to withdraw it.
ALTER TABLE register ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE register ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE register ADD COLUMN revoked_at BIGINT;
ALTER TABLE register ADD COLUMN superseded_by_number TEXT NOT NULL DEFAULT '';
ALTER TABLE register ADD COLUMN superseded_at BIGINT;
CREATE INDEX register_letter ON register (letter_id);

-- A signed letter whose number was cancelled in the register was meant to be withdrawn:
-- it becomes revoked with the same reason, who and when, so the public page agrees.
UPDATE letters SET
    revoked_at = (SELECT COALESCE(r.cancelled_at, r.created_at) FROM register r WHERE r.letter_id = letters.id AND r.status = 'batal'),
    revoked_reason = (SELECT r.cancelled_reason FROM register r WHERE r.letter_id = letters.id AND r.status = 'batal'),
    revoked_by = (SELECT r.cancelled_by FROM register r WHERE r.letter_id = letters.id AND r.status = 'batal'),
    version = version + 1
WHERE revoked_at IS NULL AND state = 'ditandatangani'
  AND id IN (SELECT letter_id FROM register WHERE status = 'batal' AND letter_id IS NOT NULL);

-- Lines of revoked letters.
UPDATE register SET
    status = 'dicabut',
    revoked_reason = (SELECT l.revoked_reason FROM letters l WHERE l.id = register.letter_id),
    revoked_by = (SELECT l.revoked_by FROM letters l WHERE l.id = register.letter_id),
    revoked_at = (SELECT l.revoked_at FROM letters l WHERE l.id = register.letter_id),
    cancelled_reason = '',
    cancelled_by = '',
    cancelled_at = NULL
WHERE letter_id IN (SELECT id FROM letters WHERE revoked_at IS NOT NULL);

-- Lines of superseded letters: the new number; `diganti` unless revoked.
UPDATE register SET
    superseded_by_number = (SELECT COALESCE(n.number, '') FROM letters o JOIN letters n ON n.id = o.superseded_by WHERE o.id = register.letter_id),
    superseded_at = (SELECT n.signed_at FROM letters o JOIN letters n ON n.id = o.superseded_by WHERE o.id = register.letter_id),
    status = CASE WHEN status = 'terbit' THEN 'diganti' ELSE status END
WHERE letter_id IN (SELECT id FROM letters WHERE superseded_by IS NOT NULL);
