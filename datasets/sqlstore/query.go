package sqlstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"kaifang/datasets"
)

// Row order: NULL sorts before every value, in both databases. So
// ascending keys are NULLS FIRST and descending keys NULLS LAST, which is
// SQLite's own rule; PostgreSQL is told so explicitly.

// rowQuery is a RowQuery checked against its schema and turned into SQL.
type rowQuery struct {
	s      *Store
	table  string
	schema []datasets.Column // the version's columns, by which a request names them
	sel    []datasets.Column // returned to the caller
	fetch  []datasets.Column // sel, then sort keys not in sel
	sortAt []int             // index in fetch of each sort key
	where  []string
	args   []any
}

func invalidField(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &datasets.Error{Code: datasets.EINVALID, Message: `field "` + field + `": ` + msg,
		Problems: []datasets.Problem{{Field: field, Message: msg}}}
}

func (r *rowQuery) col(field string) (datasets.Column, error) {
	// A schema has a few dozen columns at most: a scan is cheaper than a
	// map made for each query. Later columns win, as a map would have it.
	for i := len(r.schema) - 1; i >= 0; i-- {
		if r.schema[i].Name == field {
			return r.schema[i], nil
		}
	}
	return datasets.Column{}, invalidField(field, "unknown field")
}

// arg binds a value typed like column c and returns its placeholder.
func (r *rowQuery) arg(c datasets.Column, v any) (string, error) {
	b, err := r.s.d.bindCell(c.Type, v)
	if err != nil {
		return "", invalidField(c.Name, "%s", err.Error())
	}
	if b == nil {
		return "", invalidField(c.Name, "a null value can only be matched with the null operator")
	}
	r.args = append(r.args, b)
	return "?", nil
}

func (r *rowQuery) filter(f datasets.RowFilter) error {
	c, err := r.col(f.Field)
	if err != nil {
		return err
	}
	id := colIdent(c.Name)
	one := func() error {
		if len(f.Values) != 1 {
			return invalidField(c.Name, "operator %s takes one value", f.Op)
		}
		return nil
	}
	ops := map[string]string{datasets.OpEq: "=", datasets.OpGt: ">", datasets.OpGte: ">=", datasets.OpLt: "<", datasets.OpLte: "<="}
	switch op := f.Op; op {
	case datasets.OpEq, datasets.OpGt, datasets.OpGte, datasets.OpLt, datasets.OpLte:
		if err := one(); err != nil {
			return err
		}
		p, err := r.arg(c, f.Values[0])
		if err != nil {
			return err
		}
		r.where = append(r.where, id+" "+ops[op]+" "+p)
	case datasets.OpIn:
		if len(f.Values) == 0 || len(f.Values) > 1000 {
			return invalidField(c.Name, "operator in takes 1 to 1000 values")
		}
		ps := make([]string, len(f.Values))
		for i, v := range f.Values {
			if ps[i], err = r.arg(c, v); err != nil {
				return err
			}
		}
		r.where = append(r.where, id+" IN ("+strings.Join(ps, ", ")+")")
	case datasets.OpPrefix:
		if c.Type != datasets.TypeText {
			return invalidField(c.Name, "operator prefix applies to text fields only")
		}
		if err := one(); err != nil {
			return err
		}
		p, ok := f.Values[0].(string)
		if !ok {
			return invalidField(c.Name, "prefix must be text")
		}
		lo, err := r.arg(c, p)
		if err != nil {
			return err
		}
		cond := id + " >= " + lo
		if hi, ok := successor(p); ok {
			ph, _ := r.arg(c, hi)
			cond += " AND " + id + " < " + ph
		}
		r.where = append(r.where, cond)
	case datasets.OpNull:
		if err := one(); err != nil {
			return err
		}
		isNull, ok := f.Values[0].(bool)
		if !ok {
			return invalidField(c.Name, "operator null takes true or false")
		}
		if isNull {
			r.where = append(r.where, id+" IS NULL")
		} else {
			r.where = append(r.where, id+" IS NOT NULL")
		}
	default:
		return invalidField(c.Name, "unknown operator %q (want eq, in, gt, gte, lt, lte, prefix or null)", f.Op)
	}
	return nil
}

// successor returns the least string greater than every string starting
// with p, in code-point order: p with its last code point incremented
// (dropping trailing U+10FFFF). False when no such string exists.
func successor(p string) (string, bool) {
	rs := []rune(p)
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		if last < utf8.MaxRune {
			last++
			if last >= 0xD800 && last <= 0xDFFF { // surrogates are not characters
				last = 0xE000
			}
			rs[len(rs)-1] = last
			return string(rs), true
		}
		rs = rs[:len(rs)-1]
	}
	return "", false
}

// keyset adds the condition "after the cursor" for sort keys keys:
// (k1 after v1) OR (k1 = v1 AND k2 after v2) OR … OR (all equal AND _row > r),
// where "after" follows each key's direction and NULL sorts first.
func (r *rowQuery) keyset(keys []datasets.SortKey, after []any) error {
	if len(after) != len(keys)+1 {
		return invalidField("after", "cursor must hold %d values", len(keys)+1)
	}
	rowNo, err := cell(datasets.TypeInteger, after[len(keys)])
	if err != nil || rowNo == nil {
		return invalidField("after", "cursor must end with a row number")
	}
	var eqs []sqlPart // equal on every key so far
	var ors []sqlPart
	for i, k := range keys {
		c, _ := r.col(k.Field)
		id := colIdent(c.Name)
		v, err := r.s.d.bindCell(c.Type, after[i])
		if err != nil {
			return invalidField(c.Name, "cursor value: %s", err.Error())
		}
		var gt sqlPart // rows strictly after v on this key
		switch {
		case v == nil && !k.Desc:
			gt = sqlPart{id + " IS NOT NULL", nil}
		case v == nil && k.Desc: // NULL is last: nothing is after it
		case !k.Desc:
			gt = sqlPart{id + " > ?", []any{v}}
		default:
			gt = sqlPart{"(" + id + " < ? OR " + id + " IS NULL)", []any{v}}
		}
		if gt.sql != "" {
			ors = append(ors, and(append(slices.Clone(eqs), gt)))
		}
		if v == nil {
			eqs = append(eqs, sqlPart{id + " IS NULL", nil})
		} else {
			eqs = append(eqs, sqlPart{id + " = ?", []any{v}})
		}
	}
	ors = append(ors, and(append(eqs, sqlPart{quoteIdent(rowKey) + " > ?", []any{rowNo}})))
	var sqls []string
	for _, o := range ors {
		sqls = append(sqls, o.sql)
		r.args = append(r.args, o.args...)
	}
	r.where = append(r.where, "("+strings.Join(sqls, " OR ")+")")
	return nil
}

// sqlPart is a fragment of SQL with the values of its placeholders.
type sqlPart struct {
	sql  string
	args []any
}

// and joins parts with AND, keeping their values in placeholder order.
func and(ps []sqlPart) sqlPart {
	var out sqlPart
	var sqls []string
	for _, p := range ps {
		sqls = append(sqls, p.sql)
		out.args = append(out.args, p.args...)
	}
	out.sql = "(" + strings.Join(sqls, " AND ") + ")"
	return out
}

// QueryRows runs q on table.
func (s *Store) QueryRows(ctx context.Context, table string, q datasets.RowQuery) (datasets.RowPage, error) {
	page := datasets.RowPage{Total: -1}
	if err := checkTable(table); err != nil {
		return page, err
	}
	if q.Limit <= 0 {
		return page, invalidField("limit", "must be positive")
	}
	r := &rowQuery{s: s, table: table, schema: q.Columns}
	if len(q.Select) == 0 {
		r.sel = q.Columns
	} else {
		r.sel = make([]datasets.Column, 0, len(q.Select))
	}
	for _, name := range q.Select {
		c, err := r.col(name)
		if err != nil {
			return page, err
		}
		r.sel = append(r.sel, c)
	}
	r.fetch = append(make([]datasets.Column, 0, len(r.sel)+len(q.Sort)), r.sel...)
	var order []string
	for _, k := range q.Sort {
		c, err := r.col(k.Field)
		if err != nil {
			return page, err
		}
		at := -1
		for i, f := range r.fetch {
			if f.Name == c.Name {
				at = i
			}
		}
		if at < 0 {
			at = len(r.fetch)
			r.fetch = append(r.fetch, c)
		}
		r.sortAt = append(r.sortAt, at)
		if k.Desc {
			order = append(order, colIdent(c.Name)+" DESC NULLS LAST")
		} else {
			order = append(order, colIdent(c.Name)+" ASC NULLS FIRST")
		}
	}
	order = append(order, quoteIdent(rowKey))
	for _, f := range q.Filters {
		if err := r.filter(f); err != nil {
			return page, err
		}
	}
	if g := q.Guard; g != nil {
		if !validUUID(g.DatasetID) || (g.OpenClass != datasets.Open && g.OpenClass != datasets.Conditional) {
			return page, datasets.Errorf(datasets.EINVALID, "row guard must name an entry and an open or conditional class")
		}
		// The same gate as the public catalogue queries (publicCond),
		// narrowed to the class the request was admitted under.
		r.where = append(r.where, `EXISTS (SELECT 1 FROM datasets d WHERE d.id = ? AND d.state = 'published' AND d.open_class = ?)`)
		r.args = append(r.args, g.DatasetID, string(g.OpenClass))
	}
	// The count ignores the cursor: it is the size of the whole result.
	var countWhere string
	var countArgs []any
	if q.Total {
		countWhere, countArgs = r.whereSQL(), append([]any(nil), r.args...)
	}
	if q.After != nil {
		if err := r.keyset(q.Sort, q.After); err != nil {
			return page, err
		}
	}
	var qb strings.Builder
	qb.Grow(256)
	qb.WriteString("SELECT ")
	for _, c := range r.fetch {
		writeIdent(&qb, physical(c.Name))
		qb.WriteString(", ")
	}
	writeIdent(&qb, rowKey)
	qb.WriteString(" FROM ")
	writeIdent(&qb, table)
	for i, w := range r.where {
		if i == 0 {
			qb.WriteString(" WHERE ")
		} else {
			qb.WriteString(" AND ")
		}
		qb.WriteString(w)
	}
	qb.WriteString(" ORDER BY ")
	qb.WriteString(strings.Join(order, ", "))
	qb.WriteString(" LIMIT ")
	qb.WriteString(strconv.Itoa(q.Limit + 1))
	rows, err := s.queryPage(ctx, s.d.q(qb.String()), r.args)
	if err != nil {
		return page, s.fail(err, "query rows of "+table)
	}
	defer rows.Close()
	page.Columns, page.Rows = r.sel, make([][]any, 0, min(q.Limit, 64))
	var lastVals []any // the last row read and its row number: the cursor
	var lastRowNo any  // is made from them only when there is a next page
	raw := make([]any, len(r.fetch)+1)
	ptrs := make([]any, len(raw))
	// Rows are cut from slabs of a few rows each, not allocated one by one.
	var slab []any
	slabRows := min(q.Limit, 16)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if len(page.Rows) == q.Limit {
			page.Next = make([]any, 0, len(r.sortAt)+1)
			for _, at := range r.sortAt {
				page.Next = append(page.Next, lastVals[at])
			}
			page.Next = append(page.Next, lastRowNo)
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return page, s.fail(err, "query rows of "+table)
		}
		if len(slab) < len(r.fetch) {
			slab = make([]any, len(r.fetch)*slabRows)
			slabRows = min(2*slabRows, 256)
		}
		vals := slab[:len(r.fetch):len(r.fetch)]
		slab = slab[len(r.fetch):]
		for i, c := range r.fetch {
			if vals[i], err = decode(c.Type, raw[i]); err != nil {
				return page, datasets.Wrap(err, datasets.EINTERNAL, "row table %s holds a value unlike its %s column %q", table, c.Type, c.Name)
			}
		}
		lastVals = vals
		lastRowNo, _ = decode(datasets.TypeInteger, raw[len(r.fetch)])
		page.Rows = append(page.Rows, vals[:len(r.sel):len(r.sel)])
	}
	if err := rows.Err(); err != nil {
		return page, s.fail(err, "query rows of "+table)
	}
	if q.Total {
		if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM `+quoteIdent(table)+countWhere), countArgs...).Scan(&page.Total); err != nil {
			return page, s.fail(err, "count rows of "+table)
		}
	}
	return page, nil
}

func (r *rowQuery) whereSQL() string {
	if len(r.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(r.where, " AND ")
}

// pageRows is what QueryRows reads a page through: *sql.Rows, or pgx's own
// rows on PostgreSQL.
type pageRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// queryPage runs a page query. On PostgreSQL it goes to the pgx pool
// directly: a page is one statement on one connection, and database/sql's
// pool in front of pgx's (acquire, release and the driver.Value
// conversions of every cell) cost about a tenth of a page's CPU
// (BENCHMARKS.md, BenchmarkQueryRows). pgxRows gives the same Go types as
// database/sql did for the column types row tables use (BIGINT, DOUBLE
// PRECISION, BOOLEAN, DATE, TIMESTAMPTZ, TEXT).
func (s *Store) queryPage(ctx context.Context, query string, args []any) (pageRows, error) {
	if s.pool == nil {
		return s.db.QueryContext(ctx, query, args...)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

// pgxRows gives pgx.Rows database/sql's Close signature, and scans into
// *any itself: the binary forms of the column types row tables use are
// decoded here into the Go types database/sql would give, without pgx's
// per-row scan planning or its type lookup per cell (a quarter of a page's
// CPU in BenchmarkQueryRows); any other type or a text-format column goes
// through pgx's Values.
type pgxRows struct{ pgx.Rows }

// PostgreSQL type OIDs (pg_type.dat) of the row-table column types.
const (
	oidBool        = 16
	oidInt8        = 20
	oidText        = 25
	oidFloat8      = 701
	oidDate        = 1082
	oidTimestamptz = 1184
)

// pgEpoch is day and microsecond zero of PostgreSQL's binary date and
// timestamp forms.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (r pgxRows) Scan(dest ...any) error {
	fds, raw := r.FieldDescriptions(), r.RawValues()
	if len(raw) != len(dest) || len(fds) != len(dest) {
		return fmt.Errorf("row has %d values for %d destinations", len(raw), len(dest))
	}
	var vals []any // pgx's decoding of the whole row, made when first needed
	for i, d := range dest {
		p, ok := d.(*any)
		if !ok {
			return fmt.Errorf("destination %d is %T, not *any", i, d)
		}
		v, ok := rawCell(fds[i].DataTypeOID, fds[i].Format, raw[i])
		if !ok {
			if vals == nil {
				var err error
				if vals, err = r.Values(); err != nil {
					return err
				}
			}
			v = vals[i]
		}
		*p = v
	}
	return nil
}

// rawCell decodes one cell of a row-table column type: text in either
// format (they are the same bytes), the others in binary; ok is false for
// anything else. NULL is a nil cell.
func rawCell(oid uint32, format int16, b []byte) (v any, ok bool) {
	if b == nil {
		return nil, true
	}
	if oid == oidText {
		return string(b), true
	}
	if format != pgx.BinaryFormatCode {
		return nil, false
	}
	switch {
	case oid == oidInt8 && len(b) == 8:
		return int64(binary.BigEndian.Uint64(b)), true
	case oid == oidFloat8 && len(b) == 8:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), true
	case oid == oidBool && len(b) == 1:
		return b[0] != 0, true
	case oid == oidDate && len(b) == 4:
		days := int32(binary.BigEndian.Uint32(b))
		if days == math.MaxInt32 || days == math.MinInt32 { // ±infinity: pgx's own handling
			return nil, false
		}
		return pgEpoch.AddDate(0, 0, int(days)), true
	case oid == oidTimestamptz && len(b) == 8:
		us := int64(binary.BigEndian.Uint64(b))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return nil, false
		}
		// Seconds and microseconds apart: a time.Duration holds only ±292 years.
		sec, rem := us/1e6, us%1e6
		if rem < 0 {
			sec, rem = sec-1, rem+1e6
		}
		return time.Unix(pgEpoch.Unix()+sec, rem*1000).UTC(), true
	}
	return nil, false
}

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}
