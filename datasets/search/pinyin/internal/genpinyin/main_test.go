package main

import (
	"strings"
	"testing"
)

const readings = `# Unihan_Readings.txt
# Unicode version: 15.0.0
U+53A6	kDefinition	big building, mansion
U+53A6	kMandarin	shà
U+53A6	kTGHZ2013	323.040:shà 397.010:xià
U+963F	kMandarin	ā
U+55EF	kMandarin	ǹg
U+6C88	kMandarin	shěn chén
U+5EC8	kMandarin	shà
U+31333	kCantonese	ngaan5
`

const variants = `U+5EC8	kSimplifiedVariant	U+53A6
U+9F73	kSimplifiedVariant	U+31333
U+4E7E	kSimplifiedVariant	U+4E7E U+5E72
`

func TestParse(t *testing.T) {
	tb, err := parse(strings.NewReader(readings))
	if err != nil {
		t.Fatal(err)
	}
	if tb.version != "15.0.0" {
		t.Errorf("version = %q", tb.version)
	}
	want := map[rune]byte{0x53A6: 's', 0x963F: 'a', 0x55EF: 'n', 0x6C88: 's', 0x5EC8: 's'}
	if len(tb.initial) != len(want) {
		t.Errorf("got %d readings, want %d", len(tb.initial), len(want))
	}
	for r, c := range want {
		if tb.initial[r] != c {
			t.Errorf("initial[%U] = %q, want %q", r, tb.initial[r], c)
		}
	}
	// 齳 U+9F73 (yǔn) has a simplified form U+31333 without a reading: it
	// inherits y. 廈 → 厦 and 乾 → 干 add nothing: 厦 has a reading of its
	// own, and 乾 has none here.
	tb.initial[0x9F73] = 'y'
	n, err := tb.inherit(strings.NewReader(variants))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || tb.initial[0x31333] != 'y' {
		t.Errorf("inherit added %d, initial[U+31333] = %q; want 1, 'y'", n, tb.initial[0x31333])
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", // no readings at all
		"U+4E00\tkMandarin\tyī\nU+4E01\tkMandarin\tüx\n", // ü starts no syllable
		"U+4E00\tkMandarin\tiou\n",                       // nor i
		"X+4E00\tkMandarin\tyī\n",                        // bad code point
		"U+4E00\tkMandarin\t \n",                         // empty value
	} {
		if _, err := parse(strings.NewReader(in)); err == nil {
			t.Errorf("parse(%q) accepted it", in)
		}
	}
}
