-- Foundation: regions, departments and their organisation, accounts, sessions, audit log.
-- Times are Unix seconds, UTC.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    parent_code TEXT
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE departments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    regency_name  TEXT NOT NULL,
    region_code   TEXT,
    address       TEXT NOT NULL DEFAULT '',
    postal_code   TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    website       TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL DEFAULT '',
    timezone      TEXT NOT NULL DEFAULT 'Asia/Makassar',
    logo          BLOB,
    logo_mime     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE units (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    parent_id     INTEGER REFERENCES units (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (department_id, code),
    UNIQUE (department_id, name)
);

CREATE TABLE positions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    unit_id       INTEGER REFERENCES units (id) ON DELETE SET NULL,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (department_id, title)
);

CREATE TABLE officials (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    title_prefix  TEXT NOT NULL DEFAULT '',
    title_suffix  TEXT NOT NULL DEFAULT '',
    nip           TEXT NOT NULL UNIQUE,
    rank          TEXT NOT NULL DEFAULT '',
    grade         TEXT NOT NULL DEFAULT '',
    position_id   INTEGER REFERENCES positions (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX officials_position ON officials (position_id);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    department_id        INTEGER NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    email                TEXT NOT NULL DEFAULT '',
    password_hash        TEXT NOT NULL,
    official_id          INTEGER UNIQUE REFERENCES officials (id) ON DELETE SET NULL,
    active               INTEGER NOT NULL DEFAULT 1,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (kind, key, at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_heads (
    chain     TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL,
    head_hash TEXT NOT NULL
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chain         TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    department_id INTEGER,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    details       TEXT NOT NULL,
    at            INTEGER NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_log_department ON audit_log (department_id, id);
