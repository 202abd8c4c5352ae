package web

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

type listRow struct {
	datasets.Dataset
	Overdue bool
}

type publishData struct {
	Agency  *datasets.Agency
	Entries []listRow
	Overdue int
	Report  *portal.ImportReport
	Bad     []datasets.Problem
	Error   string
}

// publishAgency is the agency whose internal list the page shows: the
// publisher's own, or ?agency= for the data authority. The portal decides
// whether the user may see it.
func (s *site) publishAgency(c *fiber.Ctx) (*datasets.Agency, error) {
	u := s.user(c)
	id := c.Query("agency", c.FormValue("agency"))
	if id == "" {
		id = u.AgencyID
	}
	if id == "" {
		as, err := s.d.Catalog.Agencies(c.UserContext())
		if err != nil || len(as) == 0 {
			return nil, datasets.Errorf(datasets.ENOTFOUND, "no agency")
		}
		id = as[0].ID
	}
	return s.d.Catalog.Agency(c.UserContext(), id)
}

func (s *site) renderPublish(c *fiber.Ctx, v *view, pd publishData) error {
	a, err := s.publishAgency(c)
	if err != nil {
		return err
	}
	ds, _, err := s.d.Portal.AgencyEntries(c.UserContext(), s.user(c), a.ID, datasets.DatasetFilter{Sort: "title", PerPage: 1000})
	if err != nil {
		return err
	}
	now := time.Now()
	pd.Agency = a
	for _, d := range ds {
		r := listRow{Dataset: d}
		if d.State == datasets.Published {
			r.Overdue = portal.TimelinessOf(&d, now).Overdue
		}
		if r.Overdue {
			pd.Overdue++
		}
		pd.Entries = append(pd.Entries, r)
	}
	v.Title = v.T("pub.title")
	return s.render(c, v, "publish", pd)
}

// handlePublish is the agency's own open list: every state and class,
// closed entries included.
func (s *site) handlePublish(c *fiber.Ctx, v *view) error {
	return s.renderPublish(c, v, publishData{})
}

// handleImport saves the uploaded list to a temporary file (the parser
// needs its extension and random access) and imports it all or nothing;
// every bad row comes back with its row number and column.
func (s *site) handleImport(c *fiber.Ctx, v *view) error {
	a, err := s.publishAgency(c)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		v.Status = fiber.StatusUnprocessableEntity
		return s.renderPublish(c, v, publishData{Error: v.T("pub.no_file")})
	}
	ext := strings.ToLower(filepath.Ext(fh.Filename))
	switch ext {
	case ".csv", ".xlsx", ".json":
	default:
		v.Status = fiber.StatusUnprocessableEntity
		return s.renderPublish(c, v, publishData{Error: v.T("pub.bad_type")})
	}
	tmp, err := os.CreateTemp(s.d.Portal.TempDir, "kaifang-import-*"+ext)
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "temp file")
	}
	defer os.Remove(tmp.Name())
	src, err := fh.Open()
	if err == nil {
		_, err = io.Copy(tmp, src)
		src.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "saving the upload")
	}
	rep, err := s.d.Portal.ImportList(c.UserContext(), s.user(c), a.Slug, tmp.Name(), portal.ImportOptions{})
	if err != nil {
		msg, ok := formErr(v, err)
		if !ok {
			return err
		}
		bad := datasets.ErrorProblems(err)
		if len(bad) > 0 {
			// The import ran and its answer is this report of bad rows: the
			// page is the result, not a failed request.
			v.Status = fiber.StatusOK
		}
		return s.renderPublish(c, v, publishData{Error: msg, Bad: bad})
	}
	return s.renderPublish(c, v, publishData{Report: &rep})
}

// entryForm is the entry form's values as text, so that a refused form
// comes back exactly as typed.
type entryForm struct {
	ID, Slug, Title, Description, Category, OpenClass, Frequency string
	Formats, Tags, Fields, LegalBasis, Reason, License           string
	Modes                                                        []string
}

type entryData struct {
	Agency   *datasets.Agency
	D        *datasets.Dataset // nil when creating
	F        entryForm
	Versions []datasets.Version
	History  *portal.EntryHistory
	Error    string
	Problems map[string]string
	Options  entryOptions
}

type entryOptions struct {
	Categories  []datasets.Category
	Classes     []datasets.OpenClass
	Frequencies []datasets.Frequency
	Modes       []datasets.AccessMode
}

var allOptions = entryOptions{datasets.Categories, datasets.OpenClasses, datasets.Frequencies, datasets.AccessModes}

func formOf(d *datasets.Dataset) entryForm {
	f := entryForm{ID: d.ID, Slug: d.Slug, Title: d.Title, Description: d.Description, Category: string(d.Category),
		OpenClass: string(d.OpenClass), Frequency: string(d.Frequency), Formats: strings.Join(d.Formats, ", "),
		Tags: strings.Join(d.Tags, ", "), LegalBasis: d.LegalBasis, Reason: d.Reason, License: d.License}
	var lines []string
	for _, x := range d.Fields {
		l := x.Name + ":" + string(x.Type)
		if x.Description != "" {
			l += ":" + x.Description
		}
		lines = append(lines, l)
	}
	f.Fields = strings.Join(lines, "\n")
	for _, m := range d.AccessModes {
		f.Modes = append(f.Modes, string(m))
	}
	return f
}

func splitList(s string) []string {
	out := []string{}
	for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' }) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// fieldsOf reads one field a line as name:type[:description]; a line that
// names no known type is refused with its line number.
func fieldsOf(text string) ([]datasets.Field, []datasets.Problem) {
	out := []datasets.Field{}
	var ps []datasets.Problem
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		f := datasets.Field{Name: strings.TrimSpace(parts[0]), Type: datasets.TypeText}
		if len(parts) > 1 {
			f.Type = datasets.FieldType(strings.TrimSpace(parts[1]))
		}
		if len(parts) > 2 {
			f.Description = strings.TrimSpace(parts[2])
		}
		if f.Name == "" {
			ps = append(ps, datasets.Problem{Line: i + 1, Field: "fields", Message: "line " + strconv.Itoa(i+1) + ": no field name"})
			continue
		}
		out = append(out, f)
	}
	return out, ps
}

func (s *site) readEntryForm(c *fiber.Ctx) (entryForm, portal.EntryFields, []datasets.Problem) {
	f := entryForm{Slug: strings.TrimSpace(c.FormValue("slug")), Title: c.FormValue("title"), Description: c.FormValue("description"),
		Category: c.FormValue("category"), OpenClass: c.FormValue("open_class"), Frequency: c.FormValue("frequency"),
		Formats: c.FormValue("formats"), Tags: c.FormValue("tags"), Fields: c.FormValue("fields"),
		LegalBasis: c.FormValue("legal_basis"), Reason: c.FormValue("reason"), License: c.FormValue("license"),
		Modes: formValues(c, "access_modes")}
	cat, class, freq := datasets.Category(f.Category), datasets.OpenClass(f.OpenClass), datasets.Frequency(f.Frequency)
	formats, tags := splitList(f.Formats), splitList(f.Tags)
	fields, ps := fieldsOf(f.Fields)
	modes := []datasets.AccessMode{}
	for _, m := range f.Modes {
		modes = append(modes, datasets.AccessMode(m))
	}
	ef := portal.EntryFields{Title: &f.Title, Description: &f.Description, Category: &cat, OpenClass: &class, Frequency: &freq,
		Formats: &formats, Tags: &tags, Fields: &fields, AccessModes: &modes, LegalBasis: &f.LegalBasis, Reason: &f.Reason, License: &f.License}
	if f.Slug != "" {
		ef.Slug = &f.Slug
	}
	return f, ef, ps
}

func (s *site) renderEntry(c *fiber.Ctx, v *view, ed entryData) error {
	ed.Options = allOptions
	if ed.Problems == nil {
		ed.Problems = map[string]string{}
	}
	if ed.D != nil {
		ctx := c.UserContext()
		vs, err := s.d.Catalog.Versions(ctx, ed.D.ID)
		if err != nil {
			return err
		}
		ed.Versions = vs
		if h, err := s.d.Portal.History(ctx, s.user(c), ed.D.ID); err == nil {
			ed.History = h
		}
		v.Title = v.Tf("entry.edit_title", ed.D.Title)
	} else {
		v.Title = v.T("entry.new_title")
	}
	return s.render(c, v, "entry", ed)
}

func (s *site) handleEntryNew(c *fiber.Ctx, v *view) error {
	a, err := s.publishAgency(c)
	if err != nil {
		return err
	}
	return s.renderEntry(c, v, entryData{Agency: a, F: entryForm{Category: string(datasets.Other), OpenClass: string(datasets.Open),
		Frequency: string(datasets.Monthly), Modes: []string{string(datasets.Bulk), string(datasets.Query)}}})
}

// entryError shows the form again with the portal's Validate problems
// next to their fields.
func (s *site) entryError(c *fiber.Ctx, v *view, ed entryData, err error) error {
	msg, ok := formErr(v, err)
	if !ok {
		return err
	}
	ed.Error, ed.Problems = msg, problemsByField(err)
	return s.renderEntry(c, v, ed)
}

func fieldProblems(ps []datasets.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	return &datasets.Error{Code: datasets.EINVALID, Message: "invalid entry: " + ps[0].Message, Problems: ps}
}

func (s *site) handleEntryCreate(c *fiber.Ctx, v *view) error {
	a, err := s.publishAgency(c)
	if err != nil {
		return err
	}
	f, ef, ps := s.readEntryForm(c)
	ed := entryData{Agency: a, F: f}
	if err := fieldProblems(ps); err != nil {
		return s.entryError(c, v, ed, err)
	}
	d, err := s.d.Portal.CreateEntry(c.UserContext(), s.user(c), a.ID, ef)
	if err != nil {
		return s.entryError(c, v, ed, err)
	}
	return c.Redirect("/publish/entries/"+d.ID, fiber.StatusSeeOther)
}

func (s *site) handleEntryEdit(c *fiber.Ctx, v *view) error {
	d, err := s.d.Portal.CheckPublisher(c.UserContext(), s.user(c), c.Params("id"))
	if err != nil {
		return err
	}
	a, err := s.d.Catalog.Agency(c.UserContext(), d.Agency.ID)
	if err != nil {
		return err
	}
	return s.renderEntry(c, v, entryData{Agency: a, D: d, F: formOf(d)})
}

func (s *site) handleEntryUpdate(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	d, err := s.d.Portal.CheckPublisher(ctx, s.user(c), c.Params("id"))
	if err != nil {
		return err
	}
	a, err := s.d.Catalog.Agency(ctx, d.Agency.ID)
	if err != nil {
		return err
	}
	f, ef, ps := s.readEntryForm(c)
	f.ID = d.ID
	ed := entryData{Agency: a, D: d, F: f}
	if err := fieldProblems(ps); err != nil {
		return s.entryError(c, v, ed, err)
	}
	if _, err := s.d.Portal.UpdateEntry(ctx, s.user(c), d.ID, ef); err != nil {
		return s.entryError(c, v, ed, err)
	}
	return c.Redirect("/publish/entries/"+d.ID+"?saved=1", fiber.StatusSeeOther)
}

func (s *site) handleEntrySubmit(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	d, err := s.d.Portal.SubmitEntry(ctx, s.user(c), c.Params("id"))
	if err != nil {
		if _, ok := formErr(v, err); !ok {
			return err
		}
		cur, cerr := s.d.Portal.CheckPublisher(ctx, s.user(c), c.Params("id"))
		if cerr != nil {
			return err
		}
		a, aerr := s.d.Catalog.Agency(ctx, cur.Agency.ID)
		if aerr != nil {
			return err
		}
		return s.entryError(c, v, entryData{Agency: a, D: cur, F: formOf(cur)}, err)
	}
	return c.Redirect("/publish/entries/"+d.ID, fiber.StatusSeeOther)
}

// handleVersionUpload checks the publisher before touching the body, then
// streams the file to AddVersion and shows the ingestion result page (also
// for a failed ingestion, whose version records the error).
func (s *site) handleVersionUpload(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	u := s.user(c)
	d, err := s.d.Portal.CheckPublisher(ctx, u, c.Params("id"))
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return datasets.Errorf(datasets.EINVALID, "choose a file to upload")
	}
	src, err := fh.Open()
	if err != nil {
		return datasets.Wrap(err, datasets.EINTERNAL, "reading the upload")
	}
	defer src.Close()
	ver, err := s.d.Portal.AddVersion(ctx, d.ID, portal.Upload{Body: src, Filename: filepath.Base(fh.Filename), Size: fh.Size, Actor: u.ID})
	if ver == nil {
		return err
	}
	return c.Redirect("/publish/entries/"+d.ID+"/versions/"+strconv.Itoa(ver.Number), fiber.StatusSeeOther)
}

type versionData struct {
	D       *datasets.Dataset
	V       *datasets.Version
	Problem []datasets.Problem
}

func (s *site) handleVersionResult(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	d, err := s.d.Portal.CheckPublisher(ctx, s.user(c), c.Params("id"))
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil {
		return datasets.Errorf(datasets.ENOTFOUND, "no such version")
	}
	ver, err := s.d.Catalog.Version(ctx, d.ID, n)
	if err != nil {
		return err
	}
	v.Title = v.Tf("ver.title", ver.Number, d.Title)
	return s.render(c, v, "version", versionData{D: d, V: ver})
}
