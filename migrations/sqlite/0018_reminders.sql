-- Reminders by e-mail of what waits on a person ("Tugas saya"): each person may switch
-- them off; a digest of new work goes out at most once per interval, and each item that
-- passes its standard time is reminded of once. The messages wait in their own outbox,
-- written in the same transaction as what they claim, and are sent outside it.
ALTER TABLE users ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN last_digest_at INTEGER;

-- Items already reminded of as late, so each is reminded once.
CREATE TABLE reminders_sent (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, item_key)
);

-- status: queued | sent | failed
CREATE TABLE reminder_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id   INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX reminder_outbox_due ON reminder_outbox (status, next_attempt_at);
