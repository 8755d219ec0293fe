-- The serving process keeps the public records it built (the verification page) in
-- memory. A change of what such a record shows is written here in the same transaction;
-- the process reads what is new every few milliseconds and drops those records
-- (verification/cache.rs). Rows older than a day are removed by the reader.
CREATE TABLE public_changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    verification_id TEXT NOT NULL,
    at              INTEGER NOT NULL
);

CREATE TRIGGER letters_public_changed AFTER UPDATE ON letters FOR EACH ROW
    WHEN OLD.verification_id IS NOT NULL AND (
        OLD.verification_id IS NOT NEW.verification_id OR OLD.state IS NOT NEW.state OR OLD.version IS NOT NEW.version
        OR OLD.revoked_at IS NOT NEW.revoked_at OR OLD.superseded_by IS NOT NEW.superseded_by
        OR OLD.final_sha256 IS NOT NEW.final_sha256)
BEGIN
    INSERT INTO public_changes (verification_id, at) VALUES (OLD.verification_id, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER letters_public_deleted AFTER DELETE ON letters FOR EACH ROW
    WHEN OLD.verification_id IS NOT NULL
BEGIN
    INSERT INTO public_changes (verification_id, at) VALUES (OLD.verification_id, CAST(strftime('%s', 'now') AS INTEGER));
END;
