package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kaifang/datasets"
)

const versionCols = `id, dataset_id, number, blob_key, filename, size, sha256, media_type, encoding,
	rows, columns, row_table, state, error, created_by, created_at, ready_at`

const versionColsV = `v.id, v.dataset_id, v.number, v.blob_key, v.filename, v.size, v.sha256, v.media_type, v.encoding,
	v.rows, v.columns, v.row_table, v.state, v.error, v.created_by, v.created_at, v.ready_at`

// versionScan reads a version that may be absent (the LEFT JOIN of an entry
// without a current version).
type versionScan struct {
	id, datasetID, blobKey, filename, sha, media, enc, table, state, errText, by sql.NullString
	number, size, rows                                                           sql.NullInt64
	columns                                                                      []datasets.Field
	created, ready                                                               timeScan
}

func (v *versionScan) dest() []any {
	return []any{&v.id, &v.datasetID, &v.number, &v.blobKey, &v.filename, &v.size, &v.sha, &v.media, &v.enc,
		&v.rows, jsonScan{&v.columns}, &v.table, &v.state, &v.errText, &v.by, &v.created, &v.ready}
}

func (v *versionScan) version() *datasets.Version {
	if !v.id.Valid {
		return nil
	}
	return &datasets.Version{
		ID: v.id.String, DatasetID: v.datasetID.String, Number: int(v.number.Int64), BlobKey: v.blobKey.String,
		Filename: v.filename.String, Size: v.size.Int64, SHA256: v.sha.String, MediaType: v.media.String,
		Encoding: v.enc.String, Rows: v.rows.Int64, Columns: v.columns, RowTable: v.table.String,
		State: datasets.VersionState(v.state.String), Error: v.errText.String, CreatedBy: v.by.String,
		CreatedAt: v.created.t, ReadyAt: v.ready.ptr(),
	}
}

func (s *Store) versions(ctx context.Context, q queryer, cond string, args ...any) ([]datasets.Version, error) {
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT `+versionCols+` FROM versions WHERE `+cond), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vs := []datasets.Version{}
	for rows.Next() {
		var v versionScan
		if err := rows.Scan(v.dest()...); err != nil {
			return nil, err
		}
		vs = append(vs, *v.version())
	}
	return vs, rows.Err()
}

// CreateVersion stores a pending version with the next number for its entry.
func (s *Store) CreateVersion(ctx context.Context, v *datasets.Version) error {
	if !validUUID(v.DatasetID) {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	id, err := newID(v.ID, "version")
	if err != nil {
		return err
	}
	if v.RowTable != "" && !validTable(v.RowTable) {
		return datasets.Errorf(datasets.EINVALID, "row table name %q must match %s", v.RowTable, tableNamePattern)
	}
	t := now()
	return s.tx(ctx, "create version", func(tx *sql.Tx) error {
		// Locking the entry row makes concurrent CreateVersion calls number
		// one after the other instead of colliding.
		var got string
		err := tx.QueryRowContext(ctx, s.d.q(`SELECT id FROM datasets WHERE id = ?`+s.d.forUpdate), v.DatasetID).Scan(&got)
		if err == sql.ErrNoRows {
			return datasets.Errorf(datasets.ENOTFOUND, "dataset %s not found", v.DatasetID)
		} else if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE dataset_id = ?`), v.DatasetID).Scan(&n); err != nil {
			return err
		}
		v.ID, v.Number, v.State, v.Error, v.ReadyAt = id, n, datasets.VersionPending, "", nil
		if v.CreatedAt.IsZero() {
			v.CreatedAt = t
		}
		v.CreatedAt = v.CreatedAt.UTC().Truncate(timeUnit)
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO versions (`+versionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			v.ID, v.DatasetID, v.Number, v.BlobKey, v.Filename, v.Size, v.SHA256, v.MediaType, v.Encoding,
			v.Rows, jsonText(v.Columns), v.RowTable, string(v.State), "", v.CreatedBy, s.d.ts(v.CreatedAt), nil)
		return err
	})
}

// FinishVersion records a version's final state; a ready version becomes
// current in the same transaction. ECONFLICT if it is not pending.
func (s *Store) FinishVersion(ctx context.Context, v *datasets.Version) error {
	defer s.gen.Add(1)
	if v.State != datasets.VersionReady && v.State != datasets.VersionFailed {
		return datasets.Errorf(datasets.EINVALID, "a version finishes as ready or failed, not %q", v.State)
	}
	if v.State == datasets.VersionFailed && v.Error == "" {
		return datasets.Errorf(datasets.EINVALID, "a failed version needs an error")
	}
	if !validUUID(v.ID) {
		return datasets.Errorf(datasets.ENOTFOUND, "version not found")
	}
	if v.RowTable != "" && !validTable(v.RowTable) {
		return datasets.Errorf(datasets.EINVALID, "row table name %q must match %s", v.RowTable, tableNamePattern)
	}
	t := now()
	return s.tx(ctx, "finish version", func(tx *sql.Tx) error {
		old, err := s.versions(ctx, tx, `id = ?`+s.d.forUpdate, v.ID)
		if err != nil {
			return err
		}
		if len(old) == 0 {
			return datasets.Errorf(datasets.ENOTFOUND, "version %s not found", v.ID)
		}
		if old[0].State != datasets.VersionPending {
			return datasets.Errorf(datasets.ECONFLICT, "version %d is already %s", old[0].Number, old[0].State)
		}
		var ready any
		if v.State == datasets.VersionReady {
			ready, v.Error = s.d.ts(t), ""
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE versions SET blob_key = ?, filename = ?, size = ?, sha256 = ?,
			media_type = ?, encoding = ?, rows = ?, columns = ?, row_table = ?, state = ?, error = ?, ready_at = ?
			WHERE id = ?`),
			v.BlobKey, v.Filename, v.Size, v.SHA256, v.MediaType, v.Encoding, v.Rows, jsonText(v.Columns),
			v.RowTable, string(v.State), v.Error, ready, v.ID)
		if err != nil {
			return err
		}
		if v.State == datasets.VersionReady {
			if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE datasets SET current_version = ?, updated_at = ? WHERE id = ?`),
				old[0].Number, s.d.ts(t), old[0].DatasetID); err != nil {
				return err
			}
			c := datasets.Change{Actor: v.CreatedBy, Action: "version",
				Summary: fmt.Sprintf("version %d: %s, %d bytes, %d rows", old[0].Number, v.Filename, v.Size, v.Rows)}
			if err := s.record(ctx, tx, old[0].DatasetID, c, t); err != nil {
				return err
			}
		}
		got, err := s.versions(ctx, tx, `id = ?`, v.ID)
		if err == nil {
			*v = got[0]
		}
		return err
	})
}

// Version returns one version of an entry by number.
func (s *Store) Version(ctx context.Context, datasetID string, number int) (*datasets.Version, error) {
	if !validUUID(datasetID) {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "version not found")
	}
	vs, err := s.versions(ctx, s.db, `dataset_id = ? AND number = ?`, datasetID, number)
	if err != nil {
		return nil, s.fail(err, "version")
	}
	if len(vs) == 0 {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "version %d not found", number)
	}
	return &vs[0], nil
}

// Versions lists an entry's versions, newest first.
func (s *Store) Versions(ctx context.Context, datasetID string) ([]datasets.Version, error) {
	if !validUUID(datasetID) {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	vs, err := s.versions(ctx, s.db, `dataset_id = ? ORDER BY number DESC`, datasetID)
	return vs, s.fail(err, "versions")
}

// PendingVersions lists pending versions created before before, oldest first.
func (s *Store) PendingVersions(ctx context.Context, before time.Time, limit int) ([]datasets.Version, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	vs, err := s.versions(ctx, s.db, fmt.Sprintf(`state = ? AND created_at < ? ORDER BY created_at, id LIMIT %d`, limit),
		string(datasets.VersionPending), s.d.ts(before.UTC()))
	return vs, s.fail(err, "pending versions")
}

// Outbox returns up to limit events with Seq > after, in order.
func (s *Store) Outbox(ctx context.Context, after int64, limit int) ([]datasets.OutboxEvent, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(fmt.Sprintf(`SELECT seq, dataset_id, at FROM outbox WHERE seq > ? ORDER BY seq LIMIT %d`, limit)), after)
	if err != nil {
		return nil, s.fail(err, "outbox")
	}
	defer rows.Close()
	es := []datasets.OutboxEvent{}
	for rows.Next() {
		var e datasets.OutboxEvent
		var at timeScan
		if err := rows.Scan(&e.Seq, &e.DatasetID, &at); err != nil {
			return nil, s.fail(err, "outbox")
		}
		e.At = at.t
		es = append(es, e)
	}
	return es, s.fail(rows.Err(), "outbox")
}

// Cursor returns the last applied outbox seq of a named consumer (0 if none).
func (s *Store) Cursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT seq FROM consumer_cursors WHERE name = ?`), name).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return seq, s.fail(err, "cursor")
}

// SetCursor records the last applied outbox seq of a named consumer.
func (s *Store) SetCursor(ctx context.Context, name string, seq int64) error {
	if name == "" {
		return datasets.Errorf(datasets.EINVALID, "a cursor needs a name")
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO consumer_cursors (name, seq, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`), name, seq, s.d.ts(now()))
	return s.fail(err, "set cursor")
}
