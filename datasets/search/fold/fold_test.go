package fold_test

import (
	"testing"
	"unicode/utf8"

	"kaifang/datasets/search/fold"
)

func TestString(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"traditional to simplified", "醫療衛生", "医疗卫生"},
		{"social insurance", "社會保險", "社会保险"},
		{"already simplified", "交通运输", "交通运输"},
		{"full-width latin and digits", "ＢＵＳ１２３", "bus123"},
		{"ideographic space", "交通　醫療", "交通 医疗"},
		{"upper case", "API Bus", "api bus"},
		{"mixed", "廈門市ＧＰＳ公車", "厦门市gps公车"},
		{"character used in both scripts stays", "乾", "乾"},
		{"override missing from Unihan", "旅遊週報", "旅游周报"},
		{"empty", "", ""},
		{"invalid utf-8 becomes replacement", "a\xffb", "a\uFFFDb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fold.String(c.in); got != c.want {
				t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestRuneKeepsLength(t *testing.T) {
	// Tokenizers rely on one rune in, one rune out.
	for _, s := range []string{"醫療衛生", "ＡＢＣ", "開放數據"} {
		if a, b := utf8.RuneCountInString(s), utf8.RuneCountInString(fold.String(s)); a != b {
			t.Errorf("%q: %d runes folded to %d", s, a, b)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"醫療衛生", "ＢＵＳ", "社保", "", "a\xffb", "乾隆"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := fold.String(s)
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q) = %q is not valid UTF-8", s, got)
		}
		if again := fold.String(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(s) {
			t.Fatalf("rune count changed: %q -> %q", s, got)
		}
	})
}
