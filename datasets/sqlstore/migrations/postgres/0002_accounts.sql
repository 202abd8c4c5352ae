-- Accounts, personal access tokens, failed sign-ins and opening reviews.
-- Owned by the accounts work (see datasets.Accounts).
CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE "C",
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'publisher', 'reviewer', 'developer')),
    agency_id     UUID REFERENCES agencies(id),
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    disabled_at   TIMESTAMPTZ
);

-- Tokens are found by their HMAC through the unique index, never by a scan.
CREATE TABLE tokens (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX tokens_user ON tokens (user_id, created_at);

-- One row per failed sign-in, so the throttle holds across processes.
CREATE TABLE login_failures (
    id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE entry_reviews (
    id                   UUID PRIMARY KEY,
    dataset_id           UUID NOT NULL REFERENCES datasets(id),
    reviewer_id          TEXT NOT NULL,
    decision             TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    legality_ok          BOOLEAN NOT NULL,
    legality_note        TEXT NOT NULL DEFAULT '',
    confidentiality_ok   BOOLEAN NOT NULL,
    confidentiality_note TEXT NOT NULL DEFAULT '',
    privacy_ok           BOOLEAN NOT NULL,
    privacy_note         TEXT NOT NULL DEFAULT '',
    reason               TEXT NOT NULL DEFAULT '',
    at                   TIMESTAMPTZ NOT NULL
);
CREATE INDEX entry_reviews_dataset ON entry_reviews (dataset_id, at);
