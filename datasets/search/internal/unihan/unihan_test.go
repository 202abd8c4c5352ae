package unihan

import (
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	in := "# Unicode version: 15.0.0\n\nU+4E7E\tkSimplifiedVariant\tU+4E7E U+5E72\nU+9AD4\tkSimplifiedVariant\tU+4F53<kFenn\nU+9AD4\tkMandarin\ttǐ\n"
	var comments []string
	got := map[rune]string{}
	err := Lines(strings.NewReader(in), "kSimplifiedVariant", func(l string) { comments = append(comments, l) }, func(cp rune, v string) error {
		got[cp] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got['乾'] != "U+4E7E U+5E72" || got['體'] != "U+4F53<kFenn" || len(comments) != 1 {
		t.Fatalf("got %q, comments %q", got, comments)
	}
	if cp, err := CodePoint("U+4F53<kFenn"); err != nil || cp != '体' {
		t.Fatalf("CodePoint with a source annotation: %U %v", cp, err)
	}
	if _, err := CodePoint("U+FFFFFFFF"); err == nil {
		t.Fatal("a code point past U+10FFFF is not an error")
	}
	if err := Lines(strings.NewReader("X+12\tkMandarin\tyi\n"), "kMandarin", nil, func(rune, string) error { return nil }); err == nil {
		t.Fatal("a malformed code point is not an error")
	}
}

func FuzzLines(f *testing.F) {
	f.Add("U+4E00\tkMandarin\tyī\n# c\n")
	f.Add("U+\tkMandarin\t\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = Lines(strings.NewReader(in), "kMandarin", func(string) {}, func(cp rune, v string) error {
			if cp < 0 {
				t.Fatalf("negative code point from %q", in)
			}
			return nil
		})
	})
}
