-- Incoming letters (surat masuk): registered with an agenda number per year, the
-- scanned PDF kept, passed on by the Kepala Dinas (disposisi) to an official or a unit with
-- instructions and a due date. A village's reply points at the confirmation letter it
-- answers.
CREATE TABLE incoming_letters (
    id                 BIGSERIAL PRIMARY KEY,
    department_id      BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    agenda_year        BIGINT NOT NULL,
    agenda_serial      BIGINT NOT NULL,
    received_on        TEXT NOT NULL,
    sender             TEXT NOT NULL,
    recipient_id       BIGINT REFERENCES recipients (id),
    letter_number      TEXT NOT NULL,
    letter_date        TEXT NOT NULL,
    subject            TEXT NOT NULL,
    -- The confirmation letter this one answers.
    reply_to_letter_id BIGINT REFERENCES letters (id),
    pdf                BYTEA,
    pdf_name           TEXT NOT NULL DEFAULT '',
    pdf_sha256         TEXT NOT NULL DEFAULT '',
    pdf_size           BIGINT NOT NULL DEFAULT 0,
    -- diterima | didisposisi | selesai
    status             TEXT NOT NULL,
    -- When the reply's results were applied to the candidates.
    applied_at         BIGINT,
    registered_by      TEXT NOT NULL,
    registered_at      BIGINT NOT NULL,
    UNIQUE (department_id, agenda_year, agenda_serial)
);
CREATE INDEX incoming_letters_reply ON incoming_letters (reply_to_letter_id);

CREATE TABLE dispositions (
    id            BIGSERIAL PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    incoming_id   BIGINT NOT NULL REFERENCES incoming_letters (id) ON DELETE CASCADE,
    from_user_id  BIGINT NOT NULL REFERENCES users (id),
    -- To an official (user) or to a unit: every member of the unit sees it.
    to_user_id    BIGINT REFERENCES users (id),
    to_unit_id    BIGINT REFERENCES units (id),
    instructions  TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    done_at       BIGINT,
    done_note     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dispositions_to ON dispositions (to_user_id, done_at);

ALTER TABLE candidate_events ADD COLUMN incoming_id BIGINT REFERENCES incoming_letters (id);

-- Replies and the BPJS check look candidates up by their confirmation letter.
CREATE INDEX candidates_letter ON candidates (letter_id);
