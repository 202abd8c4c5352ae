package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every key a template names exists in every catalogue (loadCatalogues
// already refuses catalogues whose key sets differ).
func TestTemplatesUseKnownKeys(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`\.Tf? "([a-z_.A-Z]+)"`)
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		b, _ := templateFS.ReadFile(n)
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			if _, ok := cs.byLang["en"][m[1]]; !ok {
				t.Errorf("%s uses unknown message key %q", n, m[1])
			}
		}
	}
	// Keys built at run time from domain values.
	for _, prefix := range []string{"cat.", "class.", "freq.", "mode.", "type.", "sort.", "facet.", "error."} {
		found := false
		for k := range cs.byLang["en"] {
			if strings.HasPrefix(k, prefix) {
				found = true
			}
		}
		if !found {
			t.Errorf("no keys with prefix %s", prefix)
		}
	}
}

// English differs from traditional Chinese for every UI string except
// those that are the same in both scripts by nature (codes, formats).
func TestCataloguesTranslated(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	for k, en := range cs.byLang["en"] {
		if en == cs.byLang["zh-Hant"][k] {
			t.Errorf("%s is the same in English and 繁體中文: %q", k, en)
		}
		if strings.TrimSpace(en) == "" {
			t.Errorf("%s is empty in English", k)
		}
	}
}

func TestSanitizeHighlight(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "空氣品質", "空氣品質"},
		{"mark kept", "<mark>空氣</mark>品質", "<mark>空氣</mark>品質"},
		{"escaped entity stays escaped", "a &amp; b &lt;i&gt;", "a &amp; b &lt;i&gt;"},
		{"other tags escaped", "<script>alert(1)</script><mark>x</mark>", "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>"},
		{"unclosed mark closed", "<mark>x", "<mark>x</mark>"},
		{"stray close escaped", "x</mark>", "x&lt;/mark&gt;"},
		{"attribute smuggling", `<mark onmouseover="x">y</mark>`, `&lt;mark onmouseover=&#34;x&#34;&gt;y&lt;/mark&gt;`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(sanitizeHighlight(tc.in)); got != tc.want {
				t.Errorf("sanitizeHighlight(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func FuzzSanitizeHighlight(f *testing.F) {
	for _, s := range []string{"<mark>社保</mark>", "<b>x</b>", "&lt;", "<mark><mark>", "<", "</mark><mark>a", "\xff<mark>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := string(sanitizeHighlight(in))
		for _, tag := range tagRE.FindAllString(out, -1) {
			if tag != "<mark>" && tag != "</mark>" {
				t.Fatalf("output carries tag %q (from %q)", tag, in)
			}
		}
		if strings.Count(out, "<mark>") != strings.Count(out, "</mark>") {
			t.Fatalf("unbalanced marks in %q", out)
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	secret := []byte("fuzz-secret-0123456789")
	st := &site{d: Deps{Secret: secret}}
	good := st.encodeSession(session{ID: newSessionID(), Token: "kf_pat_x", TokenID: "t1", Expires: time.Now().Add(time.Hour).Unix()})
	for _, s := range []string{good, "", ".", "a.b", good + "x", strings.Replace(good, ".", "..", 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, ok := decodeSession(secret, v, time.Now())
		if ok && v != good {
			// Any other accepted value must itself be a correctly signed one.
			if st.encodeSession(s) != v {
				t.Fatalf("accepted a value that is not its own signature: %q", v)
			}
		}
	})
}

func TestDecodeSessionRefuses(t *testing.T) {
	secret := []byte("test-secret-0123456789")
	st := &site{d: Deps{Secret: secret}}
	now := time.Now()
	s := session{ID: newSessionID(), Token: "tok", TokenID: "id", Expires: now.Add(time.Hour).Unix()}
	good := st.encodeSession(s)
	if got, ok := decodeSession(secret, good, now); !ok || got != s {
		t.Fatalf("round trip failed: %v %v", got, ok)
	}
	for name, v := range map[string]string{
		"other secret": (&site{d: Deps{Secret: []byte("another-secret-0123456")}}).encodeSession(s),
		"tampered":     "x" + good[1:],
		"no signature": strings.Split(good, ".")[0],
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := decodeSession(secret, v, now); ok {
				t.Error("accepted")
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		if _, ok := decodeSession(secret, good, now.Add(2*time.Hour)); ok {
			t.Error("accepted")
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/search?q=x", "//evil", "https://evil", "/\\evil", "", "/a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", in, out)
		}
	})
}

func TestAllPeriods(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []string
		want   bool
	}{
		{"months", []string{"2021-01", "2021-12"}, true},
		{"chinese years", []string{"2024年", "2015年"}, true},
		{"districts", []string{"思明區", "2021-01"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := allPeriods(tc.labels); got != tc.want {
				t.Errorf("allPeriods(%v) = %v", tc.labels, got)
			}
		})
	}
}
