package tabular_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

var typedCols = []datasets.Column{
	{Name: "名稱", Type: datasets.TypeText},
	{Name: "數量", Type: datasets.TypeInteger},
	{Name: "PM2.5", Type: datasets.TypeDecimal},
	{Name: "開放", Type: datasets.TypeBoolean},
	{Name: "日期", Type: datasets.TypeDate},
	{Name: "時間", Type: datasets.TypeDatetime},
}

func typedRows() [][]any {
	return [][]any{
		{"臺北,\"車站\"\n二樓", int64(42), 12.5, true, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 8, 30, 5, 0, time.UTC)},
		{nil, int64(-7), nil, false, nil, time.Date(2023, 10, 4, 17, 0, 0, 0, time.FixedZone("", 8*3600))},
		{"0012345", nil, 0.1, nil, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), nil},
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := tabular.WriteCSV(&buf, typedCols, &sliceSource{rows: typedRows()}, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Error("no BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"名稱", "數量", "PM2.5", "開放", "日期", "時間"},
		{"臺北,\"車站\"\n二樓", "42", "12.5", "true", "2024-03-01", "2024-03-01T08:30:05"},
		{"", "-7", "", "false", "", "2023-10-04T17:00:00+08:00"},
		{"0012345", "", "0.1", "", "1999-12-31", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("records %q", recs)
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("record %d = %q, want %q", i, recs[i], want[i])
		}
	}
	// And our own reader types it back as it was written.
	p := MustWriteFile(t, "out.csv", buf.Bytes())
	info := MustSniff(t, p, tabular.Options{})
	for i, c := range info.Columns {
		if c != typedCols[i] {
			t.Errorf("column %d read back as %v, want %v", i, c, typedCols[i])
		}
	}
	rows := MustReadAll(t, p, info)
	if rows[1][5].(time.Time).Equal(typedRows()[1][5].(time.Time)) == false || rows[2][0] != "0012345" || rows[0][0] != typedRows()[0][0] {
		t.Errorf("rows read back %v", rows)
	}
}

func TestWriteJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := tabular.WriteJSON(&buf, typedCols, &sliceSource{rows: typedRows()}); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var got []map[string]any
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("%d objects", len(got))
	}
	if got[0]["名稱"] != "臺北,\"車站\"\n二樓" || got[0]["數量"] != json.Number("42") || got[0]["開放"] != true ||
		got[0]["日期"] != "2024-03-01" || got[0]["時間"] != "2024-03-01T08:30:05" {
		t.Errorf("first object %v", got[0])
	}
	if got[1]["名稱"] != nil || got[1]["時間"] != "2023-10-04T17:00:00+08:00" {
		t.Errorf("second object %v", got[1])
	}

	t.Run("empty source is an empty array", func(t *testing.T) {
		var b bytes.Buffer
		if err := tabular.WriteJSON(&b, typedCols, &sliceSource{}); err != nil {
			t.Fatal(err)
		}
		var v []any
		if err := json.Unmarshal(b.Bytes(), &v); err != nil || v == nil || len(v) != 0 {
			t.Errorf("%q: %v", b.String(), err)
		}
	})
	t.Run("a row of the wrong width is EINVALID", func(t *testing.T) {
		err := tabular.WriteJSON(&bytes.Buffer{}, typedCols, &sliceSource{rows: [][]any{{"x"}}})
		wantCode(t, err, datasets.EINVALID)
	})
	t.Run("invalid UTF-8 and control characters stay valid JSON", func(t *testing.T) {
		var b bytes.Buffer
		cols := []datasets.Column{{Name: "t", Type: datasets.TypeText}}
		if err := tabular.WriteJSON(&b, cols, &sliceSource{rows: [][]any{{"a\xffb\x01\u2028"}}}); err != nil {
			t.Fatal(err)
		}
		var v []map[string]string
		if err := json.Unmarshal(b.Bytes(), &v); err != nil || v[0]["t"] != "a\ufffdb\x01\u2028" {
			t.Errorf("%q: %v %v", b.String(), v, err)
		}
	})
}

func TestWriteNDJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := tabular.WriteNDJSON(&buf, typedCols, &sliceSource{rows: typedRows()}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if len(m) != len(typedCols) {
			t.Errorf("line %d has %d keys", n+1, len(m))
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d lines, want 3", n)
	}
}

func TestWriteXLSXRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := tabular.WriteXLSX(&buf, typedCols, &sliceSource{rows: typedRows()}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("excelize cannot open the output: %v", err)
	}
	defer f.Close()
	sh := f.GetSheetList()[0]
	rows, err := f.GetRows(sh)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], "|") != "名稱|數量|PM2.5|開放|日期|時間" {
		t.Fatalf("rows %q", rows)
	}
	if rows[1][1] != "42" || rows[1][4] != "2024-03-01" || rows[1][5] != "2024-03-01 08:30:05" || rows[3][0] != "0012345" {
		t.Errorf("first data row %q, last %q", rows[1], rows[3])
	}
	if typ, _ := f.GetCellType(sh, "B2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("B2 is stored as text, want a number")
	}
	raw, _ := f.GetCellValue(sh, "E2", excelize.Options{RawCellValue: true})
	if raw != "45352" { // 2024-03-01 as an Excel serial date
		t.Errorf("E2 raw %q, want the date serial 45352", raw)
	}
	// Our reader types the workbook back as written.
	p := MustWriteFile(t, "out.xlsx", buf.Bytes())
	info := MustSniff(t, p, tabular.Options{})
	for i, c := range info.Columns {
		if c != typedCols[i] {
			t.Errorf("column %d read back as %v, want %v", i, c, typedCols[i])
		}
	}
	back := MustReadAll(t, p, info)
	if back[0][4] != time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) || back[0][1] != int64(42) || back[2][0] != "0012345" {
		t.Errorf("read back %v", back)
	}
}

func TestWriteRealFileRoundTrip(t *testing.T) {
	p := fixture("tw_moenv_aqi_hourly_aqx_p_432.csv")
	info := MustSniff(t, p, tabular.Options{})
	want := MustReadAll(t, p, info)
	r, err := tabular.Open(p, info)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if err := tabular.WriteCSV(&buf, info.Columns, r, false); err != nil {
		t.Fatal(err)
	}
	out := MustWriteFile(t, "aqi.csv", buf.Bytes())
	info2 := MustSniff(t, out, tabular.Options{})
	got := MustReadAll(t, out, info2)
	if len(got) != len(want) {
		t.Fatalf("%d rows back, want %d", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("row %d column %s: %v, want %v", i+1, info.Columns[j].Name, got[i][j], want[i][j])
			}
		}
	}
}
