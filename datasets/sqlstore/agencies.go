package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/google/uuid"

	"kaifang/datasets"
)

const agencyCols = `id, slug, name, description, website, contact, created_at, updated_at`

func validAgency(a *datasets.Agency) error {
	var ps []datasets.Problem
	if !datasets.ValidSlug(a.Slug) {
		ps = append(ps, datasets.Problem{Field: "slug", Message: "must be 2–100 characters of a-z, 0-9 and inner hyphens"})
	}
	if strings.TrimSpace(a.Name) == "" {
		ps = append(ps, datasets.Problem{Field: "name", Message: "is required"})
	}
	if len(ps) > 0 {
		return &datasets.Error{Code: datasets.EINVALID, Message: "invalid agency: " + ps[0].String(), Problems: ps}
	}
	return nil
}

// newID returns id if it is a UUID (canonical form), a new UUID if id is
// empty, and EINVALID otherwise.
func newID(id, what string) (string, error) {
	if id == "" {
		return uuid.NewString(), nil
	}
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", datasets.Errorf(datasets.EINVALID, "%s id must be a UUID", what)
	}
	return u.String(), nil
}

// byIDOrSlug returns the condition and argument that find a row by UUID or slug.
func byIDOrSlug(alias, idOrSlug string) (string, any) {
	if u, err := uuid.Parse(idOrSlug); err == nil && len(idOrSlug) == 36 {
		return alias + "id = ?", u.String()
	}
	return alias + "slug = ?", idOrSlug
}

// CreateAgency stores a new agency. ECONFLICT if the slug is taken.
func (s *Store) CreateAgency(ctx context.Context, a *datasets.Agency) error {
	if err := validAgency(a); err != nil {
		return err
	}
	id, err := newID(a.ID, "agency")
	if err != nil {
		return err
	}
	t := now()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = t
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	a.ID, a.CreatedAt, a.UpdatedAt = id, a.CreatedAt.UTC().Truncate(timeUnit), a.UpdatedAt.UTC().Truncate(timeUnit)
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO agencies (`+agencyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		a.ID, a.Slug, a.Name, a.Description, a.Website, a.Contact, s.d.ts(a.CreatedAt), s.d.ts(a.UpdatedAt))
	return s.fail(err, "agency "+a.Slug)
}

// UpdateAgency changes name, description, website and contact, and queues
// an outbox event for each of the agency's entries, whose search documents
// carry its name.
func (s *Store) UpdateAgency(ctx context.Context, a *datasets.Agency) error {
	defer s.gen.Add(1)
	if strings.TrimSpace(a.Name) == "" {
		return &datasets.Error{Code: datasets.EINVALID, Message: "invalid agency: field \"name\": is required",
			Problems: []datasets.Problem{{Field: "name", Message: "is required"}}}
	}
	t := now()
	return s.tx(ctx, "update agency", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE agencies SET name = ?, description = ?, website = ?, contact = ?, updated_at = ? WHERE id = ?`),
			a.Name, a.Description, a.Website, a.Contact, s.d.ts(t), a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return datasets.Errorf(datasets.ENOTFOUND, "agency not found")
		}
		if err := s.serialize(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO outbox (dataset_id, at) SELECT id, ? FROM datasets WHERE agency_id = ? ORDER BY id`),
			s.d.ts(t), a.ID); err != nil {
			return err
		}
		got, err := s.agency(ctx, tx, a.ID)
		if err == nil {
			*a = *got
		}
		return err
	})
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Agency returns the agency with this UUID or slug.
func (s *Store) Agency(ctx context.Context, idOrSlug string) (*datasets.Agency, error) {
	a, err := s.agency(ctx, s.db, idOrSlug)
	return a, s.fail(err, "agency")
}

func (s *Store) agency(ctx context.Context, q queryer, idOrSlug string) (*datasets.Agency, error) {
	cond, arg := byIDOrSlug("", idOrSlug)
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT `+agencyCols+` FROM agencies WHERE `+cond), arg)
	if err != nil {
		return nil, err
	}
	as, err := scanAgencies(rows)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "agency %q not found", idOrSlug)
	}
	return &as[0], nil
}

// Agencies lists every agency by name.
func (s *Store) Agencies(ctx context.Context) ([]datasets.Agency, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+agencyCols+` FROM agencies ORDER BY name, slug`)
	if err != nil {
		return nil, s.fail(err, "agencies")
	}
	as, err := scanAgencies(rows)
	return as, s.fail(err, "agencies")
}

func scanAgencies(rows *sql.Rows) ([]datasets.Agency, error) {
	defer rows.Close()
	as := []datasets.Agency{}
	for rows.Next() {
		var a datasets.Agency
		var c, u timeScan
		if err := rows.Scan(&a.ID, &a.Slug, &a.Name, &a.Description, &a.Website, &a.Contact, &c, &u); err != nil {
			return nil, err
		}
		a.CreatedAt, a.UpdatedAt = c.t, u.t
		as = append(as, a)
	}
	return as, rows.Err()
}
