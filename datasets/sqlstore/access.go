package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"kaifang/datasets"
)

var _ datasets.Access = (*Store)(nil)

// shanghai is China Standard Time; China keeps no daylight saving, so a
// fixed zone is exact and needs no tzdata on the host.
var shanghai = time.FixedZone("CST", 8*3600)

const appCols = `id, applicant_id, agency_id, scenario, purpose, requests, period_from, period_to, volume,
	state, due_at, decided_at, decided_by, reason, created_at, updated_at`

func validApplication(a *datasets.Application) error {
	var ps []datasets.Problem
	add := func(f, m string) { ps = append(ps, datasets.Problem{Field: f, Message: m}) }
	if strings.TrimSpace(a.ApplicantID) == "" {
		add("applicant_id", "is required")
	}
	if strings.TrimSpace(a.AgencyID) == "" {
		add("agency_id", "is required")
	}
	if !slices.Contains(datasets.ApplicationStates, a.State) {
		add("state", "unknown state "+string(a.State))
	}
	if len(ps) > 0 {
		return &datasets.Error{Code: datasets.EINVALID, Message: "invalid application: " + ps[0].String(), Problems: ps}
	}
	return nil
}

// CreateApplication stores a new application with its first event.
func (s *Store) CreateApplication(ctx context.Context, a *datasets.Application, e datasets.ApplicationEvent) error {
	if err := validApplication(a); err != nil {
		return err
	}
	id, err := newID(a.ID, "application")
	if err != nil {
		return err
	}
	t := now()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = t
	}
	a.ID, a.UpdatedAt = id, t
	a.CreatedAt = a.CreatedAt.UTC().Truncate(timeUnit)
	return s.tx(ctx, "create application", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO access_applications (`+appCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.ID, a.ApplicantID, a.AgencyID, a.Scenario, a.Purpose, jsonText(a.Requests),
			s.d.ts(a.From), s.d.ts(a.To), a.Volume, string(a.State), s.d.ts(a.DueAt),
			s.d.tsPtr(a.DecidedAt), a.DecidedBy, a.Reason, s.d.ts(a.CreatedAt), s.d.ts(a.UpdatedAt))
		if err != nil {
			return err
		}
		e.ApplicationID = a.ID
		return s.insertEvent(ctx, tx, &e)
	})
}

func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, e *datasets.ApplicationEvent) error {
	if e.At.IsZero() {
		e.At = now()
	}
	_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO access_application_events (application_id, actor, from_state, to_state, reason, at)
		VALUES (?, ?, ?, ?, ?, ?)`), e.ApplicationID, e.Actor, string(e.From), string(e.To), e.Reason, s.d.ts(e.At))
	return err
}

type rowScanner interface{ Scan(...any) error }

func scanApplication(r rowScanner) (*datasets.Application, error) {
	var a datasets.Application
	var from, to, due, decided, created, updated timeScan
	var state string
	if err := r.Scan(&a.ID, &a.ApplicantID, &a.AgencyID, &a.Scenario, &a.Purpose, jsonScan{&a.Requests},
		&from, &to, &a.Volume, &state, &due, &decided, &a.DecidedBy, &a.Reason, &created, &updated); err != nil {
		return nil, err
	}
	a.State = datasets.ApplicationState(state)
	a.From, a.To, a.DueAt, a.DecidedAt, a.CreatedAt, a.UpdatedAt = from.t, to.t, due.t, decided.ptr(), created.t, updated.t
	return &a, nil
}

// Application returns one application.
func (s *Store) Application(ctx context.Context, id string) (*datasets.Application, error) {
	a, err := scanApplication(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+appCols+` FROM access_applications WHERE id = ?`), id))
	if err != nil {
		return nil, s.fail(err, "application")
	}
	return a, nil
}

// Applications lists applications by due date, oldest first.
func (s *Store) Applications(ctx context.Context, f datasets.ApplicationFilter) ([]datasets.Application, error) {
	var where []string
	var args []any
	if f.ApplicantID != "" {
		where, args = append(where, "applicant_id = ?"), append(args, f.ApplicantID)
	}
	if f.AgencyID != "" {
		where, args = append(where, "agency_id = ?"), append(args, f.AgencyID)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ", ")+")")
	}
	q := `SELECT ` + appCols + ` FROM access_applications`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY due_at, created_at, id"
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, s.fail(err, "list applications")
	}
	defer rows.Close()
	var out []datasets.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, s.fail(err, "list applications")
		}
		out = append(out, *a)
	}
	return out, s.fail(rows.Err(), "list applications")
}

// DecideApplication moves an application out of state from, with its event
// and grants, in one transaction.
func (s *Store) DecideApplication(ctx context.Context, a *datasets.Application, from datasets.ApplicationState, e datasets.ApplicationEvent, grants []datasets.Grant) error {
	if err := validApplication(a); err != nil {
		return err
	}
	a.UpdatedAt = now()
	return s.tx(ctx, "decide application", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE access_applications SET state = ?, decided_at = ?, decided_by = ?, reason = ?, updated_at = ?
			WHERE id = ? AND state = ?`),
			string(a.State), s.d.tsPtr(a.DecidedAt), a.DecidedBy, a.Reason, s.d.ts(a.UpdatedAt), a.ID, string(from))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var st string
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT state FROM access_applications WHERE id = ?`), a.ID).Scan(&st); err != nil {
				return err
			}
			return datasets.Errorf(datasets.ECONFLICT, "application is %s, not %s", st, from)
		}
		e.ApplicationID, e.From, e.To = a.ID, from, a.State
		if err := s.insertEvent(ctx, tx, &e); err != nil {
			return err
		}
		for i := range grants {
			if err := s.insertGrant(ctx, tx, &grants[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ApplicationEvents lists an application's events, oldest first.
func (s *Store) ApplicationEvents(ctx context.Context, id string) ([]datasets.ApplicationEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id, application_id, actor, from_state, to_state, reason, at
		FROM access_application_events WHERE application_id = ? ORDER BY id`), id)
	if err != nil {
		return nil, s.fail(err, "application events")
	}
	defer rows.Close()
	var out []datasets.ApplicationEvent
	for rows.Next() {
		var e datasets.ApplicationEvent
		var from, to string
		var at timeScan
		if err := rows.Scan(&e.ID, &e.ApplicationID, &e.Actor, &from, &to, &e.Reason, &at); err != nil {
			return nil, s.fail(err, "application events")
		}
		e.From, e.To, e.At = datasets.ApplicationState(from), datasets.ApplicationState(to), at.t
		out = append(out, e)
	}
	return out, s.fail(rows.Err(), "application events")
}

const grantCols = `id, application_id, holder_id, agency_id, dataset_id, fields, modes, masks, rate, rate_period,
	quota, quota_period, period_from, period_to, revoked_at, created_at`

func (s *Store) insertGrant(ctx context.Context, tx *sql.Tx, g *datasets.Grant) error {
	id, err := newID(g.ID, "grant")
	if err != nil {
		return err
	}
	g.ID = id
	if g.CreatedAt.IsZero() {
		g.CreatedAt = now()
	}
	masks, err := json.Marshal(g.Masks)
	if err != nil || string(masks) == "null" {
		masks = []byte("{}")
	}
	_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO access_grants (`+grantCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		g.ID, g.ApplicationID, g.HolderID, g.AgencyID, g.DatasetID, jsonText(g.Fields), jsonText(g.Modes), string(masks),
		g.Rate, g.RatePeriod, g.Quota, g.QuotaPeriod, s.d.ts(g.From), s.d.ts(g.To), s.d.tsPtr(g.RevokedAt), s.d.ts(g.CreatedAt))
	return err
}

// Grants lists the grants of an application.
func (s *Store) Grants(ctx context.Context, applicationID string) ([]datasets.Grant, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+grantCols+` FROM access_grants WHERE application_id = ? ORDER BY created_at, id`), applicationID)
	if err != nil {
		return nil, s.fail(err, "grants")
	}
	defer rows.Close()
	var out []datasets.Grant
	for rows.Next() {
		var g datasets.Grant
		var from, to, revoked, created timeScan
		if err := rows.Scan(&g.ID, &g.ApplicationID, &g.HolderID, &g.AgencyID, &g.DatasetID, jsonScan{&g.Fields}, jsonScan{&g.Modes},
			jsonScan{&g.Masks}, &g.Rate, &g.RatePeriod, &g.Quota, &g.QuotaPeriod, &from, &to, &revoked, &created); err != nil {
			return nil, s.fail(err, "grants")
		}
		g.From, g.To, g.RevokedAt, g.CreatedAt = from.t, to.t, revoked.ptr(), created.t
		out = append(out, g)
	}
	return out, s.fail(rows.Err(), "grants")
}

// RevokeGrants marks every grant of an application revoked at t.
func (s *Store) RevokeGrants(ctx context.Context, applicationID string, t time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`UPDATE access_grants SET revoked_at = ? WHERE application_id = ? AND revoked_at IS NULL`),
		s.d.ts(t), applicationID)
	return s.fail(err, "revoke grants")
}

const keyCols = `id, prefix, hash, name, user_id, application_id, grant_ids, created_at, expires_at, revoked_at`

// CreateKey stores a key; ECONFLICT if its hash is taken.
func (s *Store) CreateKey(ctx context.Context, k *datasets.APIKey) error {
	if len(k.Hash) == 0 || k.UserID == "" || k.ApplicationID == "" {
		return datasets.Errorf(datasets.EINVALID, "a key needs a hash, a user and an application")
	}
	id, err := newID(k.ID, "key")
	if err != nil {
		return err
	}
	k.ID = id
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO access_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.Prefix, k.Hash, k.Name, k.UserID, k.ApplicationID, jsonText(k.GrantIDs),
		s.d.ts(k.CreatedAt), s.d.ts(k.ExpiresAt), s.d.tsPtr(k.RevokedAt))
	return s.fail(err, "create key")
}

func scanKey(r rowScanner) (*datasets.APIKey, error) {
	var k datasets.APIKey
	var created, expires, revoked timeScan
	if err := r.Scan(&k.ID, &k.Prefix, &k.Hash, &k.Name, &k.UserID, &k.ApplicationID, jsonScan{&k.GrantIDs},
		&created, &expires, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = created.t, expires.t, revoked.ptr()
	return &k, nil
}

// KeyByHash finds a key by the HMAC of its secret, through the unique index.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (*datasets.APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+keyCols+` FROM access_keys WHERE hash = ?`), hash))
	if err != nil {
		return nil, s.fail(err, "key")
	}
	return k, nil
}

// Key returns one key by id.
func (s *Store) Key(ctx context.Context, id string) (*datasets.APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+keyCols+` FROM access_keys WHERE id = ?`), id))
	if err != nil {
		return nil, s.fail(err, "key")
	}
	return k, nil
}

// Keys lists a user's keys, newest first.
func (s *Store) Keys(ctx context.Context, userID string) ([]datasets.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+keyCols+` FROM access_keys WHERE user_id = ? ORDER BY created_at DESC, id`), userID)
	if err != nil {
		return nil, s.fail(err, "keys")
	}
	defer rows.Close()
	var out []datasets.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, s.fail(err, "keys")
		}
		out = append(out, *k)
	}
	return out, s.fail(rows.Err(), "keys")
}

// RevokeKey marks a key revoked; revoking twice keeps the first time.
func (s *Store) RevokeKey(ctx context.Context, id string, t time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE access_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`), s.d.ts(t), id)
	if err != nil {
		return s.fail(err, "revoke key")
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return datasets.Errorf(datasets.ENOTFOUND, "no such key")
	}
	return nil
}

// AuditRecords returns up to limit records with Seq > after, in order,
// read from the pages that hold them. A page that does not decode is
// reported as an EINTERNAL error naming the records it spans: the chain
// was altered there.
func (s *Store) AuditRecords(ctx context.Context, after int64, limit int) ([]datasets.AuditRecord, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	// Every page holds at least one record, so limit pages are enough.
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT first_seq, last_seq, records FROM access_audit_pages
		WHERE last_seq > ? ORDER BY last_seq LIMIT ?`), after, limit)
	if err != nil {
		return nil, s.fail(err, "audit records")
	}
	defer rows.Close()
	var out []datasets.AuditRecord
	for rows.Next() && len(out) < limit {
		var first, last int64
		var body string
		if err := rows.Scan(&first, &last, &body); err != nil {
			return nil, s.fail(err, "audit records")
		}
		var page []datasets.AuditRecord
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			return nil, datasets.Wrap(err, datasets.EINTERNAL, "audit records %d to %d are unreadable: their page was altered", first, last)
		}
		for _, r := range page {
			if r.Seq > after && len(out) < limit {
				out = append(out, r)
			}
		}
	}
	return out, s.fail(rows.Err(), "audit records")
}

// Usage returns the counts of conditional requests per day, key, grant and
// entry, kept beside the audit chain in the transactions that extend it.
func (s *Store) Usage(ctx context.Context, f datasets.UsageFilter) ([]datasets.Usage, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{
		{"user_id", f.UserID}, {"agency_id", f.AgencyID}, {"dataset_id", f.DatasetID}, {"key_id", f.KeyID},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if f.From != "" {
		where, args = append(where, "day >= ?"), append(args, f.From)
	}
	if f.To != "" {
		where, args = append(where, "day <= ?"), append(args, f.To)
	}
	q := `SELECT day, key_id, grant_id, dataset_id, requests, allowed, rows_returned FROM access_usage`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY day, key_id, grant_id, dataset_id"
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, s.fail(err, "usage")
	}
	defer rows.Close()
	var out []datasets.Usage
	for rows.Next() {
		var u datasets.Usage
		if err := rows.Scan(&u.Day, &u.KeyID, &u.GrantID, &u.DatasetID, &u.Requests, &u.Allowed, &u.Rows); err != nil {
			return nil, s.fail(err, "usage")
		}
		out = append(out, u)
	}
	return out, s.fail(rows.Err(), "usage")
}
