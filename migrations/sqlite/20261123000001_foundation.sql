-- Users (the bootstrap admin for now; identity features extend this table) and settings.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_login_at TEXT
);

-- Installation-wide key/value facts (for example when the first admin was created).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
