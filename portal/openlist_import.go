package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"kaifang/datasets"
	"kaifang/datasets/search/fold"
)

// ImportOptions steer ImportList.
type ImportOptions struct {
	// Publish records the data authority's opening review for every row
	// (admins only) and publishes it. Closed rows stay internal.
	Publish bool
	// ReviewNote is the note of each of the three checks; required with Publish.
	ReviewNote string
	// Progress, when set, is called after each row is written.
	Progress func(done, total int)
}

// ImportedEntry says what an import did with one row.
type ImportedEntry struct {
	Row    int    `json:"row"`
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Action string `json:"action"` // created, updated, unchanged
}

// ImportReport sums up an import.
type ImportReport struct {
	Rows      int             `json:"rows"`
	Created   int             `json:"created"`
	Updated   int             `json:"updated"`
	Unchanged int             `json:"unchanged"`
	Published int             `json:"published"`
	Versions  int             `json:"versions"`
	Agencies  []string        `json:"agencies_created"`
	Ignored   []string        `json:"ignored_columns,omitempty"`
	Entries   []ImportedEntry `json:"entries"`
}

// planned is one row ready to write.
type planned struct {
	ListEntry
	agency   *datasets.Agency // nil ID: to be created
	existing *datasets.Dataset
	filePath string
	fileSum  string
}

// ImportList imports an open list (CSV, XLSX or JSON; English or Chinese
// headings) into agencySlug's list, or into the agencies its rows name.
//
// It is all-or-nothing: every row is checked first and every fault of
// every row is reported (EINVALID, one Problem per fault with its row and
// column; EFORBIDDEN when the actor may not write a row's agency) before
// anything is written. Rows are matched to entries by slug (derived from
// the title when missing), so importing the same list again changes
// nothing, and a changed row updates its entry.
func (s *Service) ImportList(ctx context.Context, actor *datasets.User, agencySlug, path string, opts ImportOptions) (ImportReport, error) {
	rep := ImportReport{Agencies: []string{}, Entries: []ImportedEntry{}}
	if actor == nil {
		return rep, errSignIn
	}
	if opts.Publish && !isAdmin(actor) {
		return rep, datasets.Errorf(datasets.EFORBIDDEN, "only the data authority may publish a whole list at import")
	}
	if opts.Publish && strings.TrimSpace(opts.ReviewNote) == "" {
		return rep, datasets.Errorf(datasets.EINVALID, "publishing at import records an opening review: give a review note")
	}
	var defAgency *datasets.Agency
	if agencySlug != "" {
		a, err := s.Catalog.Agency(ctx, agencySlug)
		if err != nil {
			return rep, err
		}
		if !canPublish(actor, a.ID) {
			return rep, datasets.Errorf(datasets.EFORBIDDEN, "you may not import into agency %s's list", a.Slug)
		}
		defAgency = a
	}
	pl, err := ParseOpenList(path)
	if err != nil {
		return rep, err
	}
	rep.Rows, rep.Ignored = len(pl.Rows), pl.Ignored
	plan, err := s.planImport(ctx, actor, defAgency, pl, filepath.Dir(path))
	if err != nil {
		return rep, err
	}
	for i, p := range plan {
		if err := s.applyRow(ctx, actor, &p, opts, &rep); err != nil {
			return rep, fmt.Errorf("row %d: %w", p.Row, err)
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(plan))
		}
	}
	return rep, nil
}

// planImport checks every row and resolves its agency, slug, existing
// entry and file. It writes nothing.
func (s *Service) planImport(ctx context.Context, actor *datasets.User, defAgency *datasets.Agency, pl *ParsedList, dir string) ([]planned, error) {
	all, err := s.Catalog.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	agencies := map[string]*datasets.Agency{} // cell -> agency (ID "" : to create)
	findAgency := func(cell string) *datasets.Agency {
		if a, ok := agencies[cell]; ok {
			return a
		}
		k := foldKey(cell)
		for i := range all {
			if all[i].Slug == strings.ToLower(cell) || foldKey(all[i].Name) == k {
				agencies[cell] = &all[i]
				return &all[i]
			}
		}
		return nil
	}
	var ps, forbidden []datasets.Problem
	var plan []planned
	slugs := map[string]int{}
	for _, r := range pl.Rows {
		e, rowPs := entryFromRow(pl, r)
		ps = append(ps, rowPs...)
		bad := func(col, msg string) {
			ps = append(ps, datasets.Problem{Row: r.Row, Line: r.Line, Column: pl.Columns[col], Field: col, Message: msg})
		}
		p := planned{ListEntry: e}
		switch {
		case e.Agency != "":
			p.agency = findAgency(e.Agency)
			if p.agency == nil {
				if !isAdmin(actor) {
					bad(colAgency, fmt.Sprintf("agency %q does not exist; only the data authority may add agencies", clipText(e.Agency)))
					continue
				}
				p.agency = &datasets.Agency{Slug: agencySlugFor(e.Agency), Name: e.Agency}
				agencies[e.Agency] = p.agency
			}
		case defAgency != nil:
			p.agency = defAgency
		default:
			bad(colAgency, "names no agency, and the import names none either")
			continue
		}
		if p.agency.ID != "" && !canPublish(actor, p.agency.ID) {
			forbidden = append(forbidden, datasets.Problem{Row: r.Row, Line: r.Line, Column: pl.Columns[colAgency], Field: colAgency,
				Message: fmt.Sprintf("you may not write agency %s's list", p.agency.Slug)})
			continue
		}
		d := &p.Dataset
		if d.Slug == "" && d.Title != "" {
			d.Slug = DeriveSlug(p.agency.Slug, d.Title)
		}
		if d.Slug != "" {
			if first, dup := slugs[d.Slug]; dup {
				bad(colSlug, fmt.Sprintf("slug %s is already used by row %d", d.Slug, first))
			} else {
				slugs[d.Slug] = r.Row
			}
		}
		if datasets.ValidSlug(d.Slug) {
			old, err := s.Catalog.Dataset(ctx, d.Slug)
			switch {
			case datasets.IsCode(err, datasets.ENOTFOUND):
			case err != nil:
				return nil, err
			case old.Agency.ID != p.agency.ID:
				bad(colSlug, fmt.Sprintf("slug %s belongs to another agency's entry", d.Slug))
			case old.State == datasets.Withdrawn:
				bad(colSlug, fmt.Sprintf("entry %s is withdrawn and cannot be changed", d.Slug))
			case old.State == datasets.Published && d.OpenClass == datasets.Closed:
				bad(colOpenClass, fmt.Sprintf("entry %s is published: withdraw it before classing it closed", d.Slug))
			default:
				p.existing = old
			}
		}
		if e.File != "" {
			p.filePath = filepath.Join(dir, filepath.FromSlash(e.File))
			sum, err := fileSHA256(p.filePath)
			if err != nil {
				bad(colFile, fmt.Sprintf("file %q cannot be read", clipText(e.File)))
			}
			p.fileSum = sum
		}
		// Whatever entryFromRow did not already say, Validate says.
		probe := *d
		probe.Agency.ID = "probe"
		if p.existing != nil {
			probe.State = p.existing.State
		}
		if err := probe.Validate(); err != nil {
			for _, vp := range datasets.ErrorProblems(err) {
				if vp.Field == colReason || vp.Field == colLegalBasis || vp.Field == colTitle || vp.Field == colSlug && d.Slug == "" ||
					vp.Field == colFields || vp.Field == colOpenClass || vp.Field == colFrequency {
					if hasProblem(rowPs, vp.Field) || vp.Field == colSlug && d.Slug == "" {
						continue
					}
				}
				bad(vp.Field, vp.Message)
			}
		}
		plan = append(plan, p)
	}
	if len(forbidden) > 0 {
		return nil, &datasets.Error{Code: datasets.EFORBIDDEN, Message: fmt.Sprintf("%d rows name agencies you may not write: %s", len(forbidden), forbidden[0]), Problems: forbidden}
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Row < ps[j].Row })
		rows := map[int]bool{}
		for _, p := range ps {
			rows[p.Row] = true
		}
		return nil, &datasets.Error{Code: datasets.EINVALID,
			Message:  fmt.Sprintf("the open list has %d problems in %d rows; nothing was imported (first: %s)", len(ps), len(rows), ps[0]),
			Problems: ps}
	}
	return plan, nil
}

func hasProblem(ps []datasets.Problem, field string) bool {
	for _, p := range ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

// agencySlugFor makes the slug of an agency an import creates: the cell
// itself when it is a slug, else a short hash of its folded name, so the
// same name always gives the same agency.
func agencySlugFor(cell string) string {
	if s := strings.ToLower(strings.TrimSpace(cell)); datasets.ValidSlug(s) {
		return s
	}
	h := sha256.Sum256([]byte(fold.String(strings.TrimSpace(cell))))
	return "ag-" + hex.EncodeToString(h[:5])
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// applyRow writes one planned row: agency, entry, file, review.
func (s *Service) applyRow(ctx context.Context, actor *datasets.User, p *planned, opts ImportOptions, rep *ImportReport) error {
	if p.agency.ID == "" {
		if err := s.Catalog.CreateAgency(ctx, p.agency); err != nil {
			return err
		}
		rep.Agencies = append(rep.Agencies, p.agency.Slug)
	}
	d := p.Dataset
	d.Agency = p.agency.Ref()
	res := ImportedEntry{Row: p.Row, Slug: d.Slug}
	switch old := p.existing; {
	case old == nil:
		if err := s.Catalog.CreateDataset(ctx, &d, datasets.Change{Actor: actor.ID, Action: "create", Summary: "imported from an open list"}); err != nil {
			return err
		}
		res.Action = "created"
		rep.Created++
	default:
		d.ID, d.State, d.CurrentVersion, d.PublishedAt = old.ID, old.State, old.CurrentVersion, old.PublishedAt
		if d.License == "" {
			d.License = old.License
		}
		if datasets.Diff(old, &d) == "" {
			d = *old
			res.Action = "unchanged"
			rep.Unchanged++
			break
		}
		if err := s.Catalog.UpdateDataset(ctx, &d, datasets.Change{Actor: actor.ID, Action: "update", Summary: "changed by an open-list import"}); err != nil {
			return err
		}
		res.Action = "updated"
		rep.Updated++
	}
	res.ID = d.ID
	if p.filePath != "" && (d.CurrentVersion == nil || d.CurrentVersion.SHA256 != p.fileSum) {
		f, err := os.Open(p.filePath)
		if err != nil {
			return datasets.Wrap(err, datasets.EINVALID, "file %s cannot be read", p.File)
		}
		st, _ := f.Stat()
		_, err = s.AddVersion(ctx, d.ID, Upload{Body: f, Filename: filepath.Base(p.filePath), Size: st.Size(), Actor: actor.ID})
		f.Close()
		if err != nil {
			return err
		}
		rep.Versions++
		if res.Action == "unchanged" {
			res.Action = "updated"
			rep.Unchanged--
			rep.Updated++
		}
	}
	if opts.Publish && d.OpenClass != datasets.Closed && d.State != datasets.Published {
		acc, err := s.accounts()
		if err != nil {
			return err
		}
		cur, err := s.Catalog.Dataset(ctx, d.ID)
		if err != nil {
			return err
		}
		note := strings.TrimSpace(opts.ReviewNote)
		c := &datasets.ReviewCheck{OK: true, Note: note}
		if _, err := s.decideEntry(ctx, acc, actor, cur, ReviewInput{Decision: datasets.Approve, Legality: c, Confidentiality: c, Privacy: c}); err != nil {
			return err
		}
		rep.Published++
		if res.Action == "unchanged" {
			res.Action = "updated"
			rep.Unchanged--
			rep.Updated++
		}
	}
	rep.Entries = append(rep.Entries, res)
	return nil
}
