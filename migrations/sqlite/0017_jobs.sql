-- Long work as durable jobs (bulk paraf and signature, candidate imports): any process
-- shows a job's progress and outcome from here, and a job whose process stopped (its
-- heartbeat is old) is told as stopped and can be continued by its owner.
-- state: berjalan (running), selesai (done), gagal (failed before any item).
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id     TEXT NOT NULL UNIQUE,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    owner_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    input         TEXT NOT NULL,
    state         TEXT NOT NULL,
    total         INTEGER NOT NULL DEFAULT 0,
    done          INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    claimed_by    TEXT NOT NULL DEFAULT '',
    heartbeat_at  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER
);
-- One running job per subject (one import of a file, say), whichever process runs it.
CREATE UNIQUE INDEX jobs_one_running ON jobs (department_id, subject) WHERE state = 'berjalan';
CREATE INDEX jobs_owner ON jobs (owner_id, created_at);

-- The items of a job that works item by item (a bulk decision's letters), each with its
-- outcome, so a stopped job continues with exactly the ones still pending.
-- state: menunggu (pending), selesai (done), gagal (failed).
CREATE TABLE job_items (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    target   INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    label    TEXT NOT NULL DEFAULT '',
    state    TEXT NOT NULL DEFAULT 'menunggu',
    message  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, seq)
);
