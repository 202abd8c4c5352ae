package pinyin

//go:generate go run ./internal/genpinyin -in /usr/share/unicode/Unihan_Readings.txt.bz2 -variants /usr/share/unicode/Unihan_Variants.txt.bz2 -o table.go

import (
	"slices"
	"sort"
	"strings"

	"kaifang/datasets/search/fold"
)

// MinQueryLen and MaxQueryLen bound the length of a query IsInitialsQuery
// accepts, and MaxQueryLen the length of the terms IndexTerms returns.
const (
	MinQueryLen = 2
	MaxQueryLen = 8
)

// Letters holds every letter a pinyin initial can be. No Mandarin syllable
// starts with i, u or ü (they are spelled yi, wu, yu), and the generator
// checks that Unihan agrees.
const Letters = "abcdefghjklmnopqrstwxyz"

// Initial returns the initial letter of the most common Mandarin reading of
// r after folding it to simplified, or 0 if r is not a Han character with a
// reading in Unihan (ASCII included). It ignores the phrase overrides, which
// need context: Initial('厦') is 's' (shà) although Initials("厦门") is "xm".
func Initial(r rune) byte {
	if c := lookup(foldRune(r)); c != 0 {
		return c
	}
	return lookup(r)
}

// foldRune applies fold.Rune until the rune no longer changes, so that
// Initials(fold.String(s)) == Initials(s) even where the fold table chains
// (薴 → 苧 → 苎 in Unihan 15.0).
func foldRune(r rune) rune {
	for range 4 {
		f := fold.Rune(r)
		if f == r {
			break
		}
		r = f
	}
	return r
}

func lookup(r rune) byte {
	var c byte
	switch {
	case r >= bmpLo && r < bmpLo+rune(len(bmp)):
		c = bmp[r-bmpLo]
	case r >= supLo && r < supLo+rune(len(sup)):
		c = sup[r-supLo]
	case r >= extLo && r < extLo+rune(len(ext)):
		c = ext[r-extLo]
	case r >= sparseRunes[0] && r <= sparseRunes[len(sparseRunes)-1]:
		i := sort.Search(len(sparseRunes), func(i int) bool { return sparseRunes[i] >= r })
		if i < len(sparseRunes) && sparseRunes[i] == r {
			c = sparseLetters[i]
		}
	}
	if c == '_' {
		return 0
	}
	return c
}

// Initials returns the pinyin initials of s with the words joined: 社会保险
// and 社會保險 give "shbx", "2023年GDP" gives "2023ngdp". The result holds
// only the bytes a-z and 0-9. See the package documentation for the rules.
func Initials(s string) string {
	var b strings.Builder
	scan(s, func(w []byte, _ bool) { b.Write(w) })
	return b.String()
}

// Words returns the words of the initials of s: "住房公积金 2023年报表"
// gives ["zfgjj", "2023", "nbb"].
func Words(s string) []string {
	var ws []string
	scan(s, func(w []byte, _ bool) { ws = append(ws, string(w)) })
	return ws
}

// IndexTerms returns the terms to index for s in a keyword field so that a
// prefix query for an initials query finds s wherever characters with
// those initials stand together in it: for each word made of Han characters, the
// substring of at most MaxQueryLen letters starting at each of its letters
// that has at least MinQueryLen letters. "住房公积金" gives ["fgjj", "gjj",
// "jj", "zfgjj"], so "gjj" finds it. The terms are sorted; ASCII words are
// left out (the text fields index them already), and so is a term that is
// a prefix of another, since any query it matches matches the other too.
func IndexTerms(s string) []string {
	var terms []string
	scan(s, func(w []byte, han bool) {
		if !han {
			return
		}
		for i := 0; i+MinQueryLen <= len(w); i++ {
			terms = append(terms, string(w[i:min(i+MaxQueryLen, len(w))]))
		}
	})
	// Sorted, a term is a prefix of another exactly when it is a prefix of
	// the next one.
	slices.Sort(terms)
	out := terms[:0]
	for i, t := range terms {
		if i+1 < len(terms) && strings.HasPrefix(terms[i+1], t) {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ParseQuery reports whether q could be pinyin initials and returns it in
// the form Initials and IndexTerms use: after folding (full-width to
// half-width, lower case) and trimming spaces, q must be MinQueryLen to
// MaxQueryLen ASCII letters, none of them i, u or v, which never start a
// syllable. "sb", "GJJ" and "shbx" pass; "bus", "api", "csv", "a",
// "社保" and "gjj 2023" do not. Short English words without i, u or v
// ("map", "data") pass too, so search should give initials matches a low
// boost rather than trust them.
func ParseQuery(q string) (string, bool) {
	q = strings.TrimSpace(fold.String(q))
	if len(q) < MinQueryLen || len(q) > MaxQueryLen {
		return "", false
	}
	for i := 0; i < len(q); i++ {
		if !isLetter(q[i]) {
			return "", false
		}
	}
	return q, true
}

// IsInitialsQuery reports whether ParseQuery accepts q.
func IsInitialsQuery(q string) bool {
	_, ok := ParseQuery(q)
	return ok
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' && c != 'i' && c != 'u' && c != 'v'
}

// scan calls emit with each word of s and whether it came from Han
// characters. w is reused after emit returns.
func scan(s string, emit func(w []byte, han bool)) {
	if s == "" {
		return
	}
	src := []rune(s)
	rs := make([]rune, len(src))
	for i, r := range src {
		rs[i] = foldRune(r)
	}
	buf := make([]byte, 0, len(rs))
	han := false
	flush := func() {
		if len(buf) > 0 {
			emit(buf, han)
			buf = buf[:0]
		}
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			if han {
				flush()
				han = false
			}
			buf = append(buf, byte(r))
			i++
			continue
		}
		if p, ok := matchPhrase(rs[i:]); ok {
			if !han {
				flush()
				han = true
			}
			buf = append(buf, p.initials...)
			i += len(p.runes)
			continue
		}
		c := lookup(r)
		if c == 0 {
			c = lookup(src[i])
		}
		if c == 0 {
			flush()
			i++
			continue
		}
		if !han {
			flush()
			han = true
		}
		buf = append(buf, c)
		i++
	}
	flush()
}
