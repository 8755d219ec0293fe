-- Incoming letters (surat masuk): registered with an agenda number per year, the
-- scanned PDF kept, passed on by the Kepala Dinas (disposisi) to an official or a unit with
-- instructions and a due date. A village's reply points at the confirmation letter it
-- answers.
CREATE TABLE incoming_letters (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id      INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    agenda_year        INTEGER NOT NULL,
    agenda_serial      INTEGER NOT NULL,
    received_on        TEXT NOT NULL,
    sender             TEXT NOT NULL,
    recipient_id       INTEGER REFERENCES recipients (id),
    letter_number      TEXT NOT NULL,
    letter_date        TEXT NOT NULL,
    subject            TEXT NOT NULL,
    -- The confirmation letter this one answers.
    reply_to_letter_id INTEGER REFERENCES letters (id),
    pdf                BLOB,
    pdf_name           TEXT NOT NULL DEFAULT '',
    pdf_sha256         TEXT NOT NULL DEFAULT '',
    pdf_size           INTEGER NOT NULL DEFAULT 0,
    -- diterima | didisposisi | selesai
    status             TEXT NOT NULL,
    -- When the reply's results were applied to the candidates.
    applied_at         INTEGER,
    registered_by      TEXT NOT NULL,
    registered_at      INTEGER NOT NULL,
    UNIQUE (department_id, agenda_year, agenda_serial)
);
CREATE INDEX incoming_letters_reply ON incoming_letters (reply_to_letter_id);

CREATE TABLE dispositions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    incoming_id   INTEGER NOT NULL REFERENCES incoming_letters (id) ON DELETE CASCADE,
    from_user_id  INTEGER NOT NULL REFERENCES users (id),
    -- To an official (user) or to a unit: every member of the unit sees it.
    to_user_id    INTEGER REFERENCES users (id),
    to_unit_id    INTEGER REFERENCES units (id),
    instructions  TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    done_at       INTEGER,
    done_note     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dispositions_to ON dispositions (to_user_id, done_at);

ALTER TABLE candidate_events ADD COLUMN incoming_id INTEGER REFERENCES incoming_letters (id);

-- Replies and the BPJS check look candidates up by their confirmation letter.
CREATE INDEX candidates_letter ON candidates (letter_id);
