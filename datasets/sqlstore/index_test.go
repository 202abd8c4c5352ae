package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/rowstest"
	"kaifang/datasets/sqlstore/sqltest"
)

// A filtered page of the records API (`col = ? ORDER BY _row LIMIT n`) is
// read from an index already in row order: the database reads the page's
// rows, not every row holding the value and then a sort of them. A user
// paging through a value held by 100,000 rows would otherwise pay for all
// of them on every page.
func TestFilteredPagesNeedNoSort(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		s := sqltest.MustOpen(t, url)
		ctx := context.Background()
		cols := []datasets.Column{{Name: "code", Type: datasets.TypeText}, {Name: "n", Type: datasets.TypeInteger}}
		var rows [][]any
		for i := range 20000 {
			rows = append(rows, []any{fmt.Sprintf("C%04d", i%2000), int64(i)}) // 10 rows per code, spread out
		}
		if _, err := s.LoadRows(ctx, "paged", cols, rowstest.Source(rows)); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexColumns(ctx, "paged", []string{"code"}); err != nil {
			t.Fatal(err)
		}
		q := `SELECT "code", "n", "_row" FROM "paged" WHERE "code" = 'C0042' ORDER BY "_row" LIMIT 4`
		explain := "EXPLAIN QUERY PLAN " + q
		if s.Dialect() == "postgres" {
			if _, err := s.DB().ExecContext(ctx, `ANALYZE "paged"`); err != nil {
				t.Fatal(err)
			}
			explain = "EXPLAIN " + q
		}
		res, err := s.DB().QueryContext(ctx, explain)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		rcols, _ := res.Columns()
		var plan []string
		for res.Next() {
			vals := make([]any, len(rcols))
			ptrs := make([]any, len(rcols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := res.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, fmt.Sprint(vals...))
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Sort") || strings.Contains(text, "TEMP B-TREE") || !strings.Contains(strings.ToLower(text), "index") {
			t.Fatalf("a filtered page is sorted or not read from an index:\n%s", text)
		}
		page, err := s.QueryRows(ctx, "paged", datasets.RowQuery{Columns: cols, Limit: 4,
			Filters: []datasets.RowFilter{{Field: "code", Op: datasets.OpEq, Values: []any{"C0042"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Rows) != 4 || page.Rows[0][1] != int64(42) || page.Rows[3][1] != int64(6042) {
			t.Fatalf("first page of C0042: %v", page.Rows)
		}
	})
}
