package tabular_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

func mustEncode(tb testing.TB, enc encoding.Encoding, s string) []byte {
	tb.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return b
}

func TestEncodings(t *testing.T) {
	big5Text := "機關名稱,縣市,資料筆數,更新日期\r\n臺北市政府交通局,臺北市,1203,2024/03/01\r\n高雄市政府環境保護局,高雄市,87,2024/03/02\r\n新北市政府衛生局,新北市,455,2024/03/05\r\n"
	gbkText := "机构名称,省份,数据条数,更新日期\n北京市统计局,北京市,1203,2024-03-01\n上海市交通委员会,上海市,87,2024-03-02\n广东省生态环境厅,广东省,455,2024-03-05\n"
	cases := []struct {
		name, text string
		data       []byte
		want       string
	}{
		{"Big5 traditional", big5Text, mustEncode(t, traditionalchinese.Big5, big5Text), tabular.EncBig5},
		{"GBK simplified", gbkText, mustEncode(t, simplifiedchinese.GBK, gbkText), tabular.EncGB18030},
		{"UTF-16LE with BOM", big5Text, mustEncode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), big5Text), tabular.EncUTF16LE},
		{"UTF-8 without BOM", gbkText, []byte(gbkText), tabular.EncUTF8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := MustWriteFile(t, "data.csv", c.data)
			info := MustSniff(t, p, tabular.Options{})
			if info.Encoding != c.want {
				t.Fatalf("encoding %s, want %s", info.Encoding, c.want)
			}
			header := strings.Split(strings.SplitN(c.text, "\n", 2)[0], ",")
			for i, col := range info.Columns {
				if col.Name != strings.TrimSpace(header[i]) {
					t.Errorf("column %d named %q, want %q", i, col.Name, header[i])
				}
			}
			wantType(t, info, info.Columns[2].Name, datasets.TypeInteger)
			wantType(t, info, info.Columns[3].Name, datasets.TypeDate)
			rows := MustReadAll(t, p, info)
			first := strings.Split(strings.Split(c.text, "\n")[1], ",")
			if len(rows) != 3 || rows[0][0] != first[0] || rows[0][1] != first[1] {
				t.Errorf("rows %v, want first %v", rows, first)
			}
		})
	}
}

func TestEncodingForced(t *testing.T) {
	text := "名稱,數量\n臺北,1\n"
	p := MustWriteFile(t, "f.csv", mustEncode(t, traditionalchinese.Big5, text))
	info := MustSniff(t, p, tabular.Options{Encoding: tabular.EncBig5})
	if info.Columns[0].Name != "名稱" {
		t.Errorf("forced Big5 column %q", info.Columns[0].Name)
	}
	_, err := tabular.Sniff(p, tabular.Options{Encoding: "EBCDIC"})
	wantCode(t, err, datasets.EINVALID)
}

// MustMergedXLSX builds a sheet the way agencies lay them out: a merged
// title row, a two-row header with group cells merged over sub-headings,
// a zero-padded code format, dates and datetimes.
func MustMergedXLSX(tb testing.TB) string {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sh := "人口"
	if err := f.SetSheetName("Sheet1", sh); err != nil {
		tb.Fatal(err)
	}
	set := func(cell string, v any) {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			tb.Fatal(err)
		}
	}
	merge := func(a, b string) {
		if err := f.MergeCell(sh, a, b); err != nil {
			tb.Fatal(err)
		}
	}
	set("A1", "臺北市各區人口統計")
	merge("A1", "F1")
	set("A2", "區別")
	merge("A2", "A3")
	set("B2", "人口")
	merge("B2", "C2")
	set("B3", "男")
	set("C3", "女")
	set("D2", "統計日期")
	merge("D2", "D3")
	set("E2", "更新時間")
	merge("E2", "E3")
	set("F2", "區碼")
	merge("F2", "F3")
	dateFmt, dtFmt, codeFmt := "yyyy/m/d", "yyyy-mm-dd hh:mm:ss", "000000"
	ds, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	dts, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &dtFmt})
	cs, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &codeFmt})
	data := []struct {
		name       string
		men, women int
		code       int
	}{{"中正區", 75120, 80311, 100}, {"大同區", 60012, 63100, 103}, {"中山區", 101500, 118230, 104}}
	for i, d := range data {
		r := i + 4
		cell := func(col string) string { n, _ := excelize.JoinCellName(col, r); return n }
		set(cell("A"), d.name)
		set(cell("B"), d.men)
		set(cell("C"), d.women)
		set(cell("D"), time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC))
		f.SetCellStyle(sh, cell("D"), cell("D"), ds)
		set(cell("E"), time.Date(2024, 2, 1, 8, 30, 0, 0, time.UTC))
		f.SetCellStyle(sh, cell("E"), cell("E"), dts)
		set(cell("F"), d.code)
		f.SetCellStyle(sh, cell("F"), cell("F"), cs)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return MustWriteFile(tb, "merged.xlsx", buf.Bytes())
}

func TestXLSXMergedHeaderAndDates(t *testing.T) {
	p := MustMergedXLSX(t)
	info := MustSniff(t, p, tabular.Options{})
	if info.HeaderLine != 2 || info.HeaderRows != 2 {
		t.Errorf("header at row %d spanning %d rows, want 2 and 2", info.HeaderLine, info.HeaderRows)
	}
	if len(info.Notes) == 0 || info.Notes[0] != "臺北市各區人口統計" {
		t.Errorf("notes %q, want the merged title once", info.Notes)
	}
	want := []datasets.Column{
		{Name: "區別", Type: datasets.TypeText},
		{Name: "人口_男", Type: datasets.TypeInteger},
		{Name: "人口_女", Type: datasets.TypeInteger},
		{Name: "統計日期", Type: datasets.TypeDate},
		{Name: "更新時間", Type: datasets.TypeDatetime},
		{Name: "區碼", Type: datasets.TypeText},
	}
	if len(info.Columns) != len(want) {
		t.Fatalf("columns %v, want %v", info.Columns, want)
	}
	for i := range want {
		if info.Columns[i] != want[i] {
			t.Errorf("column %d = %v, want %v", i, info.Columns[i], want[i])
		}
	}
	rows := MustReadAll(t, p, info)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	r := rows[0]
	if r[0] != "中正區" || r[1] != int64(75120) || r[3] != time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC) ||
		r[4] != time.Date(2024, 2, 1, 8, 30, 0, 0, time.UTC) || r[5] != "000100" {
		t.Errorf("first row %#v", r)
	}
}

func TestXLSXSheetOption(t *testing.T) {
	p := MustMergedXLSX(t)
	_, err := tabular.Sniff(p, tabular.Options{Sheet: "沒有這張"})
	de := wantCode(t, err, datasets.EINVALID)
	if !strings.Contains(de.Message, "人口") {
		t.Errorf("message %q should list the sheets", de.Message)
	}
	info := MustSniff(t, p, tabular.Options{Sheet: "人口"})
	if info.Sheet != "人口" || info.Rows != 3 {
		t.Errorf("sheet %q rows %d", info.Sheet, info.Rows)
	}
}

// mustBomb writes an XLSX-shaped zip whose sheet part inflates far beyond
// what it takes on disk.
func mustBomb(tb testing.TB, declaredOnly bool) string {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, `<?xml version="1.0"?><x/>`)
	}
	if declaredOnly {
		// A directory entry that claims 10 GiB: refused on the numbers alone.
		var small bytes.Buffer
		fw, _ := flate.NewWriter(&small, flate.BestCompression)
		fw.Write(make([]byte, 1000))
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
			CompressedSize64: uint64(small.Len()), UncompressedSize64: 10 << 30})
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(small.Bytes())
	} else {
		// Really 8 MiB of one byte, which deflates about 1000:1.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate})
		if err != nil {
			tb.Fatal(err)
		}
		chunk := bytes.Repeat([]byte{' '}, 1<<20)
		for range 8 {
			w.Write(chunk)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if buf.Len() > 64<<10 {
		tb.Fatalf("bomb is %d bytes; it should be a few KB", buf.Len())
	}
	return MustWriteFile(tb, "bomb.xlsx", buf.Bytes())
}

func TestXLSXZipBombRefused(t *testing.T) {
	for _, c := range []struct {
		name     string
		declared bool
		want     string
	}{
		{"declares 10 GiB", true, "inflate to more than"},
		{"1000 to 1 ratio", false, "compressed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustBomb(t, c.declared)
			_, err := tabular.Sniff(p, tabular.Options{})
			de := wantCode(t, err, datasets.ETOOLARGE)
			if !strings.Contains(de.Message, c.want) || !strings.Contains(de.Message, "refused") {
				t.Errorf("message %q, want it to say %q and refused", de.Message, c.want)
			}
			// Open applies the same guard to an Info made elsewhere.
			_, err = tabular.Open(p, &tabular.Info{Format: tabular.XLSX, HeaderLine: 1,
				Columns: []datasets.Column{{Name: "a", Type: datasets.TypeText}}, Keys: []string{"a"},
				Limits: tabular.Limits{MaxUncompressed: 1 << 30, MaxRatio: 200}})
			wantCode(t, err, datasets.ETOOLARGE)
		})
	}
	t.Run("a small limit refuses an honest file", func(t *testing.T) {
		_, err := tabular.Sniff(fixture("tw_cdc_covid19_vaccine_contract_clinics.xlsx"), tabular.Options{MaxUncompressed: 1 << 20})
		wantCode(t, err, datasets.ETOOLARGE)
	})
}

func TestRaggedRows(t *testing.T) {
	t.Run("short and long rows are named by line", func(t *testing.T) {
		p := MustWriteFile(t, "r.csv", []byte("name,a,b\nx,1,2\ny,3\nz,4,5,6\nw,7,8\n注：單位為人\n"))
		info := MustSniff(t, p, tabular.Options{})
		if len(info.Problems) != 2 || info.Problems[0].Line != 3 || info.Problems[0].Column != 3 ||
			info.Problems[1].Line != 4 || info.Problems[1].Column != 4 {
			t.Fatalf("problems %+v, want line 3 column 3 and line 4 column 4", info.Problems)
		}
		if len(info.Notes) != 1 || info.Notes[0] != "注：單位為人" {
			t.Errorf("notes %q", info.Notes)
		}
		r, err := tabular.Open(p, info)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if row, err := r.Next(); err != nil || row[0] != "x" {
			t.Fatalf("first row %v %v", row, err)
		}
		_, err = r.Next()
		de := wantCode(t, err, datasets.EINVALID)
		if len(de.Problems) != 1 || de.Problems[0].Line != 3 || !strings.Contains(de.Message, "line 3") {
			t.Errorf("error %v problems %+v, want line 3", err, de.Problems)
		}
	})
	t.Run("a single value inside the table is ragged, not a note", func(t *testing.T) {
		p := MustWriteFile(t, "r.csv", []byte("name,a,b\nx,1,2\nstray\ny,3,4\n"))
		info := MustSniff(t, p, tabular.Options{})
		if len(info.Problems) != 1 || info.Problems[0].Line != 3 || len(info.Notes) != 0 {
			t.Errorf("problems %+v notes %q, want line 3 ragged and no notes", info.Problems, info.Notes)
		}
	})
	t.Run("a row with only its first cell filled is data", func(t *testing.T) {
		p := MustWriteFile(t, "r.csv", []byte("name,a,b\nx,1,2\nonly,,\ny,3,4\n"))
		info := MustSniff(t, p, tabular.Options{})
		rows := MustReadAll(t, p, info)
		if len(info.Problems) != 0 || len(rows) != 3 || rows[1][0] != "only" || rows[1][1] != nil {
			t.Errorf("problems %v rows %v", info.Problems, rows)
		}
	})
	t.Run("trailing empty cells are not ragged", func(t *testing.T) {
		p := MustWriteFile(t, "r.csv", []byte("a,b,\n1,2,,\n3,4,\n"))
		info := MustSniff(t, p, tabular.Options{})
		rows := MustReadAll(t, p, info)
		if len(info.Problems) != 0 || len(rows) != 2 || rows[1][1] != int64(4) {
			t.Errorf("problems %v rows %v columns %v", info.Problems, rows, info.Columns)
		}
	})
}

func TestDeclaredSchema(t *testing.T) {
	p := MustWriteFile(t, "d.csv", []byte("id,when,flag,amount\n001,20220101,1,12\n002,2022-01-02,0,13.5\nabc,20220103,是,\n"))
	decl := []datasets.Field{
		{Name: "id", Type: datasets.TypeInteger},
		{Name: "WHEN", Type: datasets.TypeDate},
		{Name: "flag", Type: datasets.TypeBoolean},
		{Name: "missing", Type: datasets.TypeText},
	}
	info := MustSniff(t, p, tabular.Options{Declared: decl})
	wantType(t, info, "id", datasets.TypeInteger)
	wantType(t, info, "when", datasets.TypeDate)
	wantType(t, info, "flag", datasets.TypeBoolean)
	wantType(t, info, "amount", datasets.TypeDecimal)
	var bad, missing bool
	for _, pr := range info.Problems {
		if pr.Line == 4 && pr.Column == 1 && pr.Field == "id" {
			bad = true
		}
		if pr.Field == "missing" {
			missing = true
		}
	}
	if !bad || !missing {
		t.Errorf("problems %+v, want id on line 4 and the missing field", info.Problems)
	}
	r, err := tabular.Open(p, info)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if row[0] != int64(1) || row[1] != time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC) || row[2] != true || row[3] != 12.0 {
		t.Errorf("row %#v", row)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	de := wantCode(t, err, datasets.EINVALID)
	if pr := de.Problems; len(pr) != 1 || pr[0].Line != 4 || pr[0].Column != 1 || pr[0].Field != "id" {
		t.Errorf("problems %+v, want line 4 column 1 field id", pr)
	}
}

func TestInference(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		want   datasets.FieldType
	}{
		{"integers with nulls", []string{"1", "", "-20", "-", "300"}, datasets.TypeInteger},
		{"leading-zero codes", []string{"0012345", "0012346"}, datasets.TypeText},
		{"18-digit ID numbers", []string{"110101199003071234", "110101199003075678"}, datasets.TypeText},
		{"16-digit numbers", []string{"1234567890123456"}, datasets.TypeText},
		{"decimals", []string{"1.5", "2", "0.25", "-3.75"}, datasets.TypeDecimal},
		{"exponents stay text", []string{"1.2E+5"}, datasets.TypeText},
		{"booleans", []string{"true", "FALSE", "是", "否"}, datasets.TypeBoolean},
		{"zero and one are integers", []string{"0", "1"}, datasets.TypeInteger},
		{"slash dates", []string{"2021/8/22", "2021/08/23"}, datasets.TypeDate},
		{"chinese dates", []string{"2021年8月22日", "2021年12月1日"}, datasets.TypeDate},
		{"yyyymmdd stays integer", []string{"20220101", "20220102"}, datasets.TypeInteger},
		{"datetimes", []string{"2021/08/22 13:00:00", "2021-08-22T13:00:00+08:00", "2021-08-22"}, datasets.TypeDatetime},
		{"afternoon datetimes", []string{"2021/8/22 下午 01:00:00"}, datasets.TypeDatetime},
		{"impossible dates", []string{"2021-02-30"}, datasets.TypeText},
		{"all empty", []string{"", "", "-"}, datasets.TypeText},
		{"mixed", []string{"1", "A12"}, datasets.TypeText},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("key,value\n")
			for i, v := range c.values {
				b.WriteString("k" + string(rune('a'+i)) + "," + v + "\n")
			}
			p := MustWriteFile(t, "i.csv", []byte(b.String()))
			info := MustSniff(t, p, tabular.Options{})
			wantType(t, info, "value", c.want)
			MustReadAll(t, p, info) // every value converts to the inferred type
		})
	}
}

func TestHeaderNames(t *testing.T) {
	p := MustWriteFile(t, "h.csv", []byte(" a ,,a,b,a\n1,2,3,4,5\n"))
	info := MustSniff(t, p, tabular.Options{})
	var got []string
	for _, c := range info.Columns {
		got = append(got, c.Name)
	}
	if strings.Join(got, "|") != "a|col_2|a_2|b|a_3" {
		t.Errorf("names %v, want a col_2 a_2 b a_3", got)
	}
	if info.Keys[0] != " a " {
		t.Errorf("keys %q should keep the heading as written", info.Keys)
	}
}

func TestDelimiters(t *testing.T) {
	for _, c := range []struct {
		name, file, data string
		delim            rune
		format           tabular.Format
	}{
		{"tab", "t.tsv", "a\tb\n1,5\t2\n3\t4\n", '\t', tabular.TSV},
		{"semicolon", "s.csv", "a;b\n1,5;2\n3;4\n", ';', tabular.CSV},
		{"pipe", "p.txt", "a|b\n1|2\n3|4\n", '|', tabular.CSV},
		{"quoted commas", "q.csv", "a,b\n\"x, y\",2\n\"p,q\",4\n", ',', tabular.CSV},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := MustWriteFile(t, c.file, []byte(c.data))
			info := MustSniff(t, p, tabular.Options{})
			if info.Delimiter != c.delim || info.Format != c.format || len(info.Columns) != 2 {
				t.Fatalf("delimiter %q format %s columns %v", info.Delimiter, info.Format, info.Columns)
			}
			if rows := MustReadAll(t, p, info); len(rows) != 2 {
				t.Errorf("rows %v", rows)
			}
		})
	}
}

func TestNotTabular(t *testing.T) {
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, _ := zw.Create("readme.txt")
	io.WriteString(w, "hello")
	zw.Close()
	for _, c := range []struct {
		name, file string
		data       []byte
	}{
		{"pdf", "report.pdf", []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")},
		{"pdf named csv", "report.csv", []byte("%PDF-1.7\n")},
		{"zip", "bundle.zip", zipBuf.Bytes()},
		{"png", "chart.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
		{"legacy xls", "old.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00")},
		{"html", "page.html", []byte("<!doctype html><html></html>")},
		{"prose", "notes.md", []byte("# 說明\n本資料集每月更新。\n")},
		{"json scalar", "n.json", []byte("42")},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := MustWriteFile(t, c.file, c.data)
			info, err := tabular.Sniff(p, tabular.Options{})
			if !errors.Is(err, tabular.ErrNotTabular) {
				t.Fatalf("err = %v, want ErrNotTabular", err)
			}
			wantCode(t, err, datasets.EINVALID)
			if info == nil || info.Format != tabular.None {
				t.Errorf("info %+v, want format None", info)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct{ name, file, data string }{
		{"empty", "e.csv", ""},
		{"blank", "b.csv", " \n\n"},
		{"truncated json", "t.json", `[{"a":1},{"a":`},
		{"json array of nothing", "z.json", `{"total":0,"data":[]}`},
		{"damaged xlsx", "d.xlsx", "PK\x03\x04garbage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tabular.Sniff(MustWriteFile(t, c.file, []byte(c.data)), tabular.Options{})
			wantCode(t, err, datasets.EINVALID)
			if errors.Is(err, tabular.ErrNotTabular) {
				t.Errorf("%v: malformed input is EINVALID, not a clean not-tabular result", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := tabular.Sniff(t.TempDir()+"/nope.csv", tabular.Options{})
		wantCode(t, err, datasets.ENOTFOUND)
	})
	t.Run("row limit", func(t *testing.T) {
		_, err := tabular.Sniff(fixture("tw_moenv_aqi_hourly_aqx_p_432.csv"), tabular.Options{MaxRows: 10})
		wantCode(t, err, datasets.ETOOLARGE)
	})
}

func TestJSONShapes(t *testing.T) {
	t.Run("NDJSON with late keys and nested values", func(t *testing.T) {
		p := MustWriteFile(t, "x.ndjson", []byte(`{"id":1,"name":"臺北"}
{"id":2,"name":"高雄","tags":["港","市"]}
{"id":3,"extra":null}
`))
		info := MustSniff(t, p, tabular.Options{})
		if info.Format != tabular.NDJSON || info.Rows != 3 || len(info.Columns) != 4 {
			t.Fatalf("format %s rows %d columns %v", info.Format, info.Rows, info.Columns)
		}
		rows := MustReadAll(t, p, info)
		if rows[1][2] != `["港","市"]` || rows[0][2] != nil || rows[2][1] != nil {
			t.Errorf("rows %v", rows)
		}
	})
	t.Run("non-object record is named by number", func(t *testing.T) {
		p := MustWriteFile(t, "x.json", []byte(`[{"a":1},7,{"a":2}]`))
		info := MustSniff(t, p, tabular.Options{})
		if len(info.Problems) != 1 || info.Problems[0].Row != 2 {
			t.Fatalf("problems %+v", info.Problems)
		}
		r, err := tabular.Open(p, info)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.Next()
		_, err = r.Next()
		if de := wantCode(t, err, datasets.EINVALID); de.Problems[0].Row != 2 {
			t.Errorf("problems %+v", de.Problems)
		}
	})
	t.Run("exponent numbers are decimals", func(t *testing.T) {
		p := MustWriteFile(t, "x.json", []byte(`[{"v":1.5e-3},{"v":2}]`))
		info := MustSniff(t, p, tabular.Options{})
		rows := MustReadAll(t, p, info)
		if info.Columns[0].Type != datasets.TypeDecimal || rows[0][0] != 0.0015 {
			t.Errorf("columns %v rows %v", info.Columns, rows)
		}
	})
}
