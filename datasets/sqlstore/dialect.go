package sqlstore

import (
	"strconv"
	"strings"
	"time"

	"kaifang/datasets"
)

// dialect is everything that differs between SQLite and PostgreSQL. The rest
// of the package writes SQL once, with `?` placeholders.
type dialect struct {
	name string // "sqlite" or "postgres"; also the migrations directory
	// dollar placeholders ($1, $2, …) instead of ?.
	dollar bool
	// forUpdate locks the rows a read-then-write transaction depends on;
	// SQLite needs none because its write transactions are serial.
	forUpdate string
	// serialize is run first in transactions whose order must equal commit
	// order (outbox inserts, migrations); "" when writers are serial anyway.
	serialize string
	// colTypes maps a row column type to its SQL type.
	colTypes map[datasets.FieldType]string
	// tableColumns lists a table's column names; one bound parameter.
	tableColumns string
	// timeAsText stores timestamps as fixed-width UTC text (SQLite has no
	// time type); otherwise time.Time is bound as is.
	timeAsText bool
}

var sqliteDialect = &dialect{
	name: "sqlite",
	colTypes: map[datasets.FieldType]string{
		datasets.TypeInteger:  "INTEGER",
		datasets.TypeDecimal:  "REAL",
		datasets.TypeBoolean:  "INTEGER",
		datasets.TypeDate:     "TEXT",
		datasets.TypeDatetime: "TEXT",
		datasets.TypeText:     "TEXT",
	},
	tableColumns: `SELECT name FROM pragma_table_info(?)`,
	timeAsText:   true,
}

var postgresDialect = &dialect{
	name:      "postgres",
	dollar:    true,
	forUpdate: " FOR UPDATE",
	serialize: `SELECT pg_advisory_xact_lock(4857302195)`,
	colTypes: map[datasets.FieldType]string{
		datasets.TypeInteger:  "BIGINT",
		datasets.TypeDecimal:  "DOUBLE PRECISION",
		datasets.TypeBoolean:  "BOOLEAN",
		datasets.TypeDate:     "DATE",
		datasets.TypeDatetime: "TIMESTAMPTZ",
		// Code-point order, like SQLite, so sorting and prefix ranges agree.
		datasets.TypeText: `TEXT COLLATE "C"`,
	},
	tableColumns: `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
}

// q rewrites `?` placeholders for the dialect. Quoted identifiers and
// string literals are copied untouched, since a column may be named "?".
func (d *dialect) q(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

const timeText = "2006-01-02T15:04:05.000000Z"

// timeUnit is the precision both databases keep.
const timeUnit = time.Microsecond

// now is the store's clock: UTC, truncated to what both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(timeUnit) }

// ts encodes a timestamp for binding.
func (d *dialect) ts(t time.Time) any {
	t = t.UTC().Truncate(timeUnit)
	if d.timeAsText {
		return t.Format(timeText)
	}
	return t
}

// tsPtr encodes an optional timestamp.
func (d *dialect) tsPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return d.ts(*t)
}

// quoteIdent quotes an identifier for both databases.
func quoteIdent(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	writeIdent(&b, s)
	return b.String()
}

// writeIdent writes s to b as a quoted identifier (quoteIdent's rule).
func writeIdent(b *strings.Builder, s string) {
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(s, `"`, `""`))
	b.WriteByte('"')
}
