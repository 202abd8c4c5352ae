package tabular

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"kaifang/datasets"
)

// maxColumns is Excel's column limit; wider "tables" are not tables.
const maxColumns = 16384

// jsonSource yields the objects of a JSON array (top-level, or the first
// top-level key whose value is an array of objects) or of an NDJSON
// stream, one cell per known key.
type jsonSource struct {
	f     *os.File
	dec   *json.Decoder
	nd    bool
	key   string // top-level key holding the records
	first json.RawMessage
	index map[string]int
	keys  []string
	grow  bool // Sniff: unseen keys become new columns
	cells []string
	n     int
	done  bool
	buf   bytes.Buffer
}

func newJSONSource(f *os.File, enc string, format Format, grow bool) (*jsonSource, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot read the file")
	}
	dr, err := decodeReader(f, enc)
	if err != nil {
		return nil, err
	}
	s := &jsonSource{f: f, dec: json.NewDecoder(dr), nd: format == NDJSON, index: map[string]int{}, grow: grow}
	s.dec.UseNumber()
	if s.nd {
		return s, nil
	}
	return s, s.seek()
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return datasets.Wrap(err, datasets.EINVALID, "invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return datasets.Wrap(err, datasets.EINVALID, "invalid JSON at byte %d", ue.Offset)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return datasets.Wrap(err, datasets.EINVALID, "invalid JSON: the document ends early")
	}
	return datasets.Wrap(err, datasets.EINVALID, "invalid JSON")
}

// seek positions the decoder inside the array of records.
func (s *jsonSource) seek() error {
	tok, err := s.dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if tok == json.Delim('[') {
		return nil
	}
	if tok != json.Delim('{') {
		return notTabular("a JSON document that is a single value")
	}
	emptyKey, hasEmpty := "", false
	for s.dec.More() {
		kt, err := s.dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := kt.(string)
		vt, err := s.dec.Token()
		if err != nil {
			return jsonError(err)
		}
		switch vt {
		case json.Delim('['):
			if !s.dec.More() {
				if _, err := s.dec.Token(); err != nil {
					return jsonError(err)
				}
				if !hasEmpty {
					emptyKey, hasEmpty = key, true
				}
				continue
			}
			var first json.RawMessage
			if err := s.dec.Decode(&first); err != nil {
				return jsonError(err)
			}
			if len(first) > 0 && first[0] == '{' {
				s.key, s.first = key, first
				return nil
			}
			if err := s.skipRest(1); err != nil {
				return err
			}
		case json.Delim('{'):
			if err := s.skipRest(1); err != nil {
				return err
			}
		}
	}
	if hasEmpty {
		return datasets.Errorf(datasets.EINVALID, "the JSON array %q holds no records", emptyKey)
	}
	return notTabular("JSON without an array of records at its top level" + nestedHint(s.f))
}

// skipRest consumes tokens until depth open containers are closed.
func (s *jsonSource) skipRest(depth int) error {
	for depth > 0 {
		t, err := s.dec.Token()
		if err != nil {
			return jsonError(err)
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// nestedHint names where the first array of objects sits in a nested
// document, so the publisher knows why it was not read as a table.
func nestedHint(f *os.File) string {
	st, err := f.Stat()
	if err != nil || st.Size() > 32<<20 {
		return ""
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	var v any
	if json.NewDecoder(f).Decode(&v) != nil {
		return ""
	}
	if p := findArray(v, "", 0); p != "" {
		return fmt.Sprintf(" (the first array of objects is nested at %s; nested data is stored as-is, without rows)", p)
	}
	return ""
}

func findArray(v any, path string, depth int) string {
	if depth > 32 {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// map order is random; report the alphabetically first for stable messages
		sortStrings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if r := findArray(x[k], p, depth+1); r != "" {
				return r
			}
		}
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				return path
			}
		}
	}
	return ""
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func (s *jsonSource) next() ([]string, int, error) {
	if s.done {
		return nil, 0, io.EOF
	}
	var dec *json.Decoder
	if s.first != nil {
		dec = json.NewDecoder(bytes.NewReader(s.first))
		dec.UseNumber()
		s.first = nil
	} else if s.nd {
		if !s.dec.More() {
			if _, err := s.dec.Token(); err != io.EOF {
				s.done = true
				return nil, s.n, jsonError(fmt.Errorf("unexpected data after record %d", s.n))
			}
			s.done = true
			return nil, 0, io.EOF
		}
		dec = s.dec
	} else {
		if !s.dec.More() {
			s.done = true
			if _, err := s.dec.Token(); err != nil { // the closing ]
				return nil, s.n, jsonError(err)
			}
			return nil, 0, io.EOF
		}
		dec = s.dec
	}
	s.n++
	tok, err := dec.Token()
	if err != nil {
		s.done = true
		return nil, s.n, jsonError(err)
	}
	if tok != json.Delim('{') {
		if tok == json.Delim('[') {
			if err := (&jsonSource{dec: dec}).skipRest(1); err != nil {
				s.done = true
				return nil, s.n, err
			}
		}
		return nil, s.n, &rowFault{p: datasets.Problem{Row: s.n, Message: "the record is not a JSON object"}}
	}
	for i := range s.cells {
		s.cells[i] = ""
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			s.done = true
			return nil, s.n, jsonError(err)
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			s.done = true
			return nil, s.n, jsonError(err)
		}
		i, ok := s.index[key]
		if !ok {
			if !s.grow {
				continue
			}
			if len(s.keys) >= maxColumns {
				s.done = true
				return nil, s.n, datasets.Errorf(datasets.ETOOLARGE, "the JSON records have more than %d distinct keys", maxColumns)
			}
			i = len(s.keys)
			s.index[key] = i
			s.keys = append(s.keys, key)
			s.cells = append(s.cells, "")
		}
		s.cells[i] = s.valueText(raw)
	}
	if _, err := dec.Token(); err != nil {
		s.done = true
		return nil, s.n, jsonError(err)
	}
	return s.cells, s.n, nil
}

func (s *jsonSource) valueText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1])
		}
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
		return ""
	case 'n':
		return ""
	case 't':
		return "true"
	case 'f':
		return "false"
	case '{', '[':
		s.buf.Reset()
		if json.Compact(&s.buf, raw) == nil {
			return s.buf.String()
		}
		return string(raw)
	}
	if bytes.ContainsAny(raw, "eE") {
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return string(raw)
}

func (s *jsonSource) close() error { return s.f.Close() }

func openJSONSource(path string, info *Info) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(err)
	}
	s, err := newJSONSource(f, info.Encoding, info.Format, false)
	if err != nil {
		f.Close()
		return nil, err
	}
	if s.key != info.JSONKey {
		f.Close()
		return nil, datasets.Errorf(datasets.EINVALID, "tabular: the records are under %q, not %q as sniffed", s.key, info.JSONKey)
	}
	for i, k := range info.Keys {
		s.index[k] = i
	}
	s.keys = info.Keys
	s.cells = make([]string, len(info.Keys))
	return s, nil
}

func sniffJSON(f *os.File, info *Info, opts Options) error {
	src, err := newJSONSource(f, info.Encoding, info.Format, true)
	if err != nil {
		return err
	}
	info.JSONKey = src.key
	var (
		stats    []colStat
		declared []parser
		names    []string
		nm       namer
	)
	for {
		cells, n, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if rf, ok := err.(*rowFault); ok {
				info.addProblem(rf.p)
				continue
			}
			return err
		}
		for len(names) < len(src.keys) {
			j := len(names)
			names = append(names, nm.add(src.keys[j], j+1))
			stats = append(stats, colStat{})
			var p parser
			if t, ok := declaredType(opts.Declared, names[j]); ok {
				p = parserFor(t)
			}
			declared = append(declared, p)
		}
		info.Rows++
		if l := info.Limits; l.MaxRows > 0 && info.Rows > l.MaxRows {
			return datasets.Errorf(datasets.ETOOLARGE, "the file has more than %d rows", l.MaxRows)
		} else if l.MaxCells > 0 && info.Rows*int64(max(len(names), 1)) > l.MaxCells {
			return datasets.Errorf(datasets.ETOOLARGE, "the file has more than %d cells", l.MaxCells)
		}
		for j, c := range cells {
			if declared[j] != nil {
				if _, ok := declared[j](c); !ok {
					info.addProblem(datasets.Problem{Row: n, Column: j + 1, Field: names[j],
						Message: fmt.Sprintf("%q is not a valid %s", clip(c), declaredOf(opts.Declared, names[j]))})
				}
				continue
			}
			stats[j].observe(c)
		}
	}
	if len(names) == 0 {
		return datasets.Errorf(datasets.EINVALID, "the JSON holds no records with fields")
	}
	info.Keys = src.keys
	info.Columns = make([]datasets.Column, len(names))
	for j, name := range names {
		info.Columns[j].Name = name
		if declared[j] != nil {
			info.Columns[j].Type = declaredOf(opts.Declared, name)
		} else {
			info.Columns[j].Type = stats[j].typ()
		}
	}
	checkDeclaredPresent(info, opts)
	return nil
}

func declaredOf(decl []datasets.Field, name string) datasets.FieldType {
	t, _ := declaredType(decl, name)
	return t
}
