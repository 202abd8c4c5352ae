-- Text that is sorted or range-filtered uses COLLATE "C" so PostgreSQL orders
-- strings by code point, exactly as SQLite does.
CREATE TABLE agencies (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL COLLATE "C",
    description TEXT NOT NULL DEFAULT '',
    website     TEXT NOT NULL DEFAULT '',
    contact     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE datasets (
    id              UUID PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    agency_id       UUID NOT NULL REFERENCES agencies(id),
    title           TEXT NOT NULL COLLATE "C",
    description     TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL,
    open_class      TEXT NOT NULL CHECK (open_class IN ('open', 'conditional', 'closed')),
    frequency       TEXT NOT NULL,
    formats         JSONB NOT NULL DEFAULT '[]',
    tags            JSONB NOT NULL DEFAULT '[]',
    fields          JSONB NOT NULL DEFAULT '[]',
    access_modes    JSONB NOT NULL DEFAULT '[]',
    legal_basis     TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    license         TEXT NOT NULL DEFAULT '',
    current_version INTEGER,
    downloads       BIGINT NOT NULL DEFAULT 0,
    api_calls       BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    published_at    TIMESTAMPTZ,
    CHECK (NOT (open_class = 'closed' AND state = 'published'))
);
CREATE INDEX datasets_agency ON datasets (agency_id);
CREATE INDEX datasets_updated ON datasets (updated_at);

CREATE TABLE dataset_formats (
    dataset_id UUID NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    format     TEXT NOT NULL,
    PRIMARY KEY (format, dataset_id)
);

CREATE TABLE dataset_changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset_id UUID NOT NULL REFERENCES datasets(id),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    diff       TEXT NOT NULL DEFAULT '',
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX dataset_changes_dataset ON dataset_changes (dataset_id, id);

CREATE TABLE versions (
    id         UUID PRIMARY KEY,
    dataset_id UUID NOT NULL REFERENCES datasets(id),
    number     INTEGER NOT NULL,
    blob_key   TEXT NOT NULL DEFAULT '',
    filename   TEXT NOT NULL DEFAULT '',
    size       BIGINT NOT NULL DEFAULT 0,
    sha256     TEXT NOT NULL DEFAULT '',
    media_type TEXT NOT NULL DEFAULT '',
    encoding   TEXT NOT NULL DEFAULT '',
    rows       BIGINT NOT NULL DEFAULT 0,
    columns    JSONB NOT NULL DEFAULT '[]',
    row_table  TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'failed')),
    error      TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    ready_at   TIMESTAMPTZ,
    UNIQUE (dataset_id, number)
);

-- Writers take an advisory transaction lock before inserting here, so seq
-- order is commit order and a consumer's cursor never skips a late commit.
CREATE TABLE outbox (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset_id UUID NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE consumer_cursors (
    name       TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
