package fold

//go:generate go run ../internal/gent2s -in /usr/share/unicode/Unihan_Variants.txt.bz2 -o t2s_table.go

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rune folds one character: full-width ASCII to half-width, the ideographic
// space to a space, traditional to simplified, then lower case. It maps one
// rune to exactly one rune so that tokenizers can keep byte offsets into the
// original text for highlighting.
func Rune(r rune) rune {
	switch {
	case r < utf8.RuneSelf:
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	case r >= 0xFF01 && r <= 0xFF5E: // full-width forms of ASCII
		return unicode.ToLower(r - 0xFEE0)
	case r == 0x3000: // ideographic space
		return ' '
	}
	if r >= t2sFrom[0] && r <= t2sFrom[len(t2sFrom)-1] {
		i := sort.Search(len(t2sFrom), func(i int) bool { return t2sFrom[i] >= r })
		if i < len(t2sFrom) && t2sFrom[i] == r {
			return t2sTo[i]
		}
	}
	return unicode.ToLower(r)
}

// String folds every character of s with Rune. Invalid UTF-8 bytes become
// U+FFFD, so the result is always valid UTF-8.
func String(s string) string {
	// Fast path: nothing to change.
	changed := false
	for _, r := range s {
		if r == utf8.RuneError || Rune(r) != r {
			changed = true
			break
		}
	}
	if !changed {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(Rune(r))
	}
	return b.String()
}

// IsHan reports whether r is a CJK ideograph, which the search tokenizers
// index as single characters and bigrams rather than as words.
func IsHan(r rune) bool { return unicode.Is(unicode.Han, r) }
