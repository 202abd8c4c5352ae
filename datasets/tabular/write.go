package tabular

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"kaifang/datasets"
)

const (
	dateLayout     = "2006-01-02"
	datetimeLayout = "2006-01-02T15:04:05.999999999"
	maxXLSXRows    = 1_048_576
)

// FormatValue renders one typed value as text the way every writer does:
// dates as yyyy-mm-dd, datetimes as ISO-8601 (with their offset unless they
// are UTC wall-clock values), decimals without exponent noise, nil as "".
func FormatValue(v any, t datasets.FieldType) string {
	return string(appendValue(nil, v, t))
}

func appendValue(b []byte, v any, t datasets.FieldType) []byte {
	switch x := v.(type) {
	case nil:
		return b
	case string:
		return append(b, x...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return appendFloat(b, x)
	case float32:
		return appendFloat(b, float64(x))
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return appendTime(b, x, t)
	case []byte:
		return append(b, x...)
	case json.Number:
		return append(b, x...)
	}
	return fmt.Append(b, v)
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendTime(b []byte, x time.Time, t datasets.FieldType) []byte {
	if t == datasets.TypeDate {
		return x.AppendFormat(b, dateLayout)
	}
	if x.Location() == time.UTC {
		return x.AppendFormat(b, datetimeLayout)
	}
	return x.AppendFormat(b, time.RFC3339Nano)
}

func writeErr(err error) error {
	var de *datasets.Error
	if errors.As(err, &de) {
		return err
	}
	return datasets.Wrap(err, datasets.EINTERNAL, "tabular: writing the file failed")
}

func rowWidthErr(n int, row []any, cols []datasets.Column) error {
	return &datasets.Error{Code: datasets.EINVALID, Message: fmt.Sprintf("row %d has %d values for %d columns", n, len(row), len(cols)),
		Problems: []datasets.Problem{{Row: n, Message: "wrong number of values"}}}
}

// WriteCSV streams src as CSV: a header of the column names, then one
// record per row. bom prefixes a UTF-8 byte-order mark, which Excel needs
// to open Chinese text correctly.
func WriteCSV(w io.Writer, cols []datasets.Column, src datasets.RowSource, bom bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if bom {
		bw.WriteString("\ufeff")
	}
	cw := csv.NewWriter(bw)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return writeErr(err)
	}
	var buf []byte
	for n := 1; ; n++ {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(row) != len(cols) {
			return rowWidthErr(n, row, cols)
		}
		for i, v := range row {
			buf = appendValue(buf[:0], v, cols[i].Type)
			rec[i] = string(buf)
		}
		if err := cw.Write(rec); err != nil {
			return writeErr(err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return writeErr(err)
	}
	if err := bw.Flush(); err != nil {
		return writeErr(err)
	}
	return nil
}

// WriteJSON streams src as a JSON array of objects keyed by column name.
func WriteJSON(w io.Writer, cols []datasets.Column, src datasets.RowSource) error {
	return writeJSON(w, cols, src, false)
}

// WriteNDJSON streams src as one JSON object per line.
func WriteNDJSON(w io.Writer, cols []datasets.Column, src datasets.RowSource) error {
	return writeJSON(w, cols, src, true)
}

func writeJSON(w io.Writer, cols []datasets.Column, src datasets.RowSource, nd bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		keys[i] = appendJSONString(nil, c.Name)
	}
	if !nd {
		bw.WriteByte('[')
	}
	var buf []byte
	n := 0
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n++
		if len(row) != len(cols) {
			return rowWidthErr(n, row, cols)
		}
		buf = buf[:0]
		if !nd {
			if n > 1 {
				buf = append(buf, ',')
			}
			buf = append(buf, '\n')
		}
		buf = append(buf, '{')
		for i, v := range row {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, keys[i]...)
			buf = append(buf, ':')
			buf = appendJSONValue(buf, v, cols[i].Type)
		}
		buf = append(buf, '}')
		if nd {
			buf = append(buf, '\n')
		}
		if _, err := bw.Write(buf); err != nil {
			return writeErr(err)
		}
	}
	if !nd {
		if n > 0 {
			bw.WriteByte('\n')
		}
		bw.WriteString("]\n")
	}
	if err := bw.Flush(); err != nil {
		return writeErr(err)
	}
	return nil
}

func appendJSONValue(b []byte, v any, t datasets.FieldType) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case int64, int, int32, bool:
		return appendValue(b, v, t)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(b, "null"...)
		}
		return appendFloat(b, x)
	case float32:
		return appendJSONValue(b, float64(x), t)
	case json.Number:
		return append(b, x...)
	case time.Time:
		b = append(b, '"')
		b = appendTime(b, x, t)
		return append(b, '"')
	}
	return appendJSONString(b, string(appendValue(nil, v, t)))
}

// appendJSONString quotes s for JSON as encoding/json does without HTML
// escaping; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte { return datasets.AppendJSONString(b, s, false) }

// WriteXLSX streams src into one sheet with typed cells: numbers as
// numbers, booleans as booleans, dates and datetimes as Excel dates.
// excelize's stream writer spools rows to a temporary file, so memory stays
// flat; the workbook is written to w when the rows end.
func WriteXLSX(w io.Writer, cols []datasets.Column, src datasets.RowSource) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetList()[0]
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return writeErr(err)
	}
	dateFmt, dtFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return writeErr(err)
	}
	dtStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dtFmt})
	if err != nil {
		return writeErr(err)
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return writeErr(err)
	}
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = excelize.Cell{StyleID: headStyle, Value: c.Name}
	}
	if len(cols) > 0 {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return writeErr(err)
		}
	}
	if err := sw.SetRow("A1", vals); err != nil {
		return writeErr(err)
	}
	for n := 1; ; n++ {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(row) != len(cols) {
			return rowWidthErr(n, row, cols)
		}
		if n+1 > maxXLSXRows {
			return datasets.Errorf(datasets.ETOOLARGE, "more than %d rows do not fit in one XLSX sheet; download CSV instead", maxXLSXRows-1)
		}
		for i, v := range row {
			switch x := v.(type) {
			case time.Time:
				st := dtStyle
				if cols[i].Type == datasets.TypeDate {
					st = dateStyle
				}
				vals[i] = excelize.Cell{StyleID: st, Value: x}
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					vals[i] = nil
				} else {
					vals[i] = x
				}
			case nil, string, int64, int, bool:
				vals[i] = x
			default:
				vals[i] = FormatValue(v, cols[i].Type)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, n+1)
		if err := sw.SetRow(cell, vals); err != nil {
			return writeErr(err)
		}
	}
	if err := sw.Flush(); err != nil {
		return writeErr(err)
	}
	if err := f.Write(w); err != nil {
		return writeErr(err)
	}
	return nil
}
