-- Timestamps are TEXT in a fixed-width UTC form (2006-01-02T15:04:05.000000Z)
-- so that string order is time order. JSON lists are TEXT.
CREATE TABLE agencies (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    website     TEXT NOT NULL DEFAULT '',
    contact     TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE datasets (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    agency_id       TEXT NOT NULL REFERENCES agencies(id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL,
    open_class      TEXT NOT NULL CHECK (open_class IN ('open', 'conditional', 'closed')),
    frequency       TEXT NOT NULL,
    formats         TEXT NOT NULL DEFAULT '[]',
    tags            TEXT NOT NULL DEFAULT '[]',
    fields          TEXT NOT NULL DEFAULT '[]',
    access_modes    TEXT NOT NULL DEFAULT '[]',
    legal_basis     TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    license         TEXT NOT NULL DEFAULT '',
    current_version INTEGER,
    downloads       INTEGER NOT NULL DEFAULT 0,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    published_at    TEXT,
    CHECK (NOT (open_class = 'closed' AND state = 'published'))
);
CREATE INDEX datasets_agency ON datasets (agency_id);
CREATE INDEX datasets_updated ON datasets (updated_at);

-- One row per (entry, lower-cased format) so the list can filter by format.
CREATE TABLE dataset_formats (
    dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    format     TEXT NOT NULL,
    PRIMARY KEY (format, dataset_id)
);

CREATE TABLE dataset_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    diff       TEXT NOT NULL DEFAULT '',
    at         TEXT NOT NULL
);
CREATE INDEX dataset_changes_dataset ON dataset_changes (dataset_id, id);

CREATE TABLE versions (
    id         TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    number     INTEGER NOT NULL,
    blob_key   TEXT NOT NULL DEFAULT '',
    filename   TEXT NOT NULL DEFAULT '',
    size       INTEGER NOT NULL DEFAULT 0,
    sha256     TEXT NOT NULL DEFAULT '',
    media_type TEXT NOT NULL DEFAULT '',
    encoding   TEXT NOT NULL DEFAULT '',
    rows       INTEGER NOT NULL DEFAULT 0,
    columns    TEXT NOT NULL DEFAULT '[]',
    row_table  TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'failed')),
    error      TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    ready_at   TEXT,
    UNIQUE (dataset_id, number)
);

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id TEXT NOT NULL,
    at         TEXT NOT NULL
);

CREATE TABLE consumer_cursors (
    name       TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
