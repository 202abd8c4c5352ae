// Package rowstest is the contract every datasets.Rows must meet, as a test
// suite an adapter runs against its own backends: loading is all or
// nothing, every filter operator, NULL ordering, keyset paging that visits
// each row exactly once, and identical Go types from every backend.
package rowstest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
)

//go:embed testdata/aqi.csv
var aqiCSV []byte

// Run runs the suite; open must return an empty row store.
func Run(t *testing.T, open func(t *testing.T) datasets.Rows) {
	r := open(t)
	mustLoad(t, r, "ops", opsCols, opsRows())
	t.Run("types", func(t *testing.T) { testTypes(t, r) })
	t.Run("edge values", func(t *testing.T) { testEdgeValues(t, r) })
	t.Run("filters", func(t *testing.T) { testFilters(t, r) })
	t.Run("sort", func(t *testing.T) { testSort(t, r) })
	t.Run("keyset paging", func(t *testing.T) { testPaging(t, r) })
	t.Run("invalid queries", func(t *testing.T) { testInvalid(t, r) })
	t.Run("table names", func(t *testing.T) { testTableNames(t, r) })
	t.Run("failed load leaves no table", func(t *testing.T) { testFailedLoad(t, r) })
	t.Run("real file", func(t *testing.T) { testAQI(t, r) })
}

// Column names that need quoting: Chinese, a dot, a space, a double quote.
var opsCols = []datasets.Column{
	{Name: "編號", Type: datasets.TypeInteger},
	{Name: "站名", Type: datasets.TypeText},
	{Name: "PM2.5", Type: datasets.TypeDecimal},
	{Name: `say "hi"`, Type: datasets.TypeInteger},
	{Name: "is open", Type: datasets.TypeBoolean},
	{Name: "日期", Type: datasets.TypeDate},
	{Name: "發布時間", Type: datasets.TypeDatetime},
}

func day(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func at(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func opsRows() [][]any {
	return [][]any{
		{int64(1), "台北", 12.5, int64(3), true, day("2024-01-02"), at("2024-01-02T03:04:05.123456+08:00")},
		{int64(2), "台中", nil, int64(1), false, day("2024-01-01"), at("2024-01-01T00:00:00Z")},
		{int64(3), "台南", 7.0, nil, true, nil, nil},
		{int64(4), "高雄", 30.25, int64(2), nil, day("2023-12-31"), at("2023-12-31T23:59:59.5Z")},
		{int64(5), "臺東", 12.5, int64(5), false, day("2024-02-29"), at("2024-02-29T12:00:00Z")},
		{int64(6), nil, 1.0, int64(4), true, day("2024-01-02"), at("2024-01-02T00:00:00Z")},
		{int64(7), "台北市", 12.5, int64(3), true, day("2024-01-03"), at("2024-01-03T00:00:00Z")},
		{int64(8), "A\"'; --", -2.5, int64(0), false, day("2024-01-04"), at("2024-01-04T00:00:00Z")},
	}
}

type sliceSource struct {
	rows [][]any
	i    int
}

func (s *sliceSource) Next() ([]any, error) {
	if s.i >= len(s.rows) {
		return nil, io.EOF
	}
	s.i++
	return s.rows[s.i-1], nil
}

// Source returns a RowSource over rows.
func Source(rows [][]any) datasets.RowSource { return &sliceSource{rows: rows} }

func mustLoad(t *testing.T, r datasets.Rows, table string, cols []datasets.Column, rows [][]any) {
	t.Helper()
	n, err := r.LoadRows(context.Background(), table, cols, Source(rows))
	if err != nil {
		t.Fatalf("LoadRows(%s): %v", table, err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("LoadRows(%s) = %d rows, want %d", table, n, len(rows))
	}
}

func query(t *testing.T, r datasets.Rows, q datasets.RowQuery) datasets.RowPage {
	t.Helper()
	if q.Columns == nil {
		q.Columns = opsCols
	}
	p, err := r.QueryRows(context.Background(), "ops", q)
	if err != nil {
		t.Fatalf("QueryRows(%+v): %v", q, err)
	}
	return p
}

// ids returns the 編號 of each row of a page that selected it first.
func ids(p datasets.RowPage) []int64 {
	out := []int64{}
	for _, row := range p.Rows {
		out = append(out, row[0].(int64))
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := datasets.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want %s", err, got, code)
	}
}

func testTypes(t *testing.T, r datasets.Rows) {
	p := query(t, r, datasets.RowQuery{Limit: 100, Total: true})
	if p.Total != 8 || len(p.Rows) != 8 || p.Next != nil || !slices.Equal(p.Columns, opsCols) {
		t.Fatalf("page: total %d, %d rows, next %v, columns %v", p.Total, len(p.Rows), p.Next, p.Columns)
	}
	sameRows(t, opsCols, p.Rows, opsRows())
	t.Run("select", func(t *testing.T) {
		p := query(t, r, datasets.RowQuery{Select: []string{"PM2.5", "站名"}, Limit: 1})
		if len(p.Columns) != 2 || p.Columns[0].Name != "PM2.5" || !reflect.DeepEqual(p.Rows[0], []any{12.5, "台北"}) {
			t.Fatalf("select: %v %v", p.Columns, p.Rows)
		}
		if p.Total != -1 {
			t.Fatalf("Total = %d without asking, want -1", p.Total)
		}
	})
}

// testEdgeValues reads back values at the ends of each type's range and
// either side of the epochs drivers count from (1970, and PostgreSQL's
// 2000-01-01), with microseconds, exactly as loaded.
func testEdgeValues(t *testing.T, r datasets.Rows) {
	cols := []datasets.Column{
		{Name: "n", Type: datasets.TypeInteger}, {Name: "x", Type: datasets.TypeDecimal},
		{Name: "b", Type: datasets.TypeBoolean}, {Name: "d", Type: datasets.TypeDate},
		{Name: "ts", Type: datasets.TypeDatetime}, {Name: "s", Type: datasets.TypeText},
	}
	rows := [][]any{
		{int64(math.MinInt64), -1.5e300, false, day("0001-01-01"), at("0001-01-01T00:00:00Z"), ""},
		{int64(math.MaxInt64), 5e-324, true, day("9999-12-31"), at("9999-12-31T23:59:59.999999Z"), "末"},
		{int64(-1), -0.125, true, day("1969-12-31"), at("1969-12-31T23:59:59.000001Z"), "前"},
		{int64(0), 0.0, false, day("1999-12-31"), at("1999-12-31T23:59:59.999999Z"), "界"},
		{int64(1), 1e15, true, day("2000-01-01"), at("2000-01-01T00:00:00.000001Z"), "後"},
		{nil, nil, nil, nil, nil, nil},
	}
	mustLoad(t, r, "edges", cols, rows)
	p, err := r.QueryRows(context.Background(), "edges", datasets.RowQuery{Columns: cols, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != len(rows) {
		t.Fatalf("%d rows, want %d", len(p.Rows), len(rows))
	}
	sameRows(t, cols, p.Rows, rows)
}

// sameRows fails unless every value read equals the one loaded: the same
// Go type and value, times the same instant in UTC.
func sameRows(t *testing.T, cols []datasets.Column, got, want [][]any) {
	t.Helper()
	for i, row := range got {
		for j, v := range row {
			w := want[i][j]
			if wt, ok := w.(time.Time); ok {
				if gt, ok := v.(time.Time); !ok || !gt.Equal(wt) || gt.Location() != time.UTC {
					t.Errorf("row %d %s = %#v, want %v in UTC", i+1, cols[j].Name, v, wt)
				}
				continue
			}
			if !reflect.DeepEqual(v, w) {
				t.Errorf("row %d %s = %#v (%T), want %#v (%T)", i+1, cols[j].Name, v, v, w, w)
			}
		}
	}
}

func testFilters(t *testing.T, r datasets.Rows) {
	f := func(field, op string, vs ...any) datasets.RowFilter {
		return datasets.RowFilter{Field: field, Op: op, Values: vs}
	}
	cases := []struct {
		name    string
		filters []datasets.RowFilter
		want    []int64
	}{
		{"eq text", []datasets.RowFilter{f("站名", datasets.OpEq, "台北")}, []int64{1}},
		{"eq with quotes", []datasets.RowFilter{f("站名", datasets.OpEq, "A\"'; --")}, []int64{8}},
		{"eq quoted column", []datasets.RowFilter{f(`say "hi"`, datasets.OpEq, int64(3))}, []int64{1, 7}},
		{"eq boolean", []datasets.RowFilter{f("is open", datasets.OpEq, false)}, []int64{2, 5, 8}},
		{"in", []datasets.RowFilter{f("站名", datasets.OpIn, "台中", "高雄", "nowhere")}, []int64{2, 4}},
		{"in integers", []datasets.RowFilter{f("編號", datasets.OpIn, int64(8), 1, 3.0)}, []int64{1, 3, 8}},
		{"gt decimal", []datasets.RowFilter{f("PM2.5", datasets.OpGt, 12.5)}, []int64{4}},
		{"gte decimal", []datasets.RowFilter{f("PM2.5", datasets.OpGte, 12.5)}, []int64{1, 4, 5, 7}},
		{"lt decimal", []datasets.RowFilter{f("PM2.5", datasets.OpLt, int64(0))}, []int64{8}},
		{"lte decimal", []datasets.RowFilter{f("PM2.5", datasets.OpLte, 1.0)}, []int64{6, 8}},
		{"date range", []datasets.RowFilter{f("日期", datasets.OpGte, "2024-01-02"), f("日期", datasets.OpLt, day("2024-01-04"))}, []int64{1, 6, 7}},
		{"datetime gt sub-second", []datasets.RowFilter{f("發布時間", datasets.OpGt, at("2023-12-31T23:59:59.4Z"))}, []int64{1, 2, 4, 5, 6, 7, 8}},
		{"datetime eq other zone", []datasets.RowFilter{f("發布時間", datasets.OpEq, at("2024-01-01T19:04:05.123456Z"))}, []int64{1}},
		{"prefix chinese", []datasets.RowFilter{f("站名", datasets.OpPrefix, "台")}, []int64{1, 2, 3, 7}},
		{"prefix two chars", []datasets.RowFilter{f("站名", datasets.OpPrefix, "台北")}, []int64{1, 7}},
		{"prefix is not like", []datasets.RowFilter{f("站名", datasets.OpPrefix, "%")}, []int64{}},
		{"prefix empty matches non-null", []datasets.RowFilter{f("站名", datasets.OpPrefix, "")}, []int64{1, 2, 3, 4, 5, 7, 8}},
		{"null true", []datasets.RowFilter{f("PM2.5", datasets.OpNull, true)}, []int64{2}},
		{"null false", []datasets.RowFilter{f("日期", datasets.OpNull, false)}, []int64{1, 2, 4, 5, 6, 7, 8}},
		{"anded", []datasets.RowFilter{f("is open", datasets.OpEq, true), f("PM2.5", datasets.OpGte, 7.0)}, []int64{1, 3, 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := query(t, r, datasets.RowQuery{Filters: tc.filters, Limit: 100, Total: true})
			if got := ids(p); !slices.Equal(got, tc.want) || p.Total != int64(len(tc.want)) {
				t.Fatalf("rows %v (total %d), want %v", got, p.Total, tc.want)
			}
		})
	}
}

func testSort(t *testing.T, r datasets.Rows) {
	cases := []struct {
		name string
		sort []datasets.SortKey
		want []int64
	}{
		{"decimal asc nulls first", []datasets.SortKey{{Field: "PM2.5"}}, []int64{2, 8, 6, 3, 1, 5, 7, 4}},
		{"decimal desc nulls last", []datasets.SortKey{{Field: "PM2.5", Desc: true}}, []int64{4, 1, 5, 7, 3, 6, 8, 2}},
		{"text code point order", []datasets.SortKey{{Field: "站名"}}, []int64{6, 8, 2, 1, 7, 3, 5, 4}},
		{"mixed directions", []datasets.SortKey{{Field: `say "hi"`, Desc: true}, {Field: "日期"}}, []int64{5, 6, 1, 7, 4, 2, 8, 3}},
		{"boolean then datetime desc", []datasets.SortKey{{Field: "is open"}, {Field: "發布時間", Desc: true}}, []int64{4, 5, 8, 2, 7, 6, 1, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := query(t, r, datasets.RowQuery{Sort: tc.sort, Limit: 100})
			if got := ids(p); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
		})
	}
}

func testPaging(t *testing.T, r datasets.Rows) {
	sorts := map[string][]datasets.SortKey{
		"row order":       nil,
		"nulls asc":       {{Field: "PM2.5"}},
		"nulls desc":      {{Field: "PM2.5", Desc: true}},
		"mixed":           {{Field: `say "hi"`, Desc: true}, {Field: "日期"}},
		"ties and nulls":  {{Field: "is open", Desc: true}, {Field: "站名", Desc: true}},
		"datetime":        {{Field: "發布時間"}},
		"text with nulls": {{Field: "站名"}},
	}
	for name, sort := range sorts {
		t.Run(name, func(t *testing.T) {
			want := ids(query(t, r, datasets.RowQuery{Sort: sort, Limit: 100}))
			for _, limit := range []int{1, 3, 7} {
				var got []int64
				var after []any
				for pages := 0; ; pages++ {
					if pages > 10 {
						t.Fatalf("limit %d: paging does not end", limit)
					}
					p := query(t, r, datasets.RowQuery{Sort: sort, Limit: limit, After: after,
						Filters: []datasets.RowFilter{{Field: "編號", Op: datasets.OpLte, Values: []any{int64(8)}}}, Total: true})
					if p.Total != 8 {
						t.Fatalf("Total = %d on a later page, want 8", p.Total)
					}
					got = append(got, ids(p)...)
					if p.Next == nil {
						break
					}
					if len(p.Next) != len(sort)+1 {
						t.Fatalf("cursor %v has %d values, want %d", p.Next, len(p.Next), len(sort)+1)
					}
					after = p.Next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("limit %d visited %v, want %v", limit, got, want)
				}
			}
		})
	}
	t.Run("cursor of strings", func(t *testing.T) {
		// Cursors round-trip through URLs as text; the adapter must accept that.
		sort := []datasets.SortKey{{Field: "發布時間", Desc: true}}
		p := query(t, r, datasets.RowQuery{Sort: sort, Limit: 2})
		var after []any
		for _, v := range p.Next {
			switch x := v.(type) {
			case time.Time:
				after = append(after, x.Format(time.RFC3339Nano))
			case int64:
				after = append(after, strconv.FormatInt(x, 10))
			default:
				after = append(after, v)
			}
		}
		next := query(t, r, datasets.RowQuery{Sort: sort, Limit: 2, After: after})
		direct := query(t, r, datasets.RowQuery{Sort: sort, Limit: 2, After: p.Next})
		if !slices.Equal(ids(next), ids(direct)) || len(ids(next)) != 2 {
			t.Fatalf("string cursor gave %v, typed cursor %v", ids(next), ids(direct))
		}
	})
}

func testInvalid(t *testing.T, r datasets.Rows) {
	ctx := context.Background()
	cases := []struct {
		name  string
		q     datasets.RowQuery
		field string
	}{
		{"unknown filter field", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "nope", Op: "eq", Values: []any{int64(1)}}}}, "nope"},
		{"injection as field", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: `編號" = 1 OR "1`, Op: "eq", Values: []any{int64(1)}}}}, `編號" = 1 OR "1`},
		{"unknown op", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "編號", Op: "like", Values: []any{"1"}}}}, "編號"},
		{"integer gets text", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "編號", Op: "eq", Values: []any{"abc"}}}}, "編號"},
		{"integer gets fraction", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "編號", Op: "gt", Values: []any{1.5}}}}, "編號"},
		{"date gets garbage", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "日期", Op: "eq", Values: []any{"yesterday"}}}}, "日期"},
		{"boolean gets number", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "is open", Op: "eq", Values: []any{int64(1)}}}}, "is open"},
		{"prefix on decimal", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "PM2.5", Op: "prefix", Values: []any{"1"}}}}, "PM2.5"},
		{"eq with two values", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "站名", Op: "eq", Values: []any{"a", "b"}}}}, "站名"},
		{"in with none", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "站名", Op: "in"}}}, "站名"},
		{"null needs bool", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "站名", Op: "null", Values: []any{"yes"}}}}, "站名"},
		{"eq nil", datasets.RowQuery{Filters: []datasets.RowFilter{{Field: "站名", Op: "eq", Values: []any{nil}}}}, "站名"},
		{"unknown sort", datasets.RowQuery{Sort: []datasets.SortKey{{Field: "nope"}}}, "nope"},
		{"unknown select", datasets.RowQuery{Select: []string{"站名", "secret"}}, "secret"},
		{"short cursor", datasets.RowQuery{Sort: []datasets.SortKey{{Field: "站名"}}, After: []any{"台北"}}, "after"},
		{"cursor of wrong type", datasets.RowQuery{Sort: []datasets.SortKey{{Field: "編號"}}, After: []any{"x", int64(1)}}, "編號"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Columns, q.Limit = opsCols, 10
			_, err := r.QueryRows(ctx, "ops", q)
			wantCode(t, err, datasets.EINVALID)
			if !strings.Contains(datasets.ErrorMessage(err), tc.field) {
				t.Fatalf("message %q does not name %q", datasets.ErrorMessage(err), tc.field)
			}
		})
	}
	t.Run("zero limit", func(t *testing.T) {
		_, err := r.QueryRows(ctx, "ops", datasets.RowQuery{Columns: opsCols})
		wantCode(t, err, datasets.EINVALID)
	})
	t.Run("missing table", func(t *testing.T) {
		_, err := r.QueryRows(ctx, "no_such_table", datasets.RowQuery{Columns: opsCols, Limit: 1})
		wantCode(t, err, datasets.ENOTFOUND)
	})
}

func testTableNames(t *testing.T, r datasets.Rows) {
	ctx := context.Background()
	cols := []datasets.Column{{Name: "a", Type: datasets.TypeText}}
	for _, name := range []string{"", "Ops", "1abc", "_x", "a-b", "a b", `a"b`, "ops; DROP TABLE ops", "表", strings.Repeat("a", 64)} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			_, err := r.LoadRows(ctx, name, cols, Source(nil))
			wantCode(t, err, datasets.EINVALID)
			_, err = r.QueryRows(ctx, name, datasets.RowQuery{Columns: cols, Limit: 1})
			wantCode(t, err, datasets.EINVALID)
			wantCode(t, r.DropRows(ctx, name), datasets.EINVALID)
		})
	}
	t.Run("longest name", func(t *testing.T) {
		name := "a" + strings.Repeat("b", 62)
		mustLoad(t, r, name, cols, [][]any{{"x"}})
		if err := r.DropRows(ctx, name); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("taken", func(t *testing.T) {
		_, err := r.LoadRows(ctx, "ops", opsCols, Source(opsRows()))
		wantCode(t, err, datasets.ECONFLICT)
		p := query(t, r, datasets.RowQuery{Limit: 100})
		if len(p.Rows) != 8 {
			t.Fatalf("the existing table changed: %d rows", len(p.Rows))
		}
	})
	t.Run("bad columns", func(t *testing.T) {
		for name, cs := range map[string][]datasets.Column{
			"none":            nil,
			"reserved":        {{Name: "_row", Type: datasets.TypeInteger}},
			"twice":           {{Name: "a", Type: datasets.TypeText}, {Name: "A", Type: datasets.TypeText}},
			"empty":           {{Name: "", Type: datasets.TypeText}},
			"unknown type":    {{Name: "a", Type: "money"}},
			"over 1024 bytes": {{Name: strings.Repeat("長", 342), Type: datasets.TypeText}},
		} {
			_, err := r.LoadRows(ctx, "bad_cols", cs, Source(nil))
			if datasets.ErrorCode(err) != datasets.EINVALID {
				t.Errorf("%s: error %v, want EINVALID", name, err)
			}
		}
	})
	t.Run("long column names", func(t *testing.T) {
		// Headings of published spreadsheets run past PostgreSQL's 63-byte
		// identifiers; two that differ only after byte 63 stay two columns.
		long := strings.Repeat("長", 21) // 63 bytes
		cols := []datasets.Column{
			{Name: long + "（戶籍人口，單位：萬人）", Type: datasets.TypeInteger},
			{Name: long + "（常住人口，單位：萬人）", Type: datasets.TypeInteger},
			{Name: long, Type: datasets.TypeText},
		}
		mustLoad(t, r, "long_cols", cols, [][]any{{int64(1), int64(10), "a"}, {int64(2), int64(20), "b"}, {int64(3), int64(30), "c"}})
		p, err := r.QueryRows(context.Background(), "long_cols", datasets.RowQuery{Columns: cols, Limit: 10,
			Select:  []string{cols[1].Name, cols[2].Name},
			Filters: []datasets.RowFilter{{Field: cols[0].Name, Op: datasets.OpGte, Values: []any{int64(2)}}},
			Sort:    []datasets.SortKey{{Field: cols[1].Name, Desc: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) != 2 || p.Rows[0][0] != int64(30) || p.Rows[0][1] != "c" || p.Rows[1][0] != int64(20) {
			t.Fatalf("rows %v", p.Rows)
		}
		if p.Columns[0].Name != cols[1].Name {
			t.Fatalf("the page names the column %q, want its full name", p.Columns[0].Name)
		}
		if ix, ok := r.(interface {
			IndexColumns(ctx context.Context, table string, cols []string) error
		}); ok {
			if err := ix.IndexColumns(context.Background(), "long_cols", []string{cols[0].Name, cols[1].Name}); err != nil {
				t.Fatalf("indexing long-named columns: %v", err)
			}
		}
	})
	t.Run("drop", func(t *testing.T) {
		mustLoad(t, r, "to_drop", cols, [][]any{{"x"}, {nil}})
		if err := r.DropRows(ctx, "to_drop"); err != nil {
			t.Fatal(err)
		}
		_, err := r.QueryRows(ctx, "to_drop", datasets.RowQuery{Columns: cols, Limit: 1})
		wantCode(t, err, datasets.ENOTFOUND)
		if err := r.DropRows(ctx, "to_drop"); err != nil {
			t.Fatalf("dropping a missing table: %v", err)
		}
	})
}

func testFailedLoad(t *testing.T, r datasets.Rows) {
	ctx := context.Background()
	cases := []struct {
		name  string
		row   []any
		col   int
		field string
	}{
		{"text in integer column", []any{int64(3), "台南", 7.0, "three", true, nil, nil}, 4, `say "hi"`},
		{"fraction in integer column", []any{3.5, "台南", 7.0, nil, true, nil, nil}, 1, "編號"},
		{"number in text column", []any{int64(3), int64(42), 7.0, nil, true, nil, nil}, 2, "站名"},
		{"bad date", []any{int64(3), "台南", 7.0, nil, true, "2024-13-45", nil}, 6, "日期"},
		{"NUL in text", []any{int64(3), "a\x00b", 7.0, nil, true, nil, nil}, 2, "站名"},
		{"short row", []any{int64(3)}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := opsRows()
			rows[2] = tc.row
			_, err := r.LoadRows(ctx, "half_loaded", opsCols, Source(rows))
			wantCode(t, err, datasets.EINVALID)
			ps := datasets.ErrorProblems(err)
			if len(ps) != 1 || ps[0].Row != 3 || ps[0].Column != tc.col || ps[0].Field != tc.field {
				t.Fatalf("problems = %+v, want row 3 column %d %q", ps, tc.col, tc.field)
			}
			_, err = r.QueryRows(ctx, "half_loaded", datasets.RowQuery{Columns: opsCols, Limit: 1})
			wantCode(t, err, datasets.ENOTFOUND)
		})
	}
	t.Run("the name is free again", func(t *testing.T) {
		mustLoad(t, r, "half_loaded", opsCols, opsRows())
	})
}

// AQIColumns is the schema the AQI fixture is loaded with.
var AQIColumns = []datasets.Column{
	{Name: "SiteName", Type: datasets.TypeText}, {Name: "County", Type: datasets.TypeText},
	{Name: "AQI", Type: datasets.TypeInteger}, {Name: "PM2.5", Type: datasets.TypeDecimal},
	{Name: "PublishTime", Type: datasets.TypeDatetime}, {Name: "SiteId", Type: datasets.TypeInteger},
}

// AQIRows parses the embedded AQI file into typed rows (empty cells are nil).
func AQIRows(t testing.TB) [][]any {
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(aqiCSV, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, h := range recs[0] {
		at[h] = i
	}
	taipei := time.FixedZone("CST", 8*3600)
	var rows [][]any
	for _, rec := range recs[1:] {
		var row []any
		for _, c := range AQIColumns {
			s := rec[at[c.Name]]
			var v any
			switch {
			case s == "":
			case c.Type == datasets.TypeInteger:
				v, err = strconv.ParseInt(s, 10, 64)
			case c.Type == datasets.TypeDecimal:
				v, err = strconv.ParseFloat(s, 64)
			case c.Type == datasets.TypeDatetime:
				v, err = time.ParseInLocation("2006/01/02 15:04:05", s, taipei)
			default:
				v = s
			}
			if err != nil {
				t.Fatalf("%s %q: %v", c.Name, s, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func testAQI(t *testing.T, r datasets.Rows) {
	rows := AQIRows(t)
	mustLoad(t, r, "aqi_20210822", AQIColumns, rows)
	wantTaipei, wantNullPM := 0, 0
	for _, row := range rows {
		if strings.HasPrefix(row[1].(string), "臺北") {
			wantTaipei++
		}
		if row[3] == nil {
			wantNullPM++
		}
	}
	q := func(fs ...datasets.RowFilter) datasets.RowPage {
		p, err := r.QueryRows(context.Background(), "aqi_20210822", datasets.RowQuery{Columns: AQIColumns, Filters: fs, Limit: 500, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := q(); p.Total != int64(len(rows)) || len(p.Rows) != len(rows) {
		t.Fatalf("loaded %d rows, read %d", len(rows), p.Total)
	}
	if p := q(datasets.RowFilter{Field: "County", Op: datasets.OpPrefix, Values: []any{"臺北"}}); p.Total != int64(wantTaipei) || wantTaipei == 0 {
		t.Fatalf("prefix 臺北: %d rows, want %d", p.Total, wantTaipei)
	}
	if p := q(datasets.RowFilter{Field: "PM2.5", Op: datasets.OpNull, Values: []any{true}}); p.Total != int64(wantNullPM) {
		t.Fatalf("PM2.5 null: %d rows, want %d", p.Total, wantNullPM)
	}
	p := q(datasets.RowFilter{Field: "SiteName", Op: datasets.OpEq, Values: []any{"基隆"}})
	if len(p.Rows) != 1 || p.Rows[0][3] != 19.0 || !p.Rows[0][4].(time.Time).Equal(time.Date(2021, 8, 22, 5, 0, 0, 0, time.UTC)) {
		t.Fatalf("基隆 = %v", p.Rows)
	}
}
