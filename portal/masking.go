package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"kaifang/datasets"
)

// MaskValue applies a masking rule to one value. Rules never fail: a value
// that does not look like what the rule expects is masked wholesale rather
// than passed through, since a malformed ID number is still an ID number.
// key is used by MaskHash only.
//
// Characters are counted as []rune counts them: a byte that is not UTF-8
// is one character and, when kept, comes out as U+FFFD.
func MaskValue(rule datasets.MaskRule, v string, key []byte) string {
	if rule == datasets.MaskHash && v != "" {
		m := maskMACs.get(key)
		defer maskMACs.put(m)
		return maskHash(v, m)
	}
	return maskValue(rule, v, nil)
}

// maskValue is MaskValue with the HMAC state of the key, which MaskRows
// keeps for a whole page; m may be nil for every rule but MaskHash.
// It builds each result in one allocation, and none for results made of
// stars only, because it runs for every masked cell of every page.
func maskValue(rule datasets.MaskRule, v string, m *macState) string {
	if v == "" {
		return ""
	}
	switch rule {
	case datasets.MaskNone:
		return v
	case datasets.MaskIDCard:
		return keepEnds(v, 6, 4)
	case datasets.MaskMobile:
		return keepEnds(v, 3, 4)
	case datasets.MaskName:
		t := strings.TrimSpace(v)
		n := utf8.RuneCountInString(t)
		if n <= 1 {
			return "*"
		}
		// Compound surnames (歐陽) are two characters: keep two of four or more.
		keep := 1
		if n >= 4 {
			keep = 2
		}
		head := t[:runeOffset(t, keep)]
		var b strings.Builder
		b.Grow(len(head) + n - keep)
		writeRunes(&b, head)
		writeStars(&b, n-keep)
		return b.String()
	case datasets.MaskAddress:
		n := utf8.RuneCountInString(v)
		keep := min(6, n/2)
		if keep == 0 {
			return "***"
		}
		head := v[:runeOffset(v, keep)]
		var b strings.Builder
		b.Grow(len(head) + 3)
		writeRunes(&b, head)
		b.WriteString("***")
		return b.String()
	case datasets.MaskHash:
		return maskHash(v, m)
	}
	return stars[:min(utf8.RuneCountInString(v), len(stars))] // unknown rule: withhold
}

// maskHash is the first 32 hex digits of the HMAC-SHA256 of v under the
// key of m.
func maskHash(v string, m *macState) string {
	sum := m.sumOf(v)
	var h [32]byte
	hex.Encode(h[:], sum[:len(h)/2])
	return string(h[:])
}

// stars is the longest run of stars most masks need, sliced rather than
// built.
const stars = "****************"

// keepEnds keeps the first and last characters and stars the middle; a
// value too short to keep both ends keeps nothing.
func keepEnds(v string, head, tail int) string {
	t := strings.TrimSpace(v)
	n := utf8.RuneCountInString(t)
	if n <= head+tail {
		return stars[:n] // head+tail is at most 10
	}
	first, last := t[:runeOffset(t, head)], t[runeOffset(t, n-tail):]
	var b strings.Builder
	b.Grow(len(first) + n - head - tail + len(last))
	writeRunes(&b, first)
	writeStars(&b, n-head-tail)
	writeRunes(&b, last)
	return b.String()
}

// runeOffset is the byte offset in s of its i-th character (len(s) if it
// has no more), stepping as range does: over each byte that is not UTF-8
// singly, which is how []rune splits s.
func runeOffset(s string, i int) int {
	for off := range s {
		if i == 0 {
			return off
		}
		i--
	}
	return len(s)
}

// writeRunes writes s as string([]rune(s)) spells it: as is when it is
// UTF-8, with each byte that is not replaced by U+FFFD otherwise.
func writeRunes(b *strings.Builder, s string) {
	if utf8.ValidString(s) {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		b.WriteRune(r)
	}
}

// writeStars writes n stars.
func writeStars(b *strings.Builder, n int) {
	for ; n > len(stars); n -= len(stars) {
		b.WriteString(stars)
	}
	b.WriteString(stars[:n])
}

// MaskKey is the key of MaskHash for one application: the same value gives
// the same hash across that application's entries (so they join), and a
// different one for every other application (so applicants cannot pool).
func (s *Service) MaskKey(applicationID string) []byte {
	k := s.maskKey(applicationID)
	return k[:]
}

// maskKey is MaskKey without the allocation of its result.
func (s *Service) maskKey(applicationID string) [sha256.Size]byte {
	m := serverMACs.get(s.Secret)
	defer serverMACs.put(m)
	return m.sumOf("kaifang mask\x00", applicationID)
}

// MaskRows masks, in place, the columns of rows that the grant masks.
// Non-text values of a masked column are rendered as text first, so no
// masked column ever leaves with its stored value.
func (s *Service) MaskRows(g *datasets.Grant, cols []datasets.Column, rows [][]any) {
	if len(g.Masks) == 0 {
		return
	}
	// The mask key and its HMAC state are made once per page, and only for
	// a grant that hashes a column: most mask nothing by hash.
	var m *macState
	for i, c := range cols {
		rule, ok := g.Masks[c.Name]
		if !ok || rule == datasets.MaskNone {
			continue
		}
		if rule == datasets.MaskHash && m == nil {
			key := s.maskKey(g.ApplicationID)
			m = maskMACs.get(key[:])
		}
		for _, row := range rows {
			if i >= len(row) || row[i] == nil {
				continue
			}
			row[i] = maskValue(rule, textOf(row[i]), m)
		}
	}
	if m != nil {
		maskMACs.put(m)
	}
}

// MaskedColumns returns cols with masked ones retyped as text.
func MaskedColumns(g *datasets.Grant, cols []datasets.Column) []datasets.Column {
	out := make([]datasets.Column, len(cols))
	for i, c := range cols {
		out[i] = c
		if r, ok := g.Masks[c.Name]; ok && r != datasets.MaskNone {
			out[i].Type = datasets.TypeText
		}
	}
	return out
}

// textOf renders v as fmt.Sprint does, without fmt for the common kinds
// of a masked column.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	return fmt.Sprint(v)
}
