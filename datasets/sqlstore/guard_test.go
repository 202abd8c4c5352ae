package sqlstore_test

import (
	"context"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/catalogtest"
	"kaifang/datasets/sqlstore/rowstest"
	"kaifang/datasets/sqlstore/sqltest"
)

// A row query with a guard returns rows only while the entry is published
// in the guarded class: what a gateway with a stale entry cache relies on.
func TestRowGuard(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		s := sqltest.MustOpen(t, url)
		ctx := context.Background()
		a := catalogtest.MustAgency(t, s, "env", "環境部")
		d := catalogtest.MustDataset(t, s, catalogtest.NewDataset(a, "aqi"))
		if _, err := s.LoadRows(ctx, "aqi_rows", rowstest.AQIColumns, rowstest.Source(rowstest.AQIRows(t))); err != nil {
			t.Fatal(err)
		}
		query := func(g *datasets.RowGuard) datasets.RowPage {
			t.Helper()
			page, err := s.QueryRows(ctx, "aqi_rows", datasets.RowQuery{Columns: rowstest.AQIColumns, Limit: 5, Total: true, Guard: g})
			if err != nil {
				t.Fatal(err)
			}
			return page
		}
		unguarded := query(nil)
		if len(unguarded.Rows) != 5 || unguarded.Total < 5 {
			t.Fatalf("unguarded page: %d rows, total %d", len(unguarded.Rows), unguarded.Total)
		}
		if p := query(&datasets.RowGuard{DatasetID: d.ID, OpenClass: datasets.Open}); len(p.Rows) != 5 || p.Total != unguarded.Total {
			t.Fatalf("published open entry, open guard: %d rows, total %d", len(p.Rows), p.Total)
		}
		if p := query(&datasets.RowGuard{DatasetID: d.ID, OpenClass: datasets.Conditional}); len(p.Rows) != 0 || p.Total != 0 || p.Next != nil {
			t.Fatalf("open entry under a conditional guard returned %d rows, total %d", len(p.Rows), p.Total)
		}

		gen := s.CatalogGeneration()
		d.OpenClass, d.AccessModes = datasets.Conditional, []datasets.AccessMode{datasets.Query}
		d.Reason, d.LegalBasis = "含個人信息", "《上海市數據條例》第三十條"
		if err := s.UpdateDataset(ctx, d, datasets.Change{Actor: "tester", Summary: "reclassified"}); err != nil {
			t.Fatal(err)
		}
		if s.CatalogGeneration() == gen {
			t.Fatal("reclassifying an entry did not change the catalogue generation")
		}
		if p := query(&datasets.RowGuard{DatasetID: d.ID, OpenClass: datasets.Open}); len(p.Rows) != 0 || p.Total != 0 {
			t.Fatalf("conditional entry under an open guard returned %d rows, total %d", len(p.Rows), p.Total)
		}
		if p := query(&datasets.RowGuard{DatasetID: d.ID, OpenClass: datasets.Conditional}); len(p.Rows) != 5 {
			t.Fatalf("conditional entry under a conditional guard returned %d rows", len(p.Rows))
		}
		d.State = datasets.Withdrawn
		if err := s.UpdateDataset(ctx, d, datasets.Change{Actor: "tester", Summary: "withdrawn"}); err != nil {
			t.Fatal(err)
		}
		for _, class := range []datasets.OpenClass{datasets.Open, datasets.Conditional} {
			if p := query(&datasets.RowGuard{DatasetID: d.ID, OpenClass: class}); len(p.Rows) != 0 || p.Total != 0 {
				t.Fatalf("withdrawn entry under a %s guard returned %d rows, total %d", class, len(p.Rows), p.Total)
			}
		}
		for _, g := range []*datasets.RowGuard{{DatasetID: "aqi", OpenClass: datasets.Open}, {DatasetID: d.ID, OpenClass: datasets.Closed}} {
			_, err := s.QueryRows(ctx, "aqi_rows", datasets.RowQuery{Columns: rowstest.AQIColumns, Limit: 5, Guard: g})
			if datasets.ErrorCode(err) != datasets.EINVALID {
				t.Fatalf("guard %+v: %v, want EINVALID", g, err)
			}
		}
	})
}
