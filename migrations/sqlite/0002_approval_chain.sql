-- The approval chain: officials' signing keys, delegations, chains per document kind,
-- letters with their revisions and steps, and the signed statement of every paraf,
-- signature, return and rejection. Times are Unix seconds, UTC.

-- Public halves of the officials' Ed25519 keys (the private halves are encrypted in the
-- key store). A retired key stays so that what it signed still verifies.
CREATE TABLE official_keys (
    key_id        TEXT PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    official_id   INTEGER NOT NULL,
    public_key    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER
);
CREATE UNIQUE INDEX official_keys_active ON official_keys (official_id) WHERE retired_at IS NULL;

-- Plh. (holder absent) and Plt. (post vacant) assignments: the official acts for the
-- position from starts_on to ends_on inclusive (dates in the department's timezone).
CREATE TABLE delegations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    position_id   INTEGER NOT NULL REFERENCES positions (id) ON DELETE CASCADE,
    official_id   INTEGER NOT NULL REFERENCES officials (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    basis         TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX delegations_position ON delegations (position_id, starts_on);

-- A department's chain for one kind of document (surat, keputusan), as JSON steps;
-- absent means the SOP's default.
CREATE TABLE chain_definitions (
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    document_kind TEXT NOT NULL,
    steps         TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (department_id, document_kind)
);

CREATE TABLE letters (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    template_id   TEXT NOT NULL,
    document_kind TEXT NOT NULL,
    subject       TEXT NOT NULL,
    state         TEXT NOT NULL,
    round         INTEGER NOT NULL,
    stage         INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    chain         TEXT NOT NULL,
    created_by    INTEGER NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX letters_department ON letters (department_id, state, updated_at);

CREATE TABLE letter_revisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id   INTEGER NOT NULL REFERENCES letters (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    data        TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    pdf         BLOB NOT NULL,
    pdf_sha256  TEXT NOT NULL,
    author_id   INTEGER NOT NULL REFERENCES users (id),
    note        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (letter_id, number)
);

-- One row per person who must act at a stage of a round (several rows at one stage are
-- parallel approvers). A return for revision starts a new round.
CREATE TABLE letter_steps (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id         INTEGER NOT NULL REFERENCES letters (id) ON DELETE CASCADE,
    round             INTEGER NOT NULL,
    stage             INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    label             TEXT NOT NULL,
    assignee_user_id  INTEGER,
    assignee_role     TEXT,
    position_id       INTEGER,
    position_title    TEXT NOT NULL DEFAULT '',
    atas_nama         TEXT NOT NULL DEFAULT '',
    standard_minutes  INTEGER NOT NULL,
    state             TEXT NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    acted_by_user     INTEGER,
    acted_by_official INTEGER,
    acting_as         TEXT NOT NULL DEFAULT '',
    decision          TEXT,
    note              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX letter_steps_letter ON letter_steps (letter_id, round, stage);
CREATE INDEX letter_steps_open ON letter_steps (state, started_at);

-- The signed record of each decision at a paraf or signature step.
CREATE TABLE letter_statements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id   INTEGER NOT NULL REFERENCES letters (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    step_id     INTEGER NOT NULL REFERENCES letter_steps (id),
    revision    INTEGER NOT NULL,
    decision    TEXT NOT NULL,
    official_id INTEGER NOT NULL,
    key_id      TEXT NOT NULL REFERENCES official_keys (key_id),
    statement   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    signature   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    UNIQUE (letter_id, seq)
);
