package datasets

import "context"

// Column is one typed column of a row table.
type Column struct {
	Name string    `json:"name"`
	Type FieldType `json:"type"`
}

// Row values are typed Go values: int64 (integer), float64 (decimal), bool
// (boolean), time.Time (date, datetime), string (text) or nil (empty).

// RowSource yields rows to load; Next returns io.EOF after the last row.
type RowSource interface {
	Next() ([]any, error)
}

// Operators of a row filter.
const (
	OpEq     = "eq"
	OpIn     = "in"
	OpGt     = "gt"
	OpGte    = "gte"
	OpLt     = "lt"
	OpLte    = "lte"
	OpPrefix = "prefix" // text only
	OpNull   = "null"   // Values[0] is bool: true = IS NULL
)

// RowFilter is one condition on a column; Values are typed like the column
// (OpIn takes several, the others one).
type RowFilter struct {
	Field  string
	Op     string
	Values []any
}

// SortKey orders rows by a column.
type SortKey struct {
	Field string
	Desc  bool
}

// RowQuery asks a row table for one page of rows.
type RowQuery struct {
	Columns []Column    // the table's schema: the only identifiers a query may name
	Select  []string    // columns to return, in order; empty means all
	Filters []RowFilter // ANDed
	Sort    []SortKey   // then by row number, which makes every order total
	Limit   int         // rows per page, > 0
	After   []any       // keyset cursor: the sort values of the last row seen, then its row number
	Total   bool        // also count every matching row
	// Guard, when set, makes the query return no row (and count none)
	// unless the entry it names is, at the moment the query runs, still
	// published in that open class. Callers that found the entry in a
	// cache set it, so a stale cache can never open rows of an entry that
	// was since closed, withdrawn or reclassified.
	Guard *RowGuard
}

// RowGuard names the catalogue entry a row table belongs to and the open
// class the caller admitted the request under.
type RowGuard struct {
	DatasetID string
	OpenClass OpenClass
}

// RowPage is one page of a row query.
type RowPage struct {
	Columns []Column // the selected columns, in order
	Rows    [][]any
	Next    []any // cursor for the following page; nil on the last page
	Total   int64 // -1 unless asked for
}

// Rows stores the rows of tabular versions, one table per version.
//
// Table names are made by the caller from [a-z0-9_] only; anything else is
// EINVALID. Column names are free text (Chinese, dots, spaces): adapters
// quote them and never splice a name that is not in the table's schema.
type Rows interface {
	// LoadRows creates table with cols plus a row-number key and loads every
	// row of src in one transaction: either all rows are visible or none and
	// the table does not exist. It returns the number of rows loaded.
	// A value that does not fit its column type is EINVALID with a Problem
	// naming the row and column.
	LoadRows(ctx context.Context, table string, cols []Column, src RowSource) (int64, error)
	// QueryRows runs q on table. A field, operator or value that does not
	// fit the schema is EINVALID naming it.
	QueryRows(ctx context.Context, table string, q RowQuery) (RowPage, error)
	// DropRows removes a table; a missing table is not an error.
	DropRows(ctx context.Context, table string) error
}
