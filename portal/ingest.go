package portal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

// rowTable names the row-store table of a version: derived from its UUID,
// so it is unique and made only of [a-z0-9_].
func rowTable(v *datasets.Version) string {
	return "r_" + strings.ReplaceAll(v.ID, "-", "")
}

// loadRows reads a stored upload as a table, if it is one, and loads its
// typed rows. Files that hold no table (PDF, ZIP, nested JSON…) are kept as
// they are, with no rows. A table with ragged rows or values that do not fit
// the declared schema fails the version with every located problem.
func (s *Service) loadRows(ctx context.Context, d *datasets.Dataset, v *datasets.Version, path string) error {
	info, err := tabular.Sniff(path, tabular.Options{Declared: d.Fields})
	if errors.Is(err, tabular.ErrNotTabular) {
		return nil
	}
	if err != nil {
		return err
	}
	v.Encoding = info.Encoding
	if len(info.Problems) > 0 {
		msg := fmt.Sprintf("the file has %d problem(s); first: %s", len(info.Problems), info.Problems[0])
		return &datasets.Error{Code: datasets.EINVALID, Message: msg, Problems: info.Problems}
	}
	r, err := tabular.Open(path, info)
	if err != nil {
		return err
	}
	defer r.Close()
	v.RowTable = rowTable(v)
	n, err := s.Rows.LoadRows(ctx, v.RowTable, info.Columns, r)
	if err != nil {
		return err
	}
	v.Rows = n
	v.Columns = make([]datasets.Field, len(info.Columns))
	for i, c := range info.Columns {
		v.Columns[i] = datasets.Field{Name: c.Name, Type: c.Type}
		for _, f := range d.Fields {
			if f.Name == c.Name {
				v.Columns[i].Description = f.Description
			}
		}
	}
	return nil
}
