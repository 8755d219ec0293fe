-- An import's arrival in a person's history is read from their source row and the
-- import (file, line, who, when: candidates::history) instead of an event row per
-- person, which was a third of an import's writes. The events an import wrote before
-- say exactly what that reading says, so they go.
DELETE FROM candidate_events
WHERE kind IN ('diimpor', 'digabung') AND import_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM candidate_sources s
              WHERE s.candidate_id = candidate_events.candidate_id AND s.import_id = candidate_events.import_id);
