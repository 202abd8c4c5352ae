package tabular

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"kaifang/datasets"
)

// Format is the kind of a tabular file.
type Format string

const (
	CSV    Format = "csv"
	TSV    Format = "tsv"
	XLSX   Format = "xlsx"
	JSON   Format = "json"
	NDJSON Format = "ndjson"
	// None marks a file that holds no table (PDF, ZIP, image, nested JSON…).
	None Format = ""
)

// Encoding names recorded in Info.Encoding.
const (
	EncUTF8    = "UTF-8"
	EncUTF8BOM = "UTF-8-BOM"
	EncUTF16LE = "UTF-16LE"
	EncUTF16BE = "UTF-16BE"
	EncGB18030 = "GB18030" // a superset of GBK and GB2312
	EncBig5    = "Big5"
)

// Default limits, used where Options leaves a limit at zero.
const (
	DefaultMaxCells        = 200_000_000
	DefaultMaxUncompressed = 1 << 30
	DefaultMaxRatio        = 200
	maxProblems            = 100
	headerSample           = 64
)

// ErrNotTabular is the cause (errors.Is) of the error Sniff returns for a
// file that holds no table. Such files are stored and served without rows.
var ErrNotTabular = errors.New("not a tabular file")

// Options steer Sniff.
type Options struct {
	// Sheet names the XLSX sheet to read; "" means the first.
	Sheet string
	// Encoding forces a text encoding (one of the Enc… names) instead of
	// detecting it.
	Encoding string
	// Declared is the entry's declared schema: a column whose name matches a
	// declared field gets the declared type, whatever inference would say.
	Declared []datasets.Field
	// MaxCells bounds rows × columns (0: DefaultMaxCells, <0: no limit).
	MaxCells int64
	// MaxUncompressed bounds the total uncompressed size of an XLSX archive
	// (0: DefaultMaxUncompressed).
	MaxUncompressed int64
	// MaxRatio bounds the compression ratio of any XLSX part larger than
	// 1 MiB (0: DefaultMaxRatio). Real sheets compress 5–20×; zip bombs 1000×.
	MaxRatio float64
	// MaxRows bounds the number of data rows (0 or <0: no limit).
	MaxRows int64
}

// Limits are the bounds Sniff applied; Open applies them again.
type Limits struct {
	MaxCells        int64   `json:"max_cells"`
	MaxUncompressed int64   `json:"max_uncompressed"`
	MaxRatio        float64 `json:"max_ratio"`
	MaxRows         int64   `json:"max_rows"`
}

func (o Options) limits() Limits {
	l := Limits{MaxCells: o.MaxCells, MaxUncompressed: o.MaxUncompressed, MaxRatio: o.MaxRatio, MaxRows: o.MaxRows}
	if l.MaxCells == 0 {
		l.MaxCells = DefaultMaxCells
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = DefaultMaxUncompressed
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return l
}

// Info is what Sniff learned about a file; Open reads the file by it. Every
// field Open needs is exported so that an Info can be stored and reused.
type Info struct {
	Format    Format `json:"format"`
	Encoding  string `json:"encoding"`            // one of the Enc… names; "" for XLSX
	Delimiter rune   `json:"delimiter,omitempty"` // CSV/TSV
	Sheet     string `json:"sheet,omitempty"`     // XLSX
	// HeaderLine is the 1-based physical line (CSV) or sheet row (XLSX) of
	// the header; 0 for JSON. HeaderRows is 2 when an XLSX header was two
	// rows (merged group cells above their sub-headings).
	HeaderLine int `json:"header_line,omitempty"`
	HeaderRows int `json:"header_rows,omitempty"`
	// JSONKey is the top-level key whose array holds the records ("data" in
	// {total,data:[…]}); "" for a top-level array or NDJSON.
	JSONKey string            `json:"json_key,omitempty"`
	Columns []datasets.Column `json:"columns"`
	// Keys are the headings or JSON keys each column was read from, before
	// names were cleaned and made unique.
	Keys     []string           `json:"keys"`
	Rows     int64              `json:"rows"`
	Notes    []string           `json:"notes,omitempty"`    // preamble and footer text
	Problems []datasets.Problem `json:"problems,omitempty"` // ragged rows, values that fit no declared type
	Limits   Limits             `json:"limits"`
}

// Reader streams the typed rows of a file. Next returns io.EOF after the
// last row. Each row is a fresh slice the caller may keep.
type Reader interface {
	datasets.RowSource
	// Line is the 1-based line (CSV), sheet row (XLSX) or record number
	// (JSON) of the row Next returned last.
	Line() int
	Close() error
}

// Sniff detects the format, encoding, delimiter, header and column types of
// the file at path, reading it whole. A file that holds no table returns
// an EINVALID error whose cause is ErrNotTabular (with Info.Format None).
// Malformed input is EINVALID; a file past a limit is ETOOLARGE. Rows that
// are ragged or do not fit a declared type do not fail Sniff: they are
// listed in Info.Problems, and Open fails on them.
func Sniff(path string, opts Options) (*Info, error) {
	info := &Info{Limits: opts.limits()}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(err)
	}
	defer f.Close()
	det, err := detect(f, path, opts.Encoding)
	if err != nil {
		return info, err
	}
	info.Format, info.Encoding, info.Delimiter = det.format, det.encoding, det.delim
	if det.format == None {
		return info, notTabular(det.why)
	}
	switch det.format {
	case XLSX:
		info.Encoding = ""
		err = sniffXLSX(path, info, opts)
	case JSON, NDJSON:
		err = sniffJSON(f, info, opts)
	default:
		err = sniffCSV(f, info, opts)
	}
	if errors.Is(err, ErrNotTabular) {
		info.Format, info.Delimiter = None, 0
	}
	if err != nil {
		return info, err
	}
	return info, nil
}

// Open streams the rows of the file at path as info describes them.
func Open(path string, info *Info) (Reader, error) {
	if info == nil || len(info.Columns) == 0 {
		return nil, datasets.Errorf(datasets.EINVALID, "tabular: no columns to read (sniff the file first)")
	}
	if len(info.Keys) != len(info.Columns) {
		return nil, datasets.Errorf(datasets.EINVALID, "tabular: info has %d keys for %d columns", len(info.Keys), len(info.Columns))
	}
	var (
		src source
		err error
	)
	switch info.Format {
	case CSV, TSV:
		src, err = openCSVSource(path, info.Encoding, info.Delimiter)
	case XLSX:
		src, err = openXLSXSource(path, info.Sheet, info.Limits)
	case JSON, NDJSON:
		src, err = openJSONSource(path, info)
	default:
		return nil, notTabular("format " + strings.TrimSpace(string(info.Format)) + " holds no rows")
	}
	if err != nil {
		return nil, err
	}
	r := &reader{info: info, cols: info.Columns, parsers: parsersFor(info.Columns)}
	if info.Format == JSON || info.Format == NDJSON {
		r.tbl = newTable(src, len(info.Columns), true, false)
	} else {
		// Skip preamble and header records.
		for {
			cells, line, err := src.next()
			if err != nil {
				src.close()
				if err == io.EOF {
					return nil, datasets.Errorf(datasets.EINVALID, "tabular: the file ended before its header (line %d)", info.HeaderLine)
				}
				return nil, asInvalid(err)
			}
			if line < info.HeaderLine {
				continue
			}
			_ = cells
			if n := max(info.HeaderRows, 1) - 1; n > 0 {
				for range n {
					if _, _, err := src.next(); err != nil {
						src.close()
						return nil, asInvalid(err)
					}
				}
			}
			break
		}
		r.tbl = newTable(src, len(info.Columns), info.Format == XLSX, true)
	}
	return r, nil
}

type reader struct {
	info    *Info
	cols    []datasets.Column
	parsers []parser
	tbl     *table
	line    int
	rows    int64
	closed  bool
}

func (r *reader) Line() int { return r.line }

func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.tbl.src.close()
}

func (r *reader) Next() ([]any, error) {
	if r.closed {
		return nil, io.EOF
	}
	cells, line, err := r.tbl.next()
	if line > 0 {
		r.line = line
	}
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, asInvalid(err)
	}
	r.rows++
	if l := r.info.Limits; l.MaxRows > 0 && r.rows > l.MaxRows {
		return nil, datasets.Errorf(datasets.ETOOLARGE, "the file has more than %d rows", l.MaxRows)
	}
	if l := r.info.Limits; l.MaxCells > 0 && r.rows*int64(len(r.cols)) > l.MaxCells {
		return nil, datasets.Errorf(datasets.ETOOLARGE, "the file has more than %d cells", l.MaxCells)
	}
	row := make([]any, len(r.cols))
	for i := range r.cols {
		var s string
		if i < len(cells) {
			s = cells[i]
		}
		v, ok := r.parsers[i](s)
		if !ok {
			p := datasets.Problem{Line: line, Column: i + 1, Field: r.cols[i].Name,
				Message: fmt.Sprintf("%q is not a valid %s", clip(s), r.cols[i].Type)}
			if r.info.Format == JSON || r.info.Format == NDJSON {
				p.Line, p.Row = 0, line
			}
			return nil, &datasets.Error{Code: datasets.EINVALID, Message: "a value does not fit its column: " + p.String(), Problems: []datasets.Problem{p}}
		}
		row[i] = v
	}
	return row, nil
}

// rowFault is a row the stream can continue past (ragged, not an object):
// Sniff lists it, Open fails on it.
type rowFault struct{ p datasets.Problem }

func (f *rowFault) Error() string { return f.p.String() }

func asInvalid(err error) error {
	var rf *rowFault
	if errors.As(err, &rf) {
		return &datasets.Error{Code: datasets.EINVALID, Message: "malformed row: " + rf.p.String(), Problems: []datasets.Problem{rf.p}}
	}
	var de *datasets.Error
	if errors.As(err, &de) {
		return err
	}
	return datasets.Wrap(err, datasets.EINVALID, "tabular: cannot read the file")
}

func notTabular(why string) error {
	return &datasets.Error{Code: datasets.EINVALID, Message: "not a tabular file: " + why, Err: ErrNotTabular}
}

func openError(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return datasets.Wrap(err, datasets.ENOTFOUND, "tabular: file not found")
	}
	return datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot open the file")
}

func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}

// addProblem appends p unless the list is full; the last slot says more were found.
func (info *Info) addProblem(p datasets.Problem) {
	switch {
	case len(info.Problems) < maxProblems-1:
		info.Problems = append(info.Problems, p)
	case len(info.Problems) == maxProblems-1:
		info.Problems = append(info.Problems, datasets.Problem{Message: "more problems were found and not listed"})
	}
}
