package gateway

import (
	"net/url"
	"testing"
	"time"

	"kaifang/datasets"
)

var testCols = []datasets.Column{
	{Name: "站名", Type: datasets.TypeText},
	{Name: "AQI", Type: datasets.TypeInteger},
	{Name: "PM2.5", Type: datasets.TypeDecimal},
	{Name: "open", Type: datasets.TypeBoolean},
	{Name: "day", Type: datasets.TypeDate},
	{Name: "at", Type: datasets.TypeDatetime},
	{Name: "sort", Type: datasets.TypeText},
}

func argsOf(tb testing.TB, raw string) []queryArg {
	tb.Helper()
	var out []queryArg
	for _, kv := range splitRaw(raw) {
		k, _ := url.QueryUnescape(kv[0])
		v, _ := url.QueryUnescape(kv[1])
		out = append(out, queryArg{k, v})
	}
	return out
}

func splitRaw(raw string) [][2]string {
	var out [][2]string
	for _, part := range splitOn(raw, '&') {
		if part == "" {
			continue
		}
		k, v := part, ""
		for i := 0; i < len(part); i++ {
			if part[i] == '=' {
				k, v = part[:i], part[i+1:]
				break
			}
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

func splitOn(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestParseRecordsQuery(t *testing.T) {
	day := time.Date(2021, 8, 22, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, raw string
		want      datasets.RowFilter
	}{
		{"text eq", "站名=基隆", datasets.RowFilter{Field: "站名", Op: "eq", Values: []any{"基隆"}}},
		{"integer gt", "AQI__gt=50", datasets.RowFilter{Field: "AQI", Op: "gt", Values: []any{int64(50)}}},
		{"decimal lte", "PM2.5__lte=12.5", datasets.RowFilter{Field: "PM2.5", Op: "lte", Values: []any{12.5}}},
		{"boolean", "open=true", datasets.RowFilter{Field: "open", Op: "eq", Values: []any{true}}},
		{"date gte", "day__gte=2021-08-22", datasets.RowFilter{Field: "day", Op: "gte", Values: []any{day}}},
		{"datetime lt", "at__lt=2021-08-22 13:00:00", datasets.RowFilter{Field: "at", Op: "lt", Values: []any{day.Add(13 * time.Hour)}}},
		{"in", "AQI__in=1,2,3", datasets.RowFilter{Field: "AQI", Op: "in", Values: []any{int64(1), int64(2), int64(3)}}},
		{"prefix", "站名__prefix=基", datasets.RowFilter{Field: "站名", Op: "prefix", Values: []any{"基"}}},
		{"null", "PM2.5__null=true", datasets.RowFilter{Field: "PM2.5", Op: "null", Values: []any{true}}},
		{"reserved name via __eq", "sort__eq=x", datasets.RowFilter{Field: "sort", Op: "eq", Values: []any{"x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := parseRecordsQuery(argsOf(t, tc.raw), testCols)
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Rows.Filters) != 1 {
				t.Fatalf("filters %+v", q.Rows.Filters)
			}
			f := q.Rows.Filters[0]
			if f.Field != tc.want.Field || f.Op != tc.want.Op || len(f.Values) != len(tc.want.Values) {
				t.Fatalf("got %+v, want %+v", f, tc.want)
			}
			for i := range f.Values {
				if f.Values[i] != tc.want.Values[i] {
					t.Fatalf("value %d: %#v, want %#v", i, f.Values[i], tc.want.Values[i])
				}
			}
		})
	}
	t.Run("sort fields limit total", func(t *testing.T) {
		q, err := parseRecordsQuery(argsOf(t, "sort=-AQI,站名&fields=站名,AQI&limit=7&total=true"), testCols)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Rows.Sort) != 2 || !q.Rows.Sort[0].Desc || q.Rows.Sort[1].Field != "站名" || q.Rows.Limit != 7 || !q.Rows.Total || len(q.Rows.Select) != 2 {
			t.Fatalf("%+v", q.Rows)
		}
	})
	t.Run("cursor round trip", func(t *testing.T) {
		at := time.Date(2021, 8, 22, 13, 0, 0, 0, time.UTC)
		cur, err := encodeCursor(4, "-at,AQI", []any{at, int64(57), int64(12)})
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseRecordsQuery([]queryArg{{"sort", "-at,AQI"}, {"cursor", cur}}, testCols)
		if err != nil {
			t.Fatal(err)
		}
		if q.Version != 4 || len(q.Rows.After) != 3 || q.Rows.After[0] != at || q.Rows.After[1] != int64(57) || q.Rows.After[2] != int64(12) {
			t.Fatalf("version %d after %#v", q.Version, q.Rows.After)
		}
		if _, err := parseRecordsQuery([]queryArg{{"sort", "AQI"}, {"cursor", cur}}, testCols); !datasets.IsCode(err, datasets.EINVALID) {
			t.Fatalf("cursor with another sort: %v", err)
		}
		if _, err := parseRecordsQuery([]queryArg{{"sort", "-at,AQI"}, {"cursor", cur}, {"version", "3"}}, testCols); !datasets.IsCode(err, datasets.EINVALID) {
			t.Fatalf("cursor with another version: %v", err)
		}
	})
	for _, tc := range []struct{ raw, field string }{
		{"nope=1", "nope"},
		{"AQI__between=1", "AQI"},
		{"AQI=1.5", "AQI"},
		{"PM2.5=abc", "PM2.5"},
		{"PM2.5=NaN", "PM2.5"},
		{"open=maybe", "open"},
		{"day=22/08/2021", "day"},
		{"AQI__prefix=1", "AQI"},
		{"AQI__null=1x", "AQI"},
		{"limit=0", "limit"},
		{"limit=x", "limit"},
		{"limit=1&limit=2", "limit"},
		{"sort=AQI,AQI", "AQI"},
		{"fields=AQI,AQI", "AQI"},
		{"total=perhaps", "total"},
		{"version=0", "version"},
		{"format=xml", "format"},
	} {
		t.Run("refuses "+tc.raw, func(t *testing.T) {
			_, err := parseRecordsQuery(argsOf(t, tc.raw), testCols)
			ps := datasets.ErrorProblems(err)
			if !datasets.IsCode(err, datasets.EINVALID) || len(ps) == 0 || ps[0].Field != tc.field {
				t.Fatalf("err %v problems %+v, want EINVALID naming %s", err, ps, tc.field)
			}
		})
	}
}

// FuzzParseRecordsQuery: whatever the query string, the parser returns a
// query naming only schema columns with values of their types, or
// EINVALID; it never panics.
func FuzzParseRecordsQuery(f *testing.F) {
	for _, seed := range []string{
		"站名=基隆&AQI__gt=50", "AQI__in=1,2,,3", "PM2.5__null=true&sort=-AQI", "fields=站名&limit=1000",
		"day__gte=2021-08-22&at__lt=2021-08-22T13:00:00Z", "cursor=eyJ2IjoxLCJzIjoiIiwiYSI6WzFdfQ", "sort=-&fields=,",
		"%ff=1", "AQI__=1", "__gt=1", "a__b__c=1", "limit=99999999999999999999",
	} {
		f.Add(seed)
	}
	valid := map[string]datasets.FieldType{}
	for _, c := range testCols {
		valid[c.Name] = c.Type
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		var args []queryArg
		for k, vs := range vals {
			for _, v := range vs {
				args = append(args, queryArg{k, v})
			}
		}
		q, err := parseRecordsQuery(args, testCols)
		if err != nil {
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if q.Rows.Limit < 1 || q.Rows.Limit > maxRecordsLimit {
			t.Fatalf("limit %d", q.Rows.Limit)
		}
		for _, f := range q.Rows.Filters {
			typ, ok := valid[f.Field]
			if !ok {
				t.Fatalf("filter on unknown field %q", f.Field)
			}
			for _, v := range f.Values {
				if f.Op == datasets.OpNull {
					if _, ok := v.(bool); !ok {
						t.Fatalf("null takes bool, got %T", v)
					}
					continue
				}
				if !typeMatches(typ, v) {
					t.Fatalf("value %#v does not fit %s", v, typ)
				}
			}
		}
		for _, s := range q.Rows.Sort {
			if _, ok := valid[s.Field]; !ok {
				t.Fatalf("sort on unknown field %q", s.Field)
			}
		}
		for _, s := range q.Rows.Select {
			if _, ok := valid[s]; !ok {
				t.Fatalf("select of unknown field %q", s)
			}
		}
	})
}

func typeMatches(t datasets.FieldType, v any) bool {
	switch v.(type) {
	case int64:
		return t == datasets.TypeInteger
	case float64:
		return t == datasets.TypeDecimal
	case bool:
		return t == datasets.TypeBoolean
	case time.Time:
		return t == datasets.TypeDate || t == datasets.TypeDatetime
	case string:
		return t == datasets.TypeText
	}
	return false
}
