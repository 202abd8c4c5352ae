package tabular

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"kaifang/datasets"
)

// source yields raw records. The slice is valid until the next call; line
// is the physical line (CSV), sheet row (XLSX) or record number (JSON).
type source interface {
	next() (cells []string, line int, err error)
	close() error
}

type record struct {
	cells []string
	line  int
	fault error
}

// replay yields buffered records before those of src.
type replay struct {
	recs []record
	src  source
}

func (r *replay) next() ([]string, int, error) {
	if len(r.recs) > 0 {
		x := r.recs[0]
		r.recs = r.recs[1:]
		return x.cells, x.line, nil
	}
	return r.src.next()
}

func (r *replay) close() error { return r.src.close() }

// table shapes raw records into rows of exactly width cells. It tells
// footer notes from ragged rows by looking ahead: a row whose only value
// is in its first cell is held until the next data row; if none comes the
// held rows were notes, otherwise they were rows of the table.
type table struct {
	src      source
	width    int
	padShort bool // XLSX omits trailing empty cells, so short rows are not ragged
	grow     bool // Sniff of XLSX: cells sit on a grid, so a value right of the header widens the table
	notes    bool
	queue    []record
	pending  []record
	Notes    []string
}

func newTable(src source, width int, padShort, notes bool) *table {
	return &table{src: src, width: width, padShort: padShort, notes: notes}
}

func trimmedLen(cells []string) int {
	n := len(cells)
	for n > 0 && trimSpace(cells[n-1]) == "" {
		n--
	}
	return n
}

func (t *table) next() ([]string, int, error) {
	for {
		if len(t.queue) > 0 {
			x := t.queue[0]
			t.queue = t.queue[1:]
			return x.cells, x.line, x.fault
		}
		cells, line, err := t.src.next()
		if err == io.EOF {
			for _, p := range t.pending {
				t.Notes = append(t.Notes, trimSpace(p.cells[0]))
			}
			t.pending = nil
			return nil, 0, io.EOF
		}
		if err != nil {
			return nil, line, err
		}
		n := trimmedLen(cells)
		if n == 0 {
			continue // blank rows carry nothing
		}
		if t.notes && t.width > 1 && n == 1 {
			exact := t.padShort || len(cells) == t.width
			t.pending = append(t.pending, record{cells: slices.Clone(cells), line: line, fault: boolFault(exact)})
			continue
		}
		row, fault := t.shape(cells, n, line)
		if len(t.pending) == 0 {
			return row, line, fault
		}
		for _, p := range t.pending {
			if p.fault == nil {
				r, f := t.shape(p.cells, 1, p.line)
				t.queue = append(t.queue, record{cells: r, line: p.line, fault: f})
			} else {
				t.queue = append(t.queue, record{line: p.line, fault: t.ragged(len(p.cells), p.line)})
			}
		}
		t.pending = nil
		t.queue = append(t.queue, record{cells: slices.Clone(row), line: line, fault: fault})
	}
}

// boolFault marks a held single-value row whose cell count was wrong.
func boolFault(exact bool) error {
	if exact {
		return nil
	}
	return io.ErrUnexpectedEOF
}

func (t *table) ragged(n, line int) error {
	col := t.width + 1
	if n < t.width {
		col = n + 1
	}
	return &rowFault{p: datasets.Problem{Line: line, Column: col,
		Message: fmt.Sprintf("ragged row: it has %d cells, the header has %d", n, t.width)}}
}

func (t *table) shape(cells []string, n, line int) ([]string, error) {
	if n > t.width {
		if !t.grow {
			return nil, t.ragged(n, line)
		}
		t.width = n
	}
	if len(cells) >= t.width {
		return cells[:t.width], nil
	}
	if !t.padShort {
		return nil, t.ragged(len(cells), line)
	}
	row := make([]string, t.width)
	copy(row, cells)
	return row, nil
}

// findHeader picks the header among the first records: the table's width
// is the most common cell count; the header is the first record that fills
// at least half of it with two or more distinct names. Records above it
// are preamble (title, unit, period lines; merged titles repeat one value).
func findHeader(sample []record) (h, width int) {
	freq := map[int]int{}
	for _, r := range sample {
		if n := trimmedLen(r.cells); n >= 2 {
			freq[n]++
		}
	}
	w, best := 0, 0
	for n, c := range freq {
		if c > best || (c == best && n > w) {
			w, best = n, c
		}
	}
	if w == 0 {
		return 0, 1
	}
	for i, r := range sample {
		n := trimmedLen(r.cells)
		if n < 2 {
			continue
		}
		seen, ne := map[string]bool{}, 0
		for _, c := range r.cells[:n] {
			if c = trimSpace(c); c != "" {
				seen[c] = true
				ne++
			}
		}
		if ne*2 >= w && len(seen) >= 2 {
			return i, max(w, n)
		}
	}
	return 0, w
}

// cleanName trims a heading and folds line breaks inside it.
func cleanName(s string) string {
	s = trimSpace(s)
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// namer makes column names unique: an empty heading becomes col_N (its
// 1-based position), a repeated one name_2, name_3….
type namer struct{ used map[string]bool }

func (n *namer) add(key string, pos int) string {
	if n.used == nil {
		n.used = map[string]bool{}
	}
	name := cleanName(key)
	if name == "" {
		name = "col_" + strconv.Itoa(pos)
	}
	base := name
	for k := 2; n.used[name]; k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	n.used[name] = true
	return name
}

// declaredType finds the declared field for a column name: exact first,
// then ignoring case and surrounding space.
func declaredType(decl []datasets.Field, name string) (datasets.FieldType, bool) {
	for _, f := range decl {
		if f.Name == name {
			return f.Type, true
		}
	}
	for _, f := range decl {
		if strings.EqualFold(strings.TrimSpace(f.Name), name) {
			return f.Type, true
		}
	}
	return "", false
}

// sniffTable finds the header of a CSV or XLSX source and types its columns
// over the whole file. mergedRow, when set, reports header rows that hold a
// horizontally merged cell (a group heading over sub-headings).
func sniffTable(src source, info *Info, opts Options, padShort bool, mergedRow func(line int) bool) error {
	var sample []record
	for len(sample) < headerSample {
		cells, line, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return asInvalid(err)
		}
		if trimmedLen(cells) == 0 {
			continue
		}
		sample = append(sample, record{cells: slices.Clone(cells), line: line})
	}
	if len(sample) == 0 {
		return datasets.Errorf(datasets.EINVALID, "the file has no rows")
	}
	h, width := findHeader(sample)
	for _, r := range sample[:h] {
		var parts []string
		for _, c := range r.cells {
			// a merged title repeats into every covered cell: keep it once
			if c = trimSpace(c); c != "" && !slices.Contains(parts, c) {
				parts = append(parts, c)
			}
		}
		info.Notes = append(info.Notes, strings.Join(parts, " "))
	}
	keys := make([]string, width)
	copy(keys, sample[h].cells)
	info.HeaderLine, info.HeaderRows = sample[h].line, 1
	if mergedRow != nil && mergedRow(sample[h].line) && h+1 < len(sample) && isSubHeader(sample[h+1].cells, keys) {
		sub := sample[h+1].cells
		for j := range keys {
			top, bot := cleanName(keys[j]), ""
			if j < len(sub) {
				bot = cleanName(sub[j])
			}
			switch {
			case bot == "" || bot == top:
			case top == "":
				keys[j] = bot
			default:
				keys[j] = top + "_" + bot
			}
		}
		info.HeaderRows = 2
	}
	var nm namer
	info.Keys = keys
	info.Columns = make([]datasets.Column, width)
	declared := make([]parser, width)
	for j, k := range keys {
		info.Columns[j].Name = nm.add(k, j+1)
		if t, ok := declaredType(opts.Declared, info.Columns[j].Name); ok {
			info.Columns[j].Type = t
			declared[j] = parserFor(t)
		}
	}
	checkDeclaredPresent(info, opts)
	rest := sample[h+info.HeaderRows:]
	tbl := newTable(&replay{recs: rest, src: src}, width, padShort, true)
	tbl.grow = padShort
	stats := make([]colStat, width)
	for {
		cells, line, err := tbl.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if rf, ok := err.(*rowFault); ok {
				info.addProblem(rf.p)
				continue
			}
			return asInvalid(err)
		}
		info.Rows++
		if err := checkLimits(info); err != nil {
			return err
		}
		for len(stats) < len(cells) { // the table grew: an unnamed column right of the header
			j := len(stats)
			stats = append(stats, colStat{})
			info.Keys = append(info.Keys, "")
			info.Columns = append(info.Columns, datasets.Column{Name: nm.add("", j+1)})
			declared = append(declared, nil)
			if t, ok := declaredType(opts.Declared, info.Columns[j].Name); ok {
				info.Columns[j].Type, declared[j] = t, parserFor(t)
			}
		}
		for j, c := range cells {
			if declared[j] != nil {
				if _, ok := declared[j](c); !ok {
					info.addProblem(datasets.Problem{Line: line, Column: j + 1, Field: info.Columns[j].Name,
						Message: fmt.Sprintf("%q is not a valid %s", clip(c), info.Columns[j].Type)})
				}
				continue
			}
			stats[j].observe(c)
		}
	}
	info.Notes = append(info.Notes, tbl.Notes...)
	for j := range info.Columns {
		if declared[j] == nil {
			info.Columns[j].Type = stats[j].typ()
		}
	}
	return nil
}

func isSubHeader(row, header []string) bool {
	differs, ne := false, 0
	for j, c := range row {
		c = trimSpace(c)
		if c == "" {
			continue
		}
		ne++
		if isDecimal(c) {
			return false
		}
		if _, _, ok := parseDateTime(c, false); ok {
			return false
		}
		if j >= len(header) || c != trimSpace(header[j]) {
			differs = true
		}
	}
	return ne > 0 && differs
}

func checkDeclaredPresent(info *Info, opts Options) {
	for _, f := range opts.Declared {
		found := false
		for _, c := range info.Columns {
			if c.Name == f.Name || strings.EqualFold(strings.TrimSpace(f.Name), c.Name) {
				found = true
				break
			}
		}
		if !found {
			info.addProblem(datasets.Problem{Field: f.Name, Message: "the declared field is not in the file"})
		}
	}
}

func checkLimits(info *Info) error {
	l := info.Limits
	if l.MaxRows > 0 && info.Rows > l.MaxRows {
		return datasets.Errorf(datasets.ETOOLARGE, "the file has more than %d rows", l.MaxRows)
	}
	if l.MaxCells > 0 && info.Rows*int64(max(len(info.Columns), 1)) > l.MaxCells {
		return datasets.Errorf(datasets.ETOOLARGE, "the file has more than %d cells", l.MaxCells)
	}
	return nil
}
