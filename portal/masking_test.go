package portal

import (
	"strings"
	"testing"
	"unicode/utf8"

	"kaifang/datasets"
)

func TestMaskValue(t *testing.T) {
	key := []byte("k")
	for _, tc := range []struct {
		rule     datasets.MaskRule
		in, want string
	}{
		{datasets.MaskIDCard, "11010519491231002X", "110105********002X"},
		{datasets.MaskIDCard, "12345", "*****"},
		{datasets.MaskMobile, "13812345678", "138****5678"},
		{datasets.MaskName, "張三", "張*"},
		{datasets.MaskName, "歐陽娜娜", "歐陽**"},
		{datasets.MaskName, "李", "*"},
		{datasets.MaskAddress, "上海市浦東新區世紀大道100號", "上海市浦東新***"},
		{datasets.MaskNone, "13812345678", "13812345678"},
		{"bogus", "secret", "******"},
	} {
		t.Run(string(tc.rule)+"/"+tc.in, func(t *testing.T) {
			if got := MaskValue(tc.rule, tc.in, key); got != tc.want {
				t.Errorf("MaskValue(%s, %q) = %q, want %q", tc.rule, tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskHashIsKeyedAndJoinable(t *testing.T) {
	s := &Service{Secret: []byte("server secret")}
	a1, a2 := s.MaskKey("app-1"), s.MaskKey("app-2")
	h1 := MaskValue(datasets.MaskHash, "11010519491231002X", a1)
	if h1 != MaskValue(datasets.MaskHash, "11010519491231002X", a1) {
		t.Error("the same value must hash the same within one application (a join key)")
	}
	if h1 == MaskValue(datasets.MaskHash, "11010519491231002X", a2) {
		t.Error("two applications must get different hashes of the same value")
	}
	if strings.Contains(h1, "1949") {
		t.Error("hash leaks the value")
	}
}

func TestMaskRowsRendersNonTextMasked(t *testing.T) {
	s := &Service{Secret: []byte("x")}
	g := &datasets.Grant{ApplicationID: "a", Masks: map[string]datasets.MaskRule{"手機": datasets.MaskMobile}}
	cols := []datasets.Column{{Name: "姓名", Type: datasets.TypeText}, {Name: "手機", Type: datasets.TypeInteger}}
	rows := [][]any{{"張三", int64(13812345678)}, {"李四", nil}}
	s.MaskRows(g, cols, rows)
	if rows[0][1] != "138****5678" || rows[0][0] != "張三" || rows[1][1] != nil {
		t.Fatalf("masked rows = %v", rows)
	}
	if MaskedColumns(g, cols)[1].Type != datasets.TypeText {
		t.Error("a masked column must be retyped as text")
	}
}

func FuzzMaskValue(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "13812345678", "歐陽娜娜", "上海市浦東新區世紀大道100號", "", "\xff\xfe", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, rule := range datasets.MaskRules {
			got := MaskValue(rule, v, []byte("k"))
			if rule == datasets.MaskNone {
				continue
			}
			if !utf8.ValidString(got) && utf8.ValidString(v) {
				t.Fatalf("%s: masked %q into invalid UTF-8 %q", rule, v, got)
			}
			r := []rune(strings.TrimSpace(v))
			switch rule {
			case datasets.MaskIDCard, datasets.MaskMobile:
				// The middle never survives: at most head+tail characters are kept.
				if n := utf8.RuneCountInString(strings.ReplaceAll(got, "*", "")); n > 10 {
					t.Fatalf("%s kept %d characters of %q: %q", rule, n, v, got)
				}
			case datasets.MaskName:
				// Only the surname (one character, two for four or more) survives.
				if g := []rune(got); len(r) > 1 && strings.Trim(string(g[min(2, len(g)):]), "*") != "" {
					t.Fatalf("name %q masked to %q keeps more than the surname", v, got)
				}
			case datasets.MaskHash:
				if len(got) != 32 && v != "" {
					t.Fatalf("hash of %q is %q", v, got)
				}
			}
		}
	})
}
