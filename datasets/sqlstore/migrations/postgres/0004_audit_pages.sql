-- The audit chain is stored a group commit at a time: one row holds the
-- records one batch linked (JSON, in chain order), so a batch costs one
-- row and one index entry whatever its size, instead of a row and three
-- index entries per record (BENCHMARKS.md, session six). Records still
-- carry their own sequence number and hashes; `kaifang audit verify` walks
-- them one by one. Usage is counted in access_usage in the same
-- transaction, one row per day, key, grant and entry.
CREATE TABLE access_audit_pages (
    last_seq  BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    records   TEXT NOT NULL
);
-- A page of 18 records is about 14 kB of JSON that repeats its ids: LZ4
-- makes it about 2 kB, mostly kept in the row instead of seven TOAST
-- chunks, and took 2-5 µs less of the database's CPU per record than
-- storing it uncompressed. PostgreSQL built without LZ4 keeps its default.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE access_audit_pages ALTER COLUMN records SET COMPRESSION lz4;
    END IF;
END
$$;

CREATE TABLE access_usage (
    day           TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    grant_id      TEXT NOT NULL,
    dataset_id    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    agency_id     TEXT NOT NULL,
    requests      BIGINT NOT NULL,
    allowed       BIGINT NOT NULL,
    rows_returned BIGINT NOT NULL,
    PRIMARY KEY (day, key_id, grant_id, dataset_id)
);
CREATE INDEX access_usage_user_day ON access_usage (user_id, day);
CREATE INDEX access_usage_agency_day ON access_usage (agency_id, day);

-- Records written before this migration become pages of one record each,
-- in the JSON the store writes (times as RFC 3339 UTC with microseconds).
INSERT INTO access_usage (day, key_id, grant_id, dataset_id, user_id, agency_id, requests, allowed, rows_returned)
SELECT day, key_id, grant_id, dataset_id, min(user_id), min(agency_id), count(*),
       sum(CASE WHEN status >= 200 AND status < 300 THEN 1 ELSE 0 END), sum(rows_returned)
FROM access_audit GROUP BY day, key_id, grant_id, dataset_id;

INSERT INTO access_audit_pages (last_seq, first_seq, last_hash, records)
SELECT seq, seq, hash, json_build_array(json_build_object(
    'seq', seq, 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'key_id', key_id, 'user_id', user_id, 'application_id', application_id, 'grant_id', grant_id,
    'agency_id', agency_id, 'dataset_id', dataset_id, 'mode', mode, 'fields', fields, 'filter', filter,
    'rows', rows_returned, 'status', status, 'request_id', request_id, 'prev_hash', prev_hash, 'hash', hash))::text
FROM access_audit;

DROP TABLE access_audit;
