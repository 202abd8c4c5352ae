package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"kaifang/datasets"
)

var _ datasets.Accounts = (*Store)(nil)

const userCols = `id, email, name, role, agency_id, password_hash, created_at, disabled_at`

func (s *Store) scanUser(row interface{ Scan(...any) error }) (*datasets.User, error) {
	var u datasets.User
	var role string
	var agency sql.NullString
	var created, disabled timeScan
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &agency, &u.PasswordHash, &created, &disabled); err != nil {
		return nil, err
	}
	u.Role, u.AgencyID, u.CreatedAt, u.DisabledAt = datasets.Role(role), agency.String, created.t, disabled.ptr()
	return &u, nil
}

func validUser(u *datasets.User) error {
	var ps []datasets.Problem
	if !strings.Contains(u.Email, "@") || len(u.Email) > 254 {
		ps = append(ps, datasets.Problem{Field: "email", Message: "must be an email address"})
	}
	if !u.Role.Valid() {
		ps = append(ps, datasets.Problem{Field: "role", Message: "must be admin, publisher, reviewer or developer"})
	}
	if u.Role.NeedsAgency() && !validUUID(u.AgencyID) {
		ps = append(ps, datasets.Problem{Field: "agency", Message: "publishers and reviewers belong to one agency"})
	}
	if !u.Role.NeedsAgency() && u.AgencyID != "" {
		ps = append(ps, datasets.Problem{Field: "agency", Message: "only publishers and reviewers belong to an agency"})
	}
	if len(ps) > 0 {
		return &datasets.Error{Code: datasets.EINVALID, Message: "invalid user: " + ps[0].String(), Problems: ps}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateUser stores a new user. ECONFLICT if the email is taken.
func (s *Store) CreateUser(ctx context.Context, u *datasets.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if err := validUser(u); err != nil {
		return err
	}
	id, err := newID(u.ID, "user")
	if err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.ID, u.CreatedAt = id, u.CreatedAt.UTC().Truncate(timeUnit)
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		u.ID, u.Email, u.Name, string(u.Role), nullable(u.AgencyID), u.PasswordHash, s.d.ts(u.CreatedAt), s.d.tsPtr(u.DisabledAt))
	return s.fail(err, "user "+u.Email)
}

// UpdateUser changes name, role, agency, password hash and disabled time.
func (s *Store) UpdateUser(ctx context.Context, u *datasets.User) error {
	if !validUUID(u.ID) {
		return datasets.Errorf(datasets.ENOTFOUND, "user not found")
	}
	if err := validUser(u); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE users SET name = ?, role = ?, agency_id = ?, password_hash = ?, disabled_at = ? WHERE id = ?`),
		u.Name, string(u.Role), nullable(u.AgencyID), u.PasswordHash, s.d.tsPtr(u.DisabledAt), u.ID)
	if err != nil {
		return s.fail(err, "update user")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return datasets.Errorf(datasets.ENOTFOUND, "user not found")
	}
	return nil
}

// User returns the user with this id.
func (s *Store) User(ctx context.Context, id string) (*datasets.User, error) {
	if !validUUID(id) {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "user not found")
	}
	u, err := s.scanUser(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+userCols+` FROM users WHERE id = ?`), id))
	return u, s.fail(err, "user")
}

// UserByEmail returns the user with this email, in any case.
func (s *Store) UserByEmail(ctx context.Context, email string) (*datasets.User, error) {
	u, err := s.scanUser(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+userCols+` FROM users WHERE email = ?`),
		strings.ToLower(strings.TrimSpace(email))))
	return u, s.fail(err, "user")
}

// Users lists every user by email.
func (s *Store) Users(ctx context.Context) ([]datasets.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY email`)
	if err != nil {
		return nil, s.fail(err, "users")
	}
	defer rows.Close()
	us := []datasets.User{}
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			return nil, s.fail(err, "users")
		}
		us = append(us, *u)
	}
	return us, s.fail(rows.Err(), "users")
}

const tokenCols = `id, user_id, name, prefix, hash, created_at, expires_at, revoked_at, last_used_at`

func scanToken(row interface{ Scan(...any) error }) (*datasets.Token, error) {
	var t datasets.Token
	var created, expires, revoked, used timeScan
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.Hash, &created, &expires, &revoked, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = created.t, expires.ptr(), revoked.ptr(), used.ptr()
	return &t, nil
}

// CreateToken stores a token. ECONFLICT if the hash is already stored.
func (s *Store) CreateToken(ctx context.Context, t *datasets.Token) error {
	if !validUUID(t.UserID) {
		return datasets.Errorf(datasets.EINVALID, "token user id must be a UUID")
	}
	if t.Hash == "" || t.Prefix == "" {
		return datasets.Errorf(datasets.EINVALID, "token needs a hash and a prefix")
	}
	id, err := newID(t.ID, "token")
	if err != nil {
		return err
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now()
	}
	t.ID, t.CreatedAt = id, t.CreatedAt.UTC().Truncate(timeUnit)
	if t.ExpiresAt != nil {
		e := t.ExpiresAt.UTC().Truncate(timeUnit)
		t.ExpiresAt = &e
	}
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.UserID, t.Name, t.Prefix, t.Hash, s.d.ts(t.CreatedAt), s.d.tsPtr(t.ExpiresAt), s.d.tsPtr(t.RevokedAt), s.d.tsPtr(t.LastUsedAt))
	return s.fail(err, "token")
}

// TokenByHash finds a token by its HMAC through the unique index.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*datasets.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+tokenCols+` FROM tokens WHERE hash = ?`), hash))
	return t, s.fail(err, "token")
}

// Tokens lists a user's tokens, newest first.
func (s *Store) Tokens(ctx context.Context, userID string) ([]datasets.Token, error) {
	ts := []datasets.Token{}
	if !validUUID(userID) {
		return ts, nil
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+tokenCols+` FROM tokens WHERE user_id = ? ORDER BY created_at DESC, id`), userID)
	if err != nil {
		return nil, s.fail(err, "tokens")
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.fail(err, "tokens")
		}
		ts = append(ts, *t)
	}
	return ts, s.fail(rows.Err(), "tokens")
}

// RevokeToken marks the user's token revoked; the first revocation time stays.
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID string, t time.Time) error {
	if !validUUID(userID) || !validUUID(tokenID) {
		return datasets.Errorf(datasets.ENOTFOUND, "token not found")
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user_id = ?`),
		s.d.ts(t), tokenID, userID)
	if err != nil {
		return s.fail(err, "revoke token")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return datasets.Errorf(datasets.ENOTFOUND, "token not found")
	}
	return nil
}

// TouchToken records that the token was used at t.
func (s *Store) TouchToken(ctx context.Context, tokenID string, t time.Time) error {
	if !validUUID(tokenID) {
		return datasets.Errorf(datasets.ENOTFOUND, "token not found")
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`UPDATE tokens SET last_used_at = ? WHERE id = ?`), s.d.ts(t), tokenID)
	return s.fail(err, "touch token")
}

// LoginFailures counts failures under key since since, and the oldest one.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest timeScan
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*), min(at) FROM login_failures WHERE key = ? AND at >= ?`),
		key, s.d.ts(since)).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, s.fail(err, "login failures")
	}
	return n, oldest.t, nil
}

// RecordLoginFailure records a failed sign-in under key at t.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, t time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO login_failures (key, at) VALUES (?, ?)`), key, s.d.ts(t))
	return s.fail(err, "record login failure")
}

// ClearLoginFailures forgets key's failures and every failure before before.
func (s *Store) ClearLoginFailures(ctx context.Context, key string, before time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM login_failures WHERE key = ? OR at < ?`), key, s.d.ts(before))
	return s.fail(err, "clear login failures")
}

const reviewCols = `id, dataset_id, reviewer_id, decision, legality_ok, legality_note, confidentiality_ok,
	confidentiality_note, privacy_ok, privacy_note, reason, at`

// AddReview stores an opening-review record.
func (s *Store) AddReview(ctx context.Context, r *datasets.Review) error {
	if !validUUID(r.DatasetID) {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	if r.Decision != datasets.Approve && r.Decision != datasets.Reject {
		return datasets.Errorf(datasets.EINVALID, "decision must be approve or reject")
	}
	id, err := newID(r.ID, "review")
	if err != nil {
		return err
	}
	if r.At.IsZero() {
		r.At = now()
	}
	r.ID, r.At = id, r.At.UTC().Truncate(timeUnit)
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO entry_reviews (`+reviewCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, r.DatasetID, r.ReviewerID, r.Decision, r.Legality.OK, r.Legality.Note, r.Confidentiality.OK,
		r.Confidentiality.Note, r.Privacy.OK, r.Privacy.Note, r.Reason, s.d.ts(r.At))
	if datasets.IsCode(s.fail(err, ""), datasets.EINVALID) {
		// The only reference is the entry: a foreign-key refusal means it is gone.
		return datasets.Wrap(err, datasets.ENOTFOUND, "dataset not found")
	}
	return s.fail(err, "add review")
}

// Reviews lists an entry's review records, newest first.
func (s *Store) Reviews(ctx context.Context, datasetID string) ([]datasets.Review, error) {
	rs := []datasets.Review{}
	if !validUUID(datasetID) {
		return rs, nil
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+reviewCols+` FROM entry_reviews WHERE dataset_id = ? ORDER BY at DESC, id`), datasetID)
	if err != nil {
		return nil, s.fail(err, "reviews")
	}
	defer rows.Close()
	for rows.Next() {
		var r datasets.Review
		var at timeScan
		if err := rows.Scan(&r.ID, &r.DatasetID, &r.ReviewerID, &r.Decision, &r.Legality.OK, &r.Legality.Note,
			&r.Confidentiality.OK, &r.Confidentiality.Note, &r.Privacy.OK, &r.Privacy.Note, &r.Reason, &at); err != nil {
			return nil, s.fail(err, "reviews")
		}
		r.At = at.t
		rs = append(rs, r)
	}
	return rs, s.fail(rows.Err(), "reviews")
}
