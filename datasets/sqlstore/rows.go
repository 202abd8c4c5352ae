package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"kaifang/datasets"
)

// tableNamePattern is the shape of a row table's name; validTable checks
// it without a regular expression, since every records request checks its
// table (the regexp was 1.7 % of a gateway's CPU under load).
const tableNamePattern = `^[a-z][a-z0-9_]{0,62}$`

// rowKey is the row-number column; callers cannot name a column like it.
const rowKey = "_row"

// maxColumnName bounds a column name (it travels in every schema and
// OpenAPI document); names over 63 bytes are stored shortened (physical).
const maxColumnName = 1024

// maxColumns stays below both databases' column limits (SQLite 2000,
// PostgreSQL 1600).
const maxColumns = 1000

func checkTable(table string) error {
	if !validTable(table) {
		return datasets.Errorf(datasets.EINVALID, "table name %q must match %s", table, tableNamePattern)
	}
	return nil
}

// validTable reports whether table matches tableNamePattern.
func validTable(table string) bool {
	if len(table) == 0 || len(table) > maxIdent || table[0] < 'a' || table[0] > 'z' {
		return false
	}
	for i := 1; i < len(table); i++ {
		if c := table[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// maxIdent is PostgreSQL's identifier length in bytes (NAMEDATALEN - 1).
const maxIdent = 63

// physical is the database name of the column named name. Names of up to 63
// bytes are kept; a longer one (a Chinese heading of more than 21
// characters, common in published spreadsheets) is cut at a character
// boundary and ends in "~" and 8 hex digits of its SHA-256, so it fits
// PostgreSQL's limit and stays distinct. Callers always see the full name:
// the version's schema keeps it, and every query maps it here.
func physical(name string) string {
	if len(name) <= maxIdent {
		return name
	}
	h := sha256.Sum256([]byte(name))
	suffix := "~" + hex.EncodeToString(h[:4])
	cut := maxIdent - len(suffix)
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + suffix
}

// colIdent is the quoted database identifier of a schema column.
func colIdent(name string) string { return quoteIdent(physical(name)) }

// checkColumns refuses names that cannot be the same column on both
// databases: PostgreSQL refuses NUL; SQLite compares ASCII letters
// case-insensitively. Long names are shortened (physical).
func checkColumns(cols []datasets.Column) error {
	if len(cols) == 0 || len(cols) > maxColumns {
		return datasets.Errorf(datasets.EINVALID, "a row table needs 1 to %d columns", maxColumns)
	}
	seen := map[string]bool{}
	for i, c := range cols {
		p := datasets.Problem{Column: i + 1, Field: c.Name}
		switch folded := asciiLower(physical(c.Name)); {
		case c.Name == "" || len(c.Name) > maxColumnName || !utf8.ValidString(c.Name) || strings.IndexByte(c.Name, 0) >= 0:
			p.Message = fmt.Sprintf("column name must be 1–%d bytes of UTF-8 without NUL", maxColumnName)
		case folded == rowKey:
			p.Message = "column name " + rowKey + " is reserved"
		case seen[folded]:
			p.Message = "column name is used twice (letters compare case-insensitively)"
		case datasets.FieldType(c.Type) == "" || sqliteDialect.colTypes[c.Type] == "":
			p.Message = "unknown column type " + string(c.Type)
		default:
			seen[folded] = true
			continue
		}
		return &datasets.Error{Code: datasets.EINVALID, Message: "invalid columns: " + p.String(), Problems: []datasets.Problem{p}}
	}
	return nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// loader reads a RowSource and encodes each row for the database,
// numbering rows from 1 and naming the cell of the first bad value.
type loader struct {
	d    *dialect
	cols []datasets.Column
	src  datasets.RowSource
	n    int64
	row  []any // _row then the encoded cells; reused
	err  error
}

// next reads and encodes one row; false at the end or on error (see err).
func (l *loader) next() bool {
	vals, err := l.src.Next()
	if err == io.EOF {
		return false
	}
	l.n++
	if err != nil {
		var de *datasets.Error
		if !errors.As(err, &de) {
			err = datasets.Wrap(err, datasets.EINVALID, "cannot read row %d", l.n)
		}
		l.err = err
		return false
	}
	if len(vals) != len(l.cols) {
		l.err = l.problem(datasets.Problem{Row: int(l.n), Message: fmt.Sprintf("has %d values, want %d", len(vals), len(l.cols))})
		return false
	}
	l.row[0] = l.n
	for i, v := range vals {
		c, err := l.d.bindCell(l.cols[i].Type, v)
		if err != nil {
			l.err = l.problem(datasets.Problem{Row: int(l.n), Column: i + 1, Field: l.cols[i].Name, Message: err.Error()})
			return false
		}
		l.row[i+1] = c
	}
	return true
}

func (l *loader) problem(p datasets.Problem) error {
	return &datasets.Error{Code: datasets.EINVALID, Message: "cannot load rows: " + p.String(), Problems: []datasets.Problem{p}}
}

// pgx.CopyFromSource over the loader.
func (l *loader) Next() bool             { return l.next() }
func (l *loader) Values() ([]any, error) { return l.row, nil }
func (l *loader) Err() error             { return l.err }

func (s *Store) createSQL(table string, cols []datasets.Column) string {
	var b strings.Builder
	b.WriteString(`CREATE TABLE ` + quoteIdent(table) + ` (` + quoteIdent(rowKey) + ` `)
	if s.d.timeAsText {
		b.WriteString(`INTEGER PRIMARY KEY`) // the rowid itself: no second b-tree
	} else {
		b.WriteString(`BIGINT PRIMARY KEY`)
	}
	for _, c := range cols {
		b.WriteString(`, ` + colIdent(c.Name) + ` ` + s.d.colTypes[c.Type])
	}
	b.WriteString(`)`)
	return b.String()
}

// autoIndexed picks the columns LoadRows indexes: the filterable types, in
// schema order, at most s.AutoIndex. Decimals and booleans are left out:
// range filters on measurements are rare and booleans select too much.
func (s *Store) autoIndexed(cols []datasets.Column) []string {
	var out []string
	for _, c := range cols {
		if len(out) >= s.AutoIndex {
			break
		}
		switch c.Type {
		case datasets.TypeInteger, datasets.TypeDate, datasets.TypeDatetime, datasets.TypeText:
			out = append(out, c.Name)
		}
	}
	return out
}

// indexSQL names an index by a hash of table and column, so names stay
// short, unique and free of the column's characters.
//
// On PostgreSQL the row number follows the column in the index: every page
// of the records API is ordered by it, so `col = ? ORDER BY _row LIMIT n`
// (and its keyset continuation `AND _row > ?`) reads n index entries in
// order instead of every row holding the value and sorting them — a value
// held by 100,000 rows costs a page the same as one held by 10. SQLite needs
// nothing more: its indexes end with the rowid, which _row is.
func (s *Store) indexSQL(table, col string) string {
	h := sha256.Sum256([]byte(table + "\x00" + col))
	cols := colIdent(col)
	if s.d.name == "postgres" {
		cols += `, ` + quoteIdent(rowKey)
	}
	return `CREATE INDEX IF NOT EXISTS ` + quoteIdent("ix_"+hex.EncodeToString(h[:12])) + ` ON ` +
		quoteIdent(table) + ` (` + cols + `)`
}

// LoadRows creates table and loads every row of src in one transaction.
func (s *Store) LoadRows(ctx context.Context, table string, cols []datasets.Column, src datasets.RowSource) (int64, error) {
	if err := checkTable(table); err != nil {
		return 0, err
	}
	if err := checkColumns(cols); err != nil {
		return 0, err
	}
	l := &loader{d: s.d, cols: cols, src: src, row: make([]any, len(cols)+1)}
	var err error
	if s.pool != nil {
		err = s.copyRows(ctx, table, l)
	} else {
		err = s.insertRows(ctx, table, l)
	}
	if err != nil {
		if l.err != nil {
			return 0, l.err
		}
		if isExists(err) {
			return 0, datasets.Wrap(err, datasets.ECONFLICT, "row table %s already exists", table)
		}
		return 0, s.fail(err, "load rows")
	}
	if err := s.analyze(ctx, table); err != nil {
		return 0, err
	}
	return l.n, nil
}

// analyze refreshes PostgreSQL's statistics of a freshly loaded or indexed
// table: without them the planner guesses, and filtered page queries on a
// million-row table scan instead of using the index (39 ms vs < 1 ms per
// page, measured). SQLite's planner picks the index without statistics.
func (s *Store) analyze(ctx context.Context, table string) error {
	if s.pool == nil {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE "+quoteIdent(table)); err != nil {
		return s.fail(err, "analyze rows")
	}
	return nil
}

func isExists(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "already exists") || strings.Contains(err.Error(), "42P07"))
}

// copyRows loads through PostgreSQL's COPY in one transaction.
func (s *Store) copyRows(ctx context.Context, table string, l *loader) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, s.createSQL(table, l.cols)); err != nil {
		return err
	}
	names := []string{rowKey}
	for _, c := range l.cols {
		names = append(names, physical(c.Name))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, l); err != nil {
		return err
	}
	for _, c := range s.autoIndexed(l.cols) {
		if _, err := tx.Exec(ctx, s.indexSQL(table, c)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// insertRows loads through prepared multi-row INSERTs in one transaction.
// It talks to the driver connection directly: database/sql's per-argument
// conversion costs more than SQLite's own work at a million rows.
func (s *Store) insertRows(ctx context.Context, table string, l *loader) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) (err error) {
		c, ok := dc.(interface {
			driver.ConnBeginTx
			driver.ConnPrepareContext
			driver.ExecerContext
		})
		if !ok {
			return fmt.Errorf("sqlite driver connection lacks BeginTx/PrepareContext/ExecContext")
		}
		tx, err := c.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				_ = tx.Rollback()
			}
		}()
		exec := func(q string, args []driver.NamedValue) error {
			_, err := c.ExecContext(ctx, q, args)
			return err
		}
		if err := exec(s.createSQL(table, l.cols), nil); err != nil {
			return err
		}
		width := len(l.cols) + 1
		batch := max(1, min(256, 32766/width)) // SQLite allows 32766 parameters
		head := `INSERT INTO ` + quoteIdent(table) + ` VALUES `
		tuple := `(` + marks(width) + `)`
		stmt := func(rows int) string { return head + strings.TrimSuffix(strings.Repeat(tuple+`,`, rows), `,`) }
		full, err := c.PrepareContext(ctx, stmt(batch))
		if err != nil {
			return err
		}
		defer full.Close()
		fullExec := full.(driver.StmtExecContext)
		args := make([]driver.NamedValue, 0, batch*width)
		for l.next() {
			for _, v := range l.row {
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
			}
			if len(args) == cap(args) {
				if _, err := fullExec.ExecContext(ctx, args); err != nil {
					return err
				}
				args = args[:0]
			}
		}
		if l.err != nil {
			return l.err
		}
		if len(args) > 0 {
			if err := exec(stmt(len(args)/width), args); err != nil {
				return err
			}
		}
		for _, col := range s.autoIndexed(l.cols) {
			if err := exec(s.indexSQL(table, col), nil); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
}

// IndexColumns creates an index on each named column of table, if missing,
// so the gateway can make filterable columns fast. Names must be columns of
// the table (EINVALID otherwise); a missing table is ENOTFOUND.
func (s *Store) IndexColumns(ctx context.Context, table string, cols []string) error {
	if err := checkTable(table); err != nil {
		return err
	}
	have, err := s.tableColumns(ctx, table)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if !have[physical(c)] {
			return datasets.Errorf(datasets.EINVALID, "table %s has no column %q", table, c)
		}
	}
	for _, c := range cols {
		if _, err := s.db.ExecContext(ctx, s.indexSQL(table, c)); err != nil {
			return s.fail(err, "index columns")
		}
	}
	return s.analyze(ctx, table)
}

func (s *Store) tableColumns(ctx context.Context, table string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(s.d.tableColumns), table)
	if err != nil {
		return nil, s.fail(err, "table columns")
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.fail(err, "table columns")
		}
		have[n] = true
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "table columns")
	}
	if len(have) == 0 {
		return nil, datasets.Errorf(datasets.ENOTFOUND, "row table %s not found", table)
	}
	return have, nil
}

// DropRows removes a table; a missing table is not an error.
func (s *Store) DropRows(ctx context.Context, table string) error {
	if err := checkTable(table); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DROP TABLE IF EXISTS `+quoteIdent(table))
	return s.fail(err, "drop rows")
}

var _ sql.Scanner = (*timeScan)(nil)
