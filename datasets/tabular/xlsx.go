package tabular

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kaifang/datasets"
)

const (
	maxZipEntries = 10_000
	ratioFloor    = 1 << 20 // parts smaller than this may compress as they like
)

// guardZip refuses zip bombs before excelize inflates anything: it walks
// the central directory, sums the declared sizes and checks each large
// part's compression ratio. archive/zip refuses to inflate past a declared
// size, so a lying directory cannot get around the check.
func guardZip(path string, l Limits) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return datasets.Wrap(err, datasets.EINVALID, "the XLSX file is damaged")
	}
	defer zr.Close()
	if len(zr.File) > maxZipEntries {
		return datasets.Errorf(datasets.ETOOLARGE, "the XLSX file has %d parts, more than %d", len(zr.File), maxZipEntries)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(l.MaxUncompressed) || total < f.UncompressedSize64 {
			return datasets.Errorf(datasets.ETOOLARGE, "the XLSX file would inflate to more than %d bytes; refused", l.MaxUncompressed)
		}
		if f.UncompressedSize64 > ratioFloor {
			ratio := float64(f.UncompressedSize64) / float64(max(f.CompressedSize64, 1))
			if ratio > l.MaxRatio {
				return datasets.Errorf(datasets.ETOOLARGE, "the XLSX part %s is compressed %.0f:1, more than %.0f:1 (a zip bomb?); refused", clip(f.Name), ratio, l.MaxRatio)
			}
		}
	}
	return nil
}

type span struct{ c1, c2 int }

type xlsxSource struct {
	f         *excelize.File
	fmtRows   *excelize.Rows
	rawRows   *excelize.Rows
	row       int
	date1904  bool
	merges    map[int][]mergeFill // sheet row -> merged values covering it
	hmerged   map[int]bool        // sheet rows holding a horizontally merged cell
	cells     []string
	maxCells  int64
	cellsSeen int64
	closeOnce bool
	mergeVals map[[2]int]string // (first row, first column) -> value of a merge
}

type mergeFill struct {
	span
	r1 int // the merge's first row, where its value is
}

func openXLSXSource(path, sheet string, l Limits) (_ *xlsxSource, err error) {
	defer recoverXLSX(&err)
	if err := guardZip(path, l); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: l.MaxUncompressed, UnzipXMLSizeLimit: min(l.MaxUncompressed, excelize.StreamChunkSize)})
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "the XLSX file cannot be read")
	}
	s := &xlsxSource{f: f, maxCells: l.MaxCells}
	fail := func(e error) (*xlsxSource, error) { s.close(); return nil, e }
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return fail(datasets.Errorf(datasets.EINVALID, "the XLSX file has no sheets"))
	}
	if sheet == "" {
		sheet = sheets[0]
	} else if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		return fail(datasets.Errorf(datasets.EINVALID, "the XLSX file has no sheet %q (it has %s)", sheet, strings.Join(sheets, ", ")))
	}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		s.date1904 = *p.Date1904
	}
	refs, err := mergeRefs(path, sheet)
	if err != nil {
		return fail(err)
	}
	s.merges, s.hmerged, s.mergeVals = map[int][]mergeFill{}, map[int]bool{}, map[[2]int]string{}
	var covered int64
	for _, ref := range refs {
		a, b, ok := strings.Cut(ref, ":")
		if !ok {
			continue
		}
		c1, r1, err1 := excelize.CellNameToCoordinates(a)
		c2, r2, err2 := excelize.CellNameToCoordinates(b)
		if err1 != nil || err2 != nil || r2 < r1 || c2 < c1 {
			continue
		}
		covered += int64(r2-r1+1) * int64(c2-c1+1)
		if l.MaxCells > 0 && covered > l.MaxCells {
			return fail(datasets.Errorf(datasets.ETOOLARGE, "the XLSX merged cells cover more than %d cells", l.MaxCells))
		}
		for r := r1; r <= r2; r++ {
			s.merges[r] = append(s.merges[r], mergeFill{span: span{c1, c2}, r1: r1})
		}
		if c2 > c1 {
			s.hmerged[r1] = true
		}
	}
	if s.fmtRows, err = f.Rows(sheet); err != nil {
		return fail(datasets.Wrap(err, datasets.EINVALID, "the XLSX sheet %q cannot be read", sheet))
	}
	if s.rawRows, err = f.Rows(sheet); err != nil {
		return fail(datasets.Wrap(err, datasets.EINVALID, "the XLSX sheet %q cannot be read", sheet))
	}
	return s, nil
}

// next reads one sheet row twice, formatted and raw: the formatted text
// says how the agency meant a number (a date, a zero-padded code), the raw
// value is the number itself.
func (s *xlsxSource) next() (cells []string, line int, err error) {
	defer recoverXLSX(&err)
	if !s.fmtRows.Next() {
		if err := s.fmtRows.Error(); err != nil {
			return nil, s.row, datasets.Wrap(err, datasets.EINVALID, "the XLSX sheet cannot be read")
		}
		return nil, 0, io.EOF
	}
	s.rawRows.Next()
	s.row++
	fv, err := s.fmtRows.Columns()
	if err != nil {
		return nil, s.row, datasets.Wrap(err, datasets.EINVALID, "the XLSX sheet cannot be read at row %d", s.row)
	}
	rv, _ := s.rawRows.Columns(excelize.Options{RawCellValue: true})
	n := max(len(fv), len(rv))
	for _, m := range s.merges[s.row] {
		n = max(n, m.c2)
	}
	s.cellsSeen += int64(n)
	if s.maxCells > 0 && s.cellsSeen > s.maxCells {
		return nil, s.row, datasets.Errorf(datasets.ETOOLARGE, "the XLSX sheet has more than %d cells", s.maxCells)
	}
	s.cells = s.cells[:0]
	for i := range n {
		var f, r string
		if i < len(fv) {
			f = fv[i]
		}
		if i < len(rv) {
			r = rv[i]
		}
		s.cells = append(s.cells, s.cellText(f, r))
	}
	// The value of a merged range sits in its top-left cell, which the
	// stream reaches first; every covered cell repeats it.
	for _, m := range s.merges[s.row] {
		if m.r1 == s.row {
			s.mergeVals[[2]int{m.r1, m.c1}] = s.cells[m.c1-1]
		}
		v := s.mergeVals[[2]int{m.r1, m.c1}]
		for c := m.c1; c <= m.c2; c++ {
			s.cells[c-1] = v
		}
	}
	return s.cells, s.row, nil
}

// cellText chooses between a cell's formatted and raw text.
func (s *xlsxSource) cellText(f, r string) string {
	if f == r || r == "" {
		return f
	}
	num, err := strconv.ParseFloat(r, 64)
	if err != nil {
		return f
	}
	switch {
	case f == "TRUE" || f == "FALSE":
		return f
	case allDigits(f): // a zero-padded code format: the padding is the value
		return f
	case looksDate(f):
		if num < 1 { // a time of day alone: keep the agency's text
			return f
		}
		t, err := excelize.ExcelDateToTime(num, s.date1904)
		if err != nil {
			return f
		}
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format("2006-01-02 15:04:05")
	}
	return r
}

// looksDate reports whether a formatted number reads as a date or time.
func looksDate(f string) bool {
	if _, _, ok := parseDateTime(f, false); ok {
		return true
	}
	if strings.ContainsAny(f, "年月日時:") {
		return true
	}
	// m/d/yy, d-m-yyyy and month names (Aug 22, 2021).
	seps, digitsN, letters := 0, 0, 0
	for _, c := range f {
		switch {
		case c == '/' || c == '-':
			seps++
		case c >= '0' && c <= '9':
			digitsN++
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			letters++
		}
	}
	if strings.ContainsAny(f, "E%$,()") && letters <= 1 {
		return false
	}
	return (seps == 2 && digitsN >= 3 && f[0] != '-') || (letters >= 3 && digitsN >= 1)
}

func (s *xlsxSource) close() error {
	if s.closeOnce {
		return nil
	}
	s.closeOnce = true
	if s.fmtRows != nil {
		s.fmtRows.Close()
	}
	if s.rawRows != nil {
		s.rawRows.Close()
	}
	return s.f.Close()
}

// recoverXLSX turns a panic inside excelize on a malformed workbook into
// EINVALID: bad input must never take the process down.
func recoverXLSX(err *error) {
	if r := recover(); r != nil {
		*err = &datasets.Error{Code: datasets.EINVALID, Message: "the XLSX file is malformed", Err: fmt.Errorf("excelize panic: %v", r)}
	}
}

func sniffXLSX(path string, info *Info, opts Options) (err error) {
	defer recoverXLSX(&err)
	src, err := openXLSXSource(path, opts.Sheet, info.Limits)
	if err != nil {
		return err
	}
	defer src.close()
	info.Sheet = opts.Sheet
	if info.Sheet == "" {
		info.Sheet = src.f.GetSheetList()[0]
	}
	return sniffTable(src, info, opts, true, func(line int) bool { return src.hmerged[line] })
}

// mergeRefs lists the merged ranges of a sheet by scanning its XML part for
// mergeCell elements, without loading the sheet into memory.
func mergeRefs(path, sheet string) ([]string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "the XLSX file is damaged")
	}
	defer zr.Close()
	part, err := sheetPart(&zr.Reader, sheet)
	if err != nil || part == nil {
		return nil, err
	}
	rc, err := part.Open()
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "the XLSX file is damaged")
	}
	defer rc.Close()
	const marker = "mergeCell ref=\""
	var refs []string
	br := bufio.NewReaderSize(rc, 64<<10)
	var carry []byte
	buf := make([]byte, 64<<10)
	for {
		n, rerr := br.Read(buf)
		chunk := append(carry, buf[:n]...)
		cut := 0
		for {
			i := bytes.Index(chunk[cut:], []byte(marker))
			if i < 0 {
				break
			}
			start := cut + i + len(marker)
			j := bytes.IndexByte(chunk[start:], '"')
			if j < 0 {
				cut += i
				break
			}
			refs = append(refs, string(chunk[start:start+j]))
			cut = start + j
		}
		// keep a tail long enough to hold a split marker and its value
		keep := max(cut, len(chunk)-64)
		carry = append(carry[:0:0], chunk[keep:]...)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, datasets.Wrap(rerr, datasets.EINVALID, "the XLSX file is damaged")
		}
	}
	return refs, nil
}

// sheetPart finds the zip entry of a sheet through workbook.xml and its
// relationships.
func sheetPart(zr *zip.Reader, sheet string) (*zip.File, error) {
	read := func(name string, v any) error {
		for _, f := range zr.File {
			if f.Name == name {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				defer rc.Close()
				return xml.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(v)
			}
		}
		return nil
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := read("xl/workbook.xml", &wb); err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "the XLSX workbook is damaged")
	}
	if err := read("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "the XLSX workbook is damaged")
	}
	for _, sh := range wb.Sheets {
		if sh.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID != sh.RID {
				continue
			}
			target := strings.TrimPrefix(r.Target, "/")
			if !strings.HasPrefix(target, "xl/") {
				target = "xl/" + target
			}
			for _, f := range zr.File {
				if f.Name == target {
					return f, nil
				}
			}
		}
	}
	return nil, nil
}
