package gateway

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"kaifang/datasets"
)

// The hand encoder must write what encoding/json writes, for every kind of
// cell the row store returns, and always valid JSON.
func TestAppendCellMatchesEncodingJSON(t *testing.T) {
	day := time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 10, 8, 9, 30, 5, 0, time.FixedZone("CST", 8*3600))
	cases := []struct {
		t datasets.FieldType
		v any
	}{
		{datasets.TypeText, "黃小明"}, {datasets.TypeText, ""}, {datasets.TypeText, `say "hi"\n`},
		{datasets.TypeText, "a\x00b\tc"}, {datasets.TypeText, "<b>&amp;</b>"}, {datasets.TypeText, "line\u2028sep"},
		{datasets.TypeText, "bad \xff utf8"}, {datasets.TypeText, "楊浦區 🚌"},
		{datasets.TypeInteger, int64(0)}, {datasets.TypeInteger, int64(-9007199254740993)},
		{datasets.TypeDecimal, 2618.18}, {datasets.TypeDecimal, 0.0}, {datasets.TypeDecimal, -1e-7},
		{datasets.TypeDecimal, 1e21}, {datasets.TypeDecimal, 123456789012345678.0}, {datasets.TypeDecimal, 5e-324},
		{datasets.TypeBoolean, true}, {datasets.TypeBoolean, false},
		{datasets.TypeDate, day}, {datasets.TypeDatetime, at}, {datasets.TypeText, nil},
	}
	for _, tc := range cases {
		want, err := jsonMarshal(cellValue(tc.t, tc.v))
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendCell(nil, tc.t, tc.v)
		if err != nil {
			t.Fatalf("%#v: %v", tc.v, err)
		}
		if string(got) != string(want[:len(want)-1]) {
			t.Errorf("%s %#v: got %s, want %s", tc.t, tc.v, got, want)
		}
	}
	if _, err := appendCell(nil, datasets.TypeDecimal, math.NaN()); err == nil {
		t.Error("NaN has no JSON form and must be an error, not invalid output")
	}
}

func TestAppendRecordObject(t *testing.T) {
	cols := []datasets.Column{{Name: "代碼", Type: datasets.TypeText}, {Name: `a"b`, Type: datasets.TypeInteger}, {Name: "x", Type: datasets.TypeDecimal}}
	got, err := appendRecordObject(nil, jsonKeys(cols), cols, []any{"C1", int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"代碼":"C1","a\"b":7,"x":null}`; string(got) != want {
		t.Fatalf("got %s, want %s (a short row ends in nulls)", got, want)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "黃小明", "\"\\\n", "\xff", "\u2028", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, got, err)
		}
		want, _ := jsonMarshal(s)
		if string(got) != string(want[:len(want)-1]) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
