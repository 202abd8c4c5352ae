package tabular

import (
	"encoding/csv"
	"errors"
	"io"
	"os"

	"kaifang/datasets"
)

type csvSource struct {
	f *os.File
	r *csv.Reader
}

func newCSVSource(f *os.File, enc string, delim rune) (*csvSource, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, datasets.Wrap(err, datasets.EINTERNAL, "tabular: cannot read the file")
	}
	dr, err := decodeReader(f, enc)
	if err != nil {
		return nil, err
	}
	if delim == 0 {
		delim = ','
	}
	r := csv.NewReader(dr)
	r.Comma = delim
	r.FieldsPerRecord = -1 // the table layer judges cell counts, with line numbers
	r.LazyQuotes = true    // agencies' exporters leave bare quotes inside fields
	r.ReuseRecord = true
	return &csvSource{f: f, r: r}, nil
}

func openCSVSource(path, enc string, delim rune) (source, error) {
	if delim == '\r' || delim == '\n' || delim == '"' || delim == 0xFFFD {
		return nil, datasets.Errorf(datasets.EINVALID, "tabular: %q cannot delimit cells", delim)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(err)
	}
	s, err := newCSVSource(f, enc, delim)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, &datasets.Error{Code: datasets.EINVALID,
				Message:  "malformed CSV: " + pe.Err.Error(),
				Problems: []datasets.Problem{{Line: pe.Line, Column: pe.Column, Message: pe.Err.Error()}}, Err: err}
		}
		return nil, 0, datasets.Wrap(err, datasets.EINVALID, "tabular: cannot read the file")
	}
	line, _ := s.r.FieldPos(0)
	return rec, line, nil
}

func (s *csvSource) close() error { return s.f.Close() }

func sniffCSV(f *os.File, info *Info, opts Options) error {
	src, err := newCSVSource(f, info.Encoding, info.Delimiter)
	if err != nil {
		return err
	}
	return sniffTable(src, info, opts, false, nil)
}
