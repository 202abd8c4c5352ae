-- Accounts, personal access tokens, failed sign-ins and opening reviews.
-- Owned by the accounts work (see datasets.Accounts).
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'publisher', 'reviewer', 'developer')),
    agency_id     TEXT REFERENCES agencies(id),
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
);

-- Tokens are found by their HMAC through the unique index, never by a scan.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX tokens_user ON tokens (user_id, created_at);

-- One row per failed sign-in, so the throttle holds across processes.
CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE entry_reviews (
    id                   TEXT PRIMARY KEY,
    dataset_id           TEXT NOT NULL REFERENCES datasets(id),
    reviewer_id          TEXT NOT NULL,
    decision             TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    legality_ok          INTEGER NOT NULL,
    legality_note        TEXT NOT NULL DEFAULT '',
    confidentiality_ok   INTEGER NOT NULL,
    confidentiality_note TEXT NOT NULL DEFAULT '',
    privacy_ok           INTEGER NOT NULL,
    privacy_note         TEXT NOT NULL DEFAULT '',
    reason               TEXT NOT NULL DEFAULT '',
    at                   TEXT NOT NULL
);
CREATE INDEX entry_reviews_dataset ON entry_reviews (dataset_id, at);
