package portal

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"slices"
	"strings"
	"sync"
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
		// Chinese and full-width input, and the edges of each rule.
		{datasets.MaskIDCard, " 11010519491231002X ", "110105********002X"},
		{datasets.MaskIDCard, "一二三四五六七八九十一二三四五六七八", "一二三四五六********五六七八"},
		{datasets.MaskIDCard, "1101051949", "**********"},
		{datasets.MaskMobile, "１３８１２３４５６７８", "１３８****５６７８"},
		{datasets.MaskMobile, "+86 13812345678", "+86********5678"},
		{datasets.MaskMobile, "1381234", "*******"},
		{datasets.MaskName, " 王小明 ", "王**"},
		{datasets.MaskName, "司馬相如", "司馬**"},
		{datasets.MaskName, "愛新覺羅溥儀", "愛新****"},
		{datasets.MaskName, "   ", "*"},
		{datasets.MaskAddress, "北京市", "北***"},
		{datasets.MaskAddress, "北", "***"},
		{datasets.MaskAddress, "浙江省杭州市西湖區文三路", "浙江省杭州市***"},
		{datasets.MaskHash, "張三", "686575da2bb028a6e7d4cbde15ae5525"},
		{datasets.MaskHash, "11010519491231002X", "53b028968d90e781560f4625ee7b77e7"},
		{datasets.MaskHash, "", ""},
		{datasets.MaskNone, "張三", "張三"},
		{"bogus", "上海市浦東新區世紀大道一百號一二三四五", "****************"},
		// Bytes that are not UTF-8 count as one character each and are kept as U+FFFD.
		{datasets.MaskName, "\xff\xfe張", "\uFFFD**"},
		{datasets.MaskMobile, "\xff38123456\xfe8", "\uFFFD38****56\uFFFD8"},
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
	if got := MaskValue(datasets.MaskHash, "歐陽娜娜", a1); got != "74e197a3a4951afa71bae5802ae52fd7" {
		t.Errorf("hash of 歐陽娜娜 under app-1 = %q, want the published join key", got)
	}
}

// HMAC states are pooled across Services; one Service must never hash
// under another's secret, however their calls interleave.
func TestKeyedHashesStayUnderTheirSecret(t *testing.T) {
	s1, s2 := &Service{Secret: []byte("server secret")}, &Service{Secret: []byte("another secret")}
	want1 := hmacOf(s1.Secret, "kaifang api key\x00kf_abc")
	if hex.EncodeToString(want1) != "f6131591a32f109995a1bc709862661d64304777ffd9785e8405d9b3007a9c4b" {
		t.Fatal("reference HMAC changed")
	}
	want2 := hmacOf(s2.Secret, "kaifang api key\x00kf_abc")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := s1
				want := want1
				if i%2 == 1 {
					s, want = s2, want2
				}
				if got := s.KeyHash("kf_abc"); !bytes.Equal(got, want) {
					t.Errorf("KeyHash under %q = %x, want %x", s.Secret, got, want)
					return
				}
				if got, want := s.MaskKey("app-1"), hmacOf(s.Secret, "kaifang mask\x00app-1"); !bytes.Equal(got, want) {
					t.Errorf("MaskKey under %q = %x, want %x", s.Secret, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	// A secret changed in place takes effect at once.
	s := &Service{Secret: []byte("server secret")}
	s.KeyHash("kf_abc")
	s.Secret[0] = 'S'
	if got := s.KeyHash("kf_abc"); !bytes.Equal(got, hmacOf(s.Secret, "kaifang api key\x00kf_abc")) {
		t.Error("KeyHash kept hashing under the old secret")
	}
	// Results are the caller's: a later hash does not overwrite them.
	a := s.KeyHash("kf_a")
	keep := bytes.Clone(a)
	s.KeyHash("kf_b")
	if !bytes.Equal(a, keep) {
		t.Error("a later KeyHash changed an earlier result")
	}
}

func hmacOf(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// TestMaskRowsPage masks a whole page and checks every cell against
// MaskValue with the application's mask key.
func TestMaskRowsPage(t *testing.T) {
	s := &Service{Secret: []byte("a server secret of 32 bytes.....")}
	g, cols, rows := benchPage()
	want := make([][]any, len(rows))
	key := s.MaskKey(g.ApplicationID)
	for i, row := range rows {
		want[i] = slices.Clone(row)
		for j, c := range cols {
			if rule, ok := g.Masks[c.Name]; ok {
				want[i][j] = maskValueRef(rule, textOf(row[j]), key)
			}
		}
	}
	s.MaskRows(g, cols, rows)
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("masked page = %v, want %v", rows, want)
	}
	if rows[3][0] != "歐陽**" || rows[3][1] != "138****5673" || rows[3][2] != "110105********0023" || rows[3][3] != "上海市浦東新***" || rows[3][5] != int64(3000) {
		t.Fatalf("row 3 masked to %v", rows[3])
	}
}

// maskValueRef is MaskValue as first written, with a []rune per value:
// the masked text is published, so MaskValue must give it byte for byte.
func maskValueRef(rule datasets.MaskRule, v string, key []byte) string {
	if v == "" {
		return ""
	}
	keepEnds := func(v string, head, tail int) string {
		r := []rune(strings.TrimSpace(v))
		if len(r) <= head+tail {
			return strings.Repeat("*", len(r))
		}
		return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
	}
	switch rule {
	case datasets.MaskNone:
		return v
	case datasets.MaskIDCard:
		return keepEnds(v, 6, 4)
	case datasets.MaskMobile:
		return keepEnds(v, 3, 4)
	case datasets.MaskName:
		r := []rune(strings.TrimSpace(v))
		if len(r) <= 1 {
			return "*"
		}
		keep := 1
		if len(r) >= 4 {
			keep = 2
		}
		return string(r[:keep]) + strings.Repeat("*", len(r)-keep)
	case datasets.MaskAddress:
		r := []rune(v)
		keep := min(6, len(r)/2)
		return string(r[:keep]) + "***"
	case datasets.MaskHash:
		return hex.EncodeToString(hmacOf(key, v))[:32]
	}
	return strings.Repeat("*", min(utf8.RuneCountInString(v), 16))
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
		for _, rule := range append(datasets.MaskRules, "bogus") {
			got := MaskValue(rule, v, []byte("k"))
			if want := maskValueRef(rule, v, []byte("k")); got != want {
				t.Fatalf("%s: masked %q into %q, want %q", rule, v, got, want)
			}
			if rule == datasets.MaskNone {
				continue
			}
			if !utf8.ValidString(got) && utf8.ValidString(v) {
				t.Fatalf("%s: masked %q into invalid UTF-8 %q", rule, v, got)
			}
			r := []rune(strings.TrimSpace(v))
			switch rule {
			case datasets.MaskIDCard, datasets.MaskMobile:
				// Every character is kept or starred, never dropped or added.
				if n := utf8.RuneCountInString(got); n != len(r) {
					t.Fatalf("%s masked %q (%d characters) into %q (%d)", rule, v, len(r), got, n)
				}
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
				if again := MaskValue(rule, v, []byte("k")); again != got {
					t.Fatalf("hash of %q is %q, then %q", v, got, again)
				}
			}
		}
	})
}
