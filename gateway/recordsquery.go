package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kaifang/datasets"
)

// Limits of the records API.
const (
	defaultRecordsLimit = 100
	maxRecordsLimit     = 1000
	maxFilterValues     = 100
)

// queryArg is one key=value of a query string, in order, repeats kept.
type queryArg struct{ Key, Value string }

// recordsQuery is a parsed records request.
type recordsQuery struct {
	Rows    datasets.RowQuery
	Format  string // json, csv or ndjson; "" when not asked for by parameter
	Version int    // version= or the cursor's version; 0 = current
	sortKey string // the sort as given, which a cursor must repeat
}

// reserved parameters of the records API; any other key names a field.
var reservedRecordParams = []string{"sort", "fields", "limit", "cursor", "total", "format", "version"}

// recordsCursor is the opaque keyset cursor. It carries the version it
// started on, so paging stays on one immutable table while new versions are
// published, and the sort it was made for.
type recordsCursor struct {
	Version int    `json:"v"`
	Sort    string `json:"s"`
	After   []any  `json:"a"`
}

func encodeCursor(version int, sort string, next []any) (string, error) {
	vals := make([]any, len(next))
	for i, v := range next {
		if t, ok := v.(time.Time); ok {
			vals[i] = t.UTC().Format(time.RFC3339Nano)
		} else {
			vals[i] = v
		}
	}
	b, err := json.Marshal(recordsCursor{Version: version, Sort: sort, After: vals})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(s string) (recordsCursor, error) {
	bad := func() (recordsCursor, error) {
		return recordsCursor{}, invalidParam("cursor", "is not a cursor this API issued")
	}
	if len(s) > 8192 {
		return bad()
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad()
	}
	var cur recordsCursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&cur); err != nil || cur.Version < 1 || len(cur.After) == 0 {
		return bad()
	}
	return cur, nil
}

// cursorVersion returns the version a cursor among args is bound to, or 0.
// The handler needs it before it knows which version's schema to parse with.
func cursorVersion(args []queryArg) (int, error) {
	for _, a := range args {
		if a.Key == "cursor" {
			cur, err := decodeCursor(a.Value)
			if err != nil {
				return 0, err
			}
			return cur.Version, nil
		}
	}
	return 0, nil
}

// parseRecordsQuery turns the query string of a records request into a
// RowQuery on a table with cols. Every name it puts into the query is one of
// cols, and every value is converted to its column's type, so the row store
// receives nothing it would have to trust.
func parseRecordsQuery(args []queryArg, cols []datasets.Column) (recordsQuery, error) {
	q := recordsQuery{Rows: datasets.RowQuery{Columns: cols, Limit: defaultRecordsLimit}}
	byName := make(map[string]datasets.Column, len(cols))
	for _, c := range cols {
		byName[c.Name] = c
	}
	var problems []datasets.Problem
	fail := func(field, format string, a ...any) {
		problems = append(problems, datasets.Problem{Field: field, Message: fmt.Sprintf(format, a...)})
	}
	seen := map[string]bool{}
	var cursor string
	for _, a := range args {
		if !utf8.ValidString(a.Key) || !utf8.ValidString(a.Value) {
			fail("", "parameters must be valid UTF-8")
			continue
		}
		if slices.Contains(reservedRecordParams, a.Key) {
			if seen[a.Key] {
				fail(a.Key, "is given twice")
				continue
			}
			seen[a.Key] = true
		}
		switch a.Key {
		case "limit":
			n, err := strconv.Atoi(a.Value)
			if err != nil || n < 1 || n > maxRecordsLimit {
				fail("limit", "must be an integer from 1 to %d", maxRecordsLimit)
				continue
			}
			q.Rows.Limit = n
		case "total":
			b, err := strconv.ParseBool(a.Value)
			if err != nil {
				fail("total", "must be true or false")
				continue
			}
			q.Rows.Total = b
		case "format":
			switch a.Value {
			case "json", "csv", "ndjson":
				q.Format = a.Value
			default:
				fail("format", "must be json, csv or ndjson")
			}
		case "version":
			n, err := strconv.Atoi(a.Value)
			if err != nil || n < 1 {
				fail("version", "must be a positive integer")
				continue
			}
			if q.Version == 0 {
				q.Version = n
			}
		case "cursor":
			cursor = a.Value
		case "fields":
			for name := range strings.SplitSeq(a.Value, ",") {
				if _, ok := byName[name]; !ok {
					fail(name, "is not a field of this dataset (fields)")
				} else if slices.Contains(q.Rows.Select, name) {
					fail(name, "is selected twice (fields)")
				} else {
					q.Rows.Select = append(q.Rows.Select, name)
				}
			}
		case "sort":
			q.sortKey = a.Value
			for key := range strings.SplitSeq(a.Value, ",") {
				desc := strings.HasPrefix(key, "-")
				name := strings.TrimPrefix(key, "-")
				if _, ok := byName[name]; !ok {
					fail(name, "is not a field of this dataset (sort)")
				} else if slices.ContainsFunc(q.Rows.Sort, func(k datasets.SortKey) bool { return k.Field == name }) {
					fail(name, "is sorted on twice")
				} else {
					q.Rows.Sort = append(q.Rows.Sort, datasets.SortKey{Field: name, Desc: desc})
				}
			}
		default:
			f, err := parseFilter(a.Key, a.Value, byName)
			if err != nil {
				problems = append(problems, datasets.ErrorProblems(err)...)
				continue
			}
			q.Rows.Filters = append(q.Rows.Filters, f)
		}
	}
	if cursor != "" && len(problems) == 0 {
		cur, err := decodeCursor(cursor)
		if err != nil {
			return recordsQuery{}, err
		}
		if q.Version != 0 && q.Version != cur.Version {
			fail("cursor", "belongs to version %d, not version %d", cur.Version, q.Version)
		} else if cur.Sort != q.sortKey {
			fail("cursor", "was made for another sort; repeat the sort of the first page")
		} else if after, err := cursorAfter(cur.After, q.Rows.Sort, byName); err != nil {
			fail("cursor", "is not a cursor this API issued")
		} else {
			q.Version = cur.Version
			q.Rows.After = after
		}
	}
	if len(problems) > 0 {
		return recordsQuery{}, &datasets.Error{Code: datasets.EINVALID, Message: "invalid records query: " + problems[0].String(), Problems: problems}
	}
	return q, nil
}

// cursorAfter gives back their column types to the JSON values of a cursor:
// one per sort key, then the row number.
func cursorAfter(vals []any, sort []datasets.SortKey, byName map[string]datasets.Column) ([]any, error) {
	if len(vals) != len(sort)+1 {
		return nil, fmt.Errorf("cursor has %d values for %d sort keys", len(vals), len(sort))
	}
	out := make([]any, len(vals))
	for i, k := range sort {
		if vals[i] == nil {
			continue
		}
		s := fmt.Sprint(vals[i])
		if b, ok := vals[i].(bool); ok {
			s = strconv.FormatBool(b)
		}
		v, err := convertValue(byName[k.Field].Type, s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	n, ok := vals[len(vals)-1].(json.Number)
	if !ok {
		return nil, fmt.Errorf("row number missing")
	}
	rn, err := n.Int64()
	if err != nil {
		return nil, err
	}
	out[len(out)-1] = rn
	return out, nil
}

var filterOps = []string{datasets.OpEq, datasets.OpIn, datasets.OpGt, datasets.OpGte, datasets.OpLt, datasets.OpLte, datasets.OpPrefix, datasets.OpNull}

func parseFilter(key, value string, byName map[string]datasets.Column) (datasets.RowFilter, error) {
	bad := func(field, format string, a ...any) (datasets.RowFilter, error) {
		msg := fmt.Sprintf(format, a...)
		return datasets.RowFilter{}, &datasets.Error{Code: datasets.EINVALID, Message: msg, Problems: []datasets.Problem{{Field: field, Message: msg}}}
	}
	name, op := key, datasets.OpEq
	col, ok := byName[key]
	if !ok {
		i := strings.LastIndex(key, "__")
		if i < 0 {
			return bad(key, "is not a field of this dataset")
		}
		name, op = key[:i], key[i+2:]
		if col, ok = byName[name]; !ok {
			return bad(name, "is not a field of this dataset")
		}
		if !slices.Contains(filterOps, op) {
			return bad(name, "has no operator %q (eq, in, gt, gte, lt, lte, prefix, null)", op)
		}
	}
	f := datasets.RowFilter{Field: name, Op: op}
	switch op {
	case datasets.OpNull:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return bad(name, "__null takes true or false")
		}
		f.Values = []any{b}
		return f, nil
	case datasets.OpPrefix:
		if col.Type != datasets.TypeText {
			return bad(name, "__prefix works on text fields only")
		}
		f.Values = []any{value}
		return f, nil
	case datasets.OpIn:
		parts := strings.Split(value, ",")
		if len(parts) > maxFilterValues {
			return bad(name, "__in takes at most %d values", maxFilterValues)
		}
		for _, p := range parts {
			v, err := convertValue(col.Type, p)
			if err != nil {
				return bad(name, "%v", err)
			}
			f.Values = append(f.Values, v)
		}
		return f, nil
	}
	v, err := convertValue(col.Type, value)
	if err != nil {
		return bad(name, "%v", err)
	}
	f.Values = []any{v}
	return f, nil
}

// convertValue parses s as a value of type t, as the row store holds it.
func convertValue(t datasets.FieldType, s string) (any, error) {
	switch t {
	case datasets.TypeInteger:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return n, nil
	case datasets.TypeDecimal:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%q is not a decimal number", s)
		}
		return x, nil
	case datasets.TypeBoolean:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case datasets.TypeDate:
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			if t, err2 := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err2 == nil {
				return t.UTC(), nil
			}
			return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
		}
		return d, nil
	case datasets.TypeDatetime:
		s = strings.TrimSpace(s)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateTime, time.DateOnly} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("%q is not a date-time (RFC 3339)", s)
	case datasets.TypeText:
		return s, nil
	}
	return nil, fmt.Errorf("field has unknown type %q", t)
}
