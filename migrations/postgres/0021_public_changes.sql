-- Every node keeps the public records it built (the verification page) in memory. A
-- change of what such a record shows is announced to all nodes as it commits, so each
-- drops its copy at once (LISTEN naskah_public; verification/cache.rs).
CREATE FUNCTION naskah_public_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('naskah_public', OLD.verification_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER letters_public_changed AFTER UPDATE ON letters FOR EACH ROW
    WHEN (OLD.verification_id IS NOT NULL AND
          (OLD.verification_id, OLD.state, OLD.version, OLD.revoked_at, OLD.superseded_by, OLD.final_sha256)
          IS DISTINCT FROM (NEW.verification_id, NEW.state, NEW.version, NEW.revoked_at, NEW.superseded_by, NEW.final_sha256))
    EXECUTE FUNCTION naskah_public_changed();

CREATE TRIGGER letters_public_deleted AFTER DELETE ON letters FOR EACH ROW
    WHEN (OLD.verification_id IS NOT NULL)
    EXECUTE FUNCTION naskah_public_changed();
