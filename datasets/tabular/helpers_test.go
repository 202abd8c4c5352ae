package tabular_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

func MustSniff(tb testing.TB, path string, opts tabular.Options) *tabular.Info {
	tb.Helper()
	info, err := tabular.Sniff(path, opts)
	if err != nil {
		tb.Fatalf("Sniff(%s): %v", filepath.Base(path), err)
	}
	return info
}

// MustReadAll reads every row of path, failing the test on any error.
func MustReadAll(tb testing.TB, path string, info *tabular.Info) [][]any {
	tb.Helper()
	r, err := tabular.Open(path, info)
	if err != nil {
		tb.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	defer r.Close()
	var rows [][]any
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			tb.Fatalf("Next after %d rows (line %d): %v", len(rows), r.Line(), err)
		}
		rows = append(rows, row)
	}
}

// MustWriteFile writes data into a fresh temporary directory.
func MustWriteFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func colIndex(tb testing.TB, info *tabular.Info, name string) int {
	tb.Helper()
	i := slices.IndexFunc(info.Columns, func(c datasets.Column) bool { return c.Name == name })
	if i < 0 {
		tb.Fatalf("no column %q in %v", name, info.Columns)
	}
	return i
}

func wantType(tb testing.TB, info *tabular.Info, name string, want datasets.FieldType) {
	tb.Helper()
	if got := info.Columns[colIndex(tb, info, name)].Type; got != want {
		tb.Errorf("column %q is %s, want %s", name, got, want)
	}
}

// wantCode checks that err is a *datasets.Error with the code.
func wantCode(tb testing.TB, err error, code string) *datasets.Error {
	tb.Helper()
	var de *datasets.Error
	if !errors.As(err, &de) {
		tb.Fatalf("error %v (%T) is not a *datasets.Error", err, err)
	}
	if de.Code != code {
		tb.Fatalf("error code %s, want %s: %v", de.Code, code, err)
	}
	return de
}

// sliceSource is a datasets.RowSource over fixed rows.
type sliceSource struct{ rows [][]any }

func (s *sliceSource) Next() ([]any, error) {
	if len(s.rows) == 0 {
		return nil, io.EOF
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r, nil
}

func fixture(name string) string { return filepath.Join("testdata", name) }
