package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"kaifang/datasets"
)

const entryCols = `d.id, d.slug, d.title, d.description, d.agency_id, a.slug, a.name, d.category, d.open_class,
	d.frequency, d.formats, d.tags, d.fields, d.access_modes, d.legal_basis, d.reason, d.state, d.license,
	d.downloads, d.api_calls, d.created_at, d.updated_at, d.published_at, ` + versionColsV

const entryFrom = ` FROM datasets d JOIN agencies a ON a.id = d.agency_id
	LEFT JOIN versions v ON v.dataset_id = d.id AND v.number = d.current_version`

// publicCond is the only gate of the public queries. It is SQL, not a Go
// check after the fact, so a closed or unpublished entry never leaves the
// database through them.
const publicCond = `d.state = 'published' AND d.open_class IN ('open', 'conditional')`

func scanEntries(rows *sql.Rows) ([]datasets.Dataset, error) {
	defer rows.Close()
	ds := []datasets.Dataset{}
	for rows.Next() {
		var d datasets.Dataset
		var c, u, p timeScan
		var v versionScan
		dest := []any{&d.ID, &d.Slug, &d.Title, &d.Description, &d.Agency.ID, &d.Agency.Slug, &d.Agency.Name,
			&d.Category, &d.OpenClass, &d.Frequency, jsonScan{&d.Formats}, jsonScan{&d.Tags}, jsonScan{&d.Fields},
			jsonScan{&d.AccessModes}, &d.LegalBasis, &d.Reason, &d.State, &d.License, &d.Downloads, &d.APICalls,
			&c, &u, &p}
		if err := rows.Scan(append(dest, v.dest()...)...); err != nil {
			return nil, err
		}
		d.CreatedAt, d.UpdatedAt, d.PublishedAt = c.t, u.t, p.ptr()
		d.CurrentVersion = v.version()
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

func (s *Store) entry(ctx context.Context, q queryer, idOrSlug string, public bool) (*datasets.Dataset, error) {
	cond, arg := byIDOrSlug("d.", idOrSlug)
	if public {
		cond += " AND " + publicCond
	}
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT `+entryCols+entryFrom+` WHERE `+cond), arg)
	if err != nil {
		return nil, err
	}
	ds, err := scanEntries(rows)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "dataset %q not found", idOrSlug)
	}
	return &ds[0], nil
}

// Dataset returns any entry, in any state and class, by UUID or slug.
func (s *Store) Dataset(ctx context.Context, idOrSlug string) (*datasets.Dataset, error) {
	d, err := s.entry(ctx, s.db, idOrSlug, false)
	return d, s.fail(err, "dataset")
}

// PublicDataset returns an entry only if it is published and open or
// conditional; anything else is ENOTFOUND.
func (s *Store) PublicDataset(ctx context.Context, idOrSlug string) (*datasets.Dataset, error) {
	d, err := s.entry(ctx, s.db, idOrSlug, true)
	return d, s.fail(err, "dataset")
}

// Datasets lists entries of any state and class and the total count.
func (s *Store) Datasets(ctx context.Context, f datasets.DatasetFilter) ([]datasets.Dataset, int, error) {
	return s.list(ctx, f, false)
}

// PublicDatasets lists published open and conditional entries only.
func (s *Store) PublicDatasets(ctx context.Context, f datasets.DatasetFilter) ([]datasets.Dataset, int, error) {
	return s.list(ctx, f, true)
}

var entrySorts = map[string]string{
	"":        "d.updated_at DESC, d.id",
	"updated": "d.updated_at DESC, d.id",
	"title":   "d.title, d.id",
	"created": "d.created_at DESC, d.id",
}

func (s *Store) list(ctx context.Context, f datasets.DatasetFilter, public bool) ([]datasets.Dataset, int, error) {
	order, ok := entrySorts[f.Sort]
	if !ok {
		return nil, 0, datasets.Errorf(datasets.EINVALID, "sort must be updated, title or created")
	}
	conds := []string{"1 = 1"}
	var args []any
	if public {
		conds = append(conds, publicCond)
	}
	if f.AgencyID != "" {
		conds, args = append(conds, "d.agency_id = ?"), append(args, f.AgencyID)
	}
	if len(f.States) > 0 {
		conds = append(conds, "d.state IN ("+marks(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if len(f.OpenClasses) > 0 {
		conds = append(conds, "d.open_class IN ("+marks(len(f.OpenClasses))+")")
		for _, c := range f.OpenClasses {
			args = append(args, string(c))
		}
	}
	if f.Category != "" {
		conds, args = append(conds, "d.category = ?"), append(args, string(f.Category))
	}
	if f.Frequency != "" {
		conds, args = append(conds, "d.frequency = ?"), append(args, string(f.Frequency))
	}
	if f.Format != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM dataset_formats df WHERE df.dataset_id = d.id AND df.format = ?)")
		args = append(args, strings.ToLower(strings.TrimSpace(f.Format)))
	}
	if f.AgencyID != "" && !validUUID(f.AgencyID) {
		return []datasets.Dataset{}, 0, nil // PostgreSQL would refuse to compare it with a uuid
	}
	page, per := max(f.Page, 1), f.PerPage
	if per <= 0 {
		per = 20
	}
	per = min(per, 1000)
	where := " WHERE " + strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM datasets d`+where), args...).Scan(&total); err != nil {
		return nil, 0, s.fail(err, "list datasets")
	}
	q := `SELECT ` + entryCols + entryFrom + where + ` ORDER BY ` + order + fmt.Sprintf(` LIMIT %d OFFSET %d`, per, (page-1)*per)
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, 0, s.fail(err, "list datasets")
	}
	ds, err := scanEntries(rows)
	if err != nil {
		return nil, 0, s.fail(err, "list datasets")
	}
	return ds, total, nil
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func validUUID(s string) bool { _, err := newID(s, ""); return err == nil && s != "" }

// CreateDataset stores a new entry, its first Change and an outbox event in
// one transaction.
func (s *Store) CreateDataset(ctx context.Context, d *datasets.Dataset, c datasets.Change) error {
	defer s.gen.Add(1)
	if err := d.Validate(); err != nil {
		return err
	}
	id, err := newID(d.ID, "dataset")
	if err != nil {
		return err
	}
	if !validUUID(d.Agency.ID) {
		return datasets.Errorf(datasets.EINVALID, "agency id must be a UUID")
	}
	t := now()
	d.ID = id
	if d.CreatedAt.IsZero() {
		d.CreatedAt = t
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	if d.State == datasets.Published && d.PublishedAt == nil {
		d.PublishedAt = &t
	}
	return s.tx(ctx, "create dataset "+d.Slug, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM agencies WHERE id = ?`), d.Agency.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return datasets.Errorf(datasets.EINVALID, "agency %s does not exist", d.Agency.ID)
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO datasets (id, slug, agency_id, title, description, category,
			open_class, frequency, formats, tags, fields, access_modes, legal_basis, reason, state, license,
			created_at, updated_at, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			d.ID, d.Slug, d.Agency.ID, d.Title, d.Description, string(d.Category), string(d.OpenClass),
			string(d.Frequency), jsonText(d.Formats), jsonText(d.Tags), jsonText(d.Fields), jsonText(d.AccessModes),
			d.LegalBasis, d.Reason, string(d.State), d.License, s.d.ts(d.CreatedAt), s.d.ts(d.UpdatedAt), s.d.tsPtr(d.PublishedAt))
		if err != nil {
			return err
		}
		if err := s.setFormats(ctx, tx, d.ID, d.Formats); err != nil {
			return err
		}
		if c.Action == "" {
			c.Action = "create"
		}
		if err := s.record(ctx, tx, d.ID, c, t); err != nil {
			return err
		}
		return s.reload(ctx, tx, d)
	})
}

// reload refills d from the database so callers see what was stored,
// agency names and current version included.
func (s *Store) reload(ctx context.Context, tx *sql.Tx, d *datasets.Dataset) error {
	got, err := s.entry(ctx, tx, d.ID, false)
	if err == nil {
		*d = *got
	}
	return err
}

func (s *Store) setFormats(ctx context.Context, tx *sql.Tx, id string, formats []string) error {
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM dataset_formats WHERE dataset_id = ?`), id); err != nil {
		return err
	}
	var seen []string
	for _, f := range formats {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" || slices.Contains(seen, f) {
			continue
		}
		seen = append(seen, f)
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO dataset_formats (dataset_id, format) VALUES (?, ?)`), id, f); err != nil {
			return err
		}
	}
	return nil
}

// record appends a change row and an outbox event. It runs last in its
// transaction because on PostgreSQL it holds the outbox lock until commit.
func (s *Store) record(ctx context.Context, tx *sql.Tx, id string, c datasets.Change, t time.Time) error {
	if c.Actor == "" {
		c.Actor = "system"
	}
	if c.At.IsZero() {
		c.At = t
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO dataset_changes (dataset_id, actor, action, summary, diff, at) VALUES (?, ?, ?, ?, ?, ?)`),
		id, c.Actor, c.Action, c.Summary, c.Diff, s.d.ts(c.At)); err != nil {
		return err
	}
	if err := s.serialize(ctx, tx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO outbox (dataset_id, at) VALUES (?, ?)`), id, s.d.ts(t))
	return err
}

// UpdateDataset replaces every editable field of the entry, appends c and
// an outbox event in one transaction. c.Diff is computed when empty.
func (s *Store) UpdateDataset(ctx context.Context, d *datasets.Dataset, c datasets.Change) error {
	defer s.gen.Add(1)
	if !validUUID(d.ID) {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	t := now()
	return s.tx(ctx, "update dataset "+d.Slug, func(tx *sql.Tx) error {
		old, err := s.entry(ctx, tx, d.ID, false)
		if err != nil {
			return err
		}
		// The agency is not editable here; validate with the stored one.
		d.Agency = old.Agency
		if err := d.Validate(); err != nil {
			return err
		}
		published := old.PublishedAt
		if d.State == datasets.Published && published == nil {
			published = &t
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE datasets SET slug = ?, title = ?, description = ?, category = ?,
			open_class = ?, frequency = ?, formats = ?, tags = ?, fields = ?, access_modes = ?, legal_basis = ?,
			reason = ?, state = ?, license = ?, updated_at = ?, published_at = ? WHERE id = ?`),
			d.Slug, d.Title, d.Description, string(d.Category), string(d.OpenClass), string(d.Frequency),
			jsonText(d.Formats), jsonText(d.Tags), jsonText(d.Fields), jsonText(d.AccessModes), d.LegalBasis,
			d.Reason, string(d.State), d.License, s.d.ts(t), s.d.tsPtr(published), d.ID)
		if err != nil {
			return err
		}
		if err := s.setFormats(ctx, tx, d.ID, d.Formats); err != nil {
			return err
		}
		if c.Action == "" {
			c.Action = "update"
		}
		if c.Diff == "" {
			c.Diff = datasets.Diff(old, d)
		}
		if err := s.record(ctx, tx, d.ID, c, t); err != nil {
			return err
		}
		return s.reload(ctx, tx, d)
	})
}

// History lists the entry's changes, newest first.
func (s *Store) History(ctx context.Context, datasetID string) ([]datasets.Change, error) {
	if !validUUID(datasetID) {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id, dataset_id, actor, action, summary, diff, at
		FROM dataset_changes WHERE dataset_id = ? ORDER BY id DESC`), datasetID)
	if err != nil {
		return nil, s.fail(err, "history")
	}
	defer rows.Close()
	cs := []datasets.Change{}
	for rows.Next() {
		var c datasets.Change
		var at timeScan
		if err := rows.Scan(&c.ID, &c.DatasetID, &c.Actor, &c.Action, &c.Summary, &c.Diff, &at); err != nil {
			return nil, s.fail(err, "history")
		}
		c.At = at.t
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "history")
	}
	if len(cs) == 0 { // every entry has its create change, so none means no entry
		return nil, datasets.Errorf(datasets.ENOTFOUND, "dataset %s not found", datasetID)
	}
	return cs, nil
}

// CountUse adds to an entry's download and API-call counters.
func (s *Store) CountUse(ctx context.Context, datasetID string, downloads, apiCalls int64) error {
	if !validUUID(datasetID) {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset not found")
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE datasets SET downloads = downloads + ?, api_calls = api_calls + ? WHERE id = ?`),
		downloads, apiCalls, datasetID)
	if err != nil {
		return s.fail(err, "count use")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return datasets.Errorf(datasets.ENOTFOUND, "dataset %s not found", datasetID)
	}
	return nil
}
