package portal

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"kaifang/datasets"
)

// OpenListItem is one row of an agency's public open list (數據開放清單,
// art. 31): what the entry is, how it opens, and when it last changed and
// is next due (Wenzhou art. 10, 14).
type OpenListItem struct {
	ID             string                `json:"id"`
	Slug           string                `json:"slug"`
	Title          string                `json:"title"`
	Description    string                `json:"description"`
	Category       datasets.Category     `json:"category"`
	OpenClass      datasets.OpenClass    `json:"open_class"`
	Frequency      datasets.Frequency    `json:"frequency"`
	Formats        []string              `json:"formats"`
	Fields         []datasets.Field      `json:"fields"`
	AccessModes    []datasets.AccessMode `json:"access_modes"`
	LegalBasis     string                `json:"legal_basis,omitempty"`
	LastChange     time.Time             `json:"last_change"`
	NextDue        *time.Time            `json:"next_due,omitempty"`
	Overdue        bool                  `json:"overdue"`
	CurrentVersion *datasets.Version     `json:"current_version"`
}

// OpenList is an agency's public list.
type OpenList struct {
	Agency datasets.AgencyRef `json:"agency"`
	Items  []OpenListItem     `json:"items"`
	Total  int                `json:"total"`
}

// PublicOpenList returns the agency's published open and conditional
// entries. It reads only through Catalog.PublicDatasets, whose query
// itself excludes closed and unpublished entries.
func (s *Service) PublicOpenList(ctx context.Context, agencyIDOrSlug string) (*OpenList, error) {
	a, err := s.Catalog.Agency(ctx, agencyIDOrSlug)
	if err != nil {
		return nil, err
	}
	ds, err := s.publicEntries(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	l := &OpenList{Agency: a.Ref(), Items: make([]OpenListItem, 0, len(ds))}
	for i := range ds {
		d := &ds[i]
		if !d.IsPublic() { // belt and braces: the query already guarantees it
			continue
		}
		t := TimelinessOf(d, now)
		l.Items = append(l.Items, OpenListItem{ID: d.ID, Slug: d.Slug, Title: d.Title, Description: d.Description,
			Category: d.Category, OpenClass: d.OpenClass, Frequency: d.Frequency, Formats: nonNil(d.Formats),
			Fields: nonNil(d.Fields), AccessModes: nonNil(d.AccessModes), LegalBasis: d.LegalBasis,
			LastChange: d.UpdatedAt, NextDue: t.NextDue, Overdue: t.Overdue, CurrentVersion: d.CurrentVersion})
	}
	l.Total = len(l.Items)
	return l, nil
}

// openListHeader is the header of the CSV and XLSX list: the English
// column names the importer reads back, then Chinese headings people read.
var openListHeader = []string{"slug", "title", "description", "category", "open_class", "frequency", "formats",
	"access_modes", "fields", "legal_basis", "last_change", "next_due", "overdue", "version", "sha256"}

func (it OpenListItem) cells() []string {
	fields := make([]string, len(it.Fields))
	for i, f := range it.Fields {
		fields[i] = f.Name + ":" + string(f.Type)
		if f.Description != "" {
			fields[i] += ":" + f.Description
		}
	}
	modes := make([]string, len(it.AccessModes))
	for i, m := range it.AccessModes {
		modes[i] = string(m)
	}
	next, version, sum := "", "", ""
	if it.NextDue != nil {
		next = it.NextDue.UTC().Format("2006-01-02")
	}
	if v := it.CurrentVersion; v != nil {
		version, sum = fmt.Sprint(v.Number), v.SHA256
	}
	overdue := "no"
	if it.Overdue {
		overdue = "yes"
	}
	return []string{it.Slug, it.Title, it.Description, string(it.Category), string(it.OpenClass), string(it.Frequency),
		strings.Join(it.Formats, ";"), strings.Join(modes, ";"), strings.Join(fields, ";"), it.LegalBasis,
		it.LastChange.UTC().Format("2006-01-02"), next, overdue, version, sum}
}

// WriteCSV writes the list as UTF-8 CSV with a BOM, which Excel needs to
// read Chinese text correctly.
func (l *OpenList) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(openListHeader); err != nil {
		return err
	}
	for _, it := range l.Items {
		if err := cw.Write(safeCells(it.cells())); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCells defuses spreadsheet formulas: a cell starting with = + - @
// would run when the file is opened in Excel.
func safeCells(cs []string) []string {
	for i, c := range cs {
		if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
			cs[i] = "'" + c
		}
	}
	return cs
}

// WriteXLSX writes the list as one sheet named 开放清单.
func (l *OpenList) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "开放清单"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := func(n int, cs []string) error {
		vals := make([]any, len(cs))
		for i, c := range cs {
			vals[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	}
	if err := row(1, openListHeader); err != nil {
		return err
	}
	for i, it := range l.Items {
		if err := row(i+2, it.cells()); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
