-- Conditional access: applications, their events, grants, API keys and the
-- audit chain. User ids are plain text: accounts live in their own tables.
CREATE TABLE access_applications (
    id           TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL,
    agency_id    TEXT NOT NULL,
    scenario     TEXT NOT NULL,
    purpose      TEXT NOT NULL DEFAULT '',
    requests JSONB NOT NULL DEFAULT '[]',
    period_from TIMESTAMPTZ NOT NULL,
    period_to TIMESTAMPTZ NOT NULL,
    volume       TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN ('submitted', 'approved', 'rejected', 'withdrawn', 'expired', 'revoked')),
    due_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ,
    decided_by   TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_applications_applicant ON access_applications (applicant_id, due_at);
CREATE INDEX access_applications_agency ON access_applications (agency_id, state, due_at);

CREATE TABLE access_application_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    actor          TEXT NOT NULL,
    from_state     TEXT NOT NULL DEFAULT '',
    to_state       TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_application_events_app ON access_application_events (application_id, id);

CREATE TABLE access_grants (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    holder_id      TEXT NOT NULL,
    agency_id      TEXT NOT NULL,
    dataset_id     TEXT NOT NULL,
    fields JSONB NOT NULL DEFAULT '[]',
    modes JSONB NOT NULL DEFAULT '[]',
    masks JSONB NOT NULL DEFAULT '{}',
    rate BIGINT NOT NULL CHECK (rate > 0),
    rate_period    TEXT NOT NULL CHECK (rate_period IN ('second', 'minute')),
    quota BIGINT NOT NULL CHECK (quota > 0),
    quota_period   TEXT NOT NULL CHECK (quota_period IN ('day', 'month')),
    period_from TIMESTAMPTZ NOT NULL,
    period_to TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_grants_app ON access_grants (application_id);

CREATE TABLE access_keys (
    id             TEXT PRIMARY KEY,
    prefix         TEXT NOT NULL,
    hash           BYTEA NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    user_id        TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    grant_ids JSONB NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX access_keys_user ON access_keys (user_id, created_at);

-- Append-only; each row carries the hash of the one before it.
CREATE TABLE access_audit (
    seq            BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    day            TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    application_id TEXT NOT NULL,
    grant_id       TEXT NOT NULL DEFAULT '',
    agency_id      TEXT NOT NULL,
    dataset_id     TEXT NOT NULL,
    mode           TEXT NOT NULL,
    fields JSONB NOT NULL DEFAULT '[]',
    filter         TEXT NOT NULL DEFAULT '',
    rows_returned BIGINT NOT NULL DEFAULT 0,
    status         INTEGER NOT NULL,
    request_id     TEXT NOT NULL DEFAULT '',
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX access_audit_user_day ON access_audit (user_id, day);
CREATE INDEX access_audit_agency_day ON access_audit (agency_id, day);
