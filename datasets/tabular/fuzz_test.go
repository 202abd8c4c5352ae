package tabular_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kaifang/datasets"
	"kaifang/datasets/tabular"
)

// checkFile sniffs and reads a fuzzed file: no panic, every error a
// *datasets.Error that blames the input (EINVALID, or ETOOLARGE for a
// limit), every row as wide as the columns and typed as they say.
func checkFile(t *testing.T, name string, data []byte) {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := tabular.Options{MaxCells: 1 << 20, MaxUncompressed: 16 << 20}
	info, err := tabular.Sniff(p, opts)
	if err != nil {
		checkErr(t, err)
		return
	}
	if len(info.Columns) == 0 || len(info.Keys) != len(info.Columns) {
		t.Fatalf("sniffed %d columns and %d keys", len(info.Columns), len(info.Keys))
	}
	r, err := tabular.Open(p, info)
	if err != nil {
		checkErr(t, err)
		return
	}
	defer r.Close()
	var n int64
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		n++
		if len(row) != len(info.Columns) {
			t.Fatalf("row of %d values for %d columns", len(row), len(info.Columns))
		}
		for i, v := range row {
			if !fits(v, info.Columns[i].Type) {
				t.Fatalf("column %s (%s) holds %#v", info.Columns[i].Name, info.Columns[i].Type, v)
			}
		}
	}
	if n > info.Rows {
		t.Fatalf("read %d rows, Sniff counted %d", n, info.Rows)
	}
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var de *datasets.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *datasets.Error", err, err)
	}
	if de.Code != datasets.EINVALID && de.Code != datasets.ETOOLARGE {
		t.Fatalf("error code %s: %v", de.Code, err)
	}
}

func fits(v any, t datasets.FieldType) bool {
	if v == nil {
		return true
	}
	switch t {
	case datasets.TypeInteger:
		_, ok := v.(int64)
		return ok
	case datasets.TypeDecimal:
		_, ok := v.(float64)
		return ok
	case datasets.TypeBoolean:
		_, ok := v.(bool)
		return ok
	case datasets.TypeDate, datasets.TypeDatetime:
		_, ok := v.(time.Time)
		return ok
	}
	s, ok := v.(string)
	return ok && s != ""
}

func FuzzSniffCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"))
	f.Add([]byte("\ufeff\"x\",\"y\"\r\n\"0012\",\"2021/08/22 13:00:00\"\r\n"))
	f.Add([]byte("title\nunit\nname,2024年,2023年\n北京,1,2\n注：note\n"))
	f.Add([]byte("a;b\n\"unterminated;2\n"))
	f.Add([]byte("a\tb\n1\t2\t3\n4\n"))
	gbk, _ := os.ReadFile(fixture("cn_nbs_province_population_annual_gbk.csv"))
	f.Add(gbk)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFile(t, "f.csv", data)
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`[{"a":1,"b":"x"},{"a":2.5,"c":null}]`))
	f.Add([]byte(`{"total":2,"data":[{"k":"0012"},{"k":"7"}],"page":1}`))
	f.Add([]byte("{\"a\":1}\n{\"a\":\"2021-01-02\"}\n"))
	f.Add([]byte(`{"x":{"y":[{"z":1}]}}`))
	f.Add([]byte(`[1,[2],{"a":[{}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFile(t, "f.json", data)
	})
}

func FuzzReadXLSX(f *testing.F) {
	addXLSXSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFile(t, "f.xlsx", data)
	})
}

// addXLSXSeeds adds small valid workbooks as seeds.
func addXLSXSeeds(f *testing.F) {
	for _, build := range []func(*excelize.File){
		func(x *excelize.File) {
			x.SetSheetRow("Sheet1", "A1", &[]any{"名稱", "數量", "日期"})
			x.SetSheetRow("Sheet1", "A2", &[]any{"臺北", 3, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)})
		},
		func(x *excelize.File) {
			x.SetCellValue("Sheet1", "A1", "標題")
			x.MergeCell("Sheet1", "A1", "C1")
			x.SetSheetRow("Sheet1", "A2", &[]any{"a", "b", "c"})
			x.SetSheetRow("Sheet1", "A3", &[]any{1, 2.5, true})
		},
	} {
		x := excelize.NewFile()
		build(x)
		var buf bytes.Buffer
		x.Write(&buf)
		x.Close()
		f.Add(buf.Bytes())
	}
}
