package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"kaifang/datasets"
)

// MaskValue applies a masking rule to one value. Rules never fail: a value
// that does not look like what the rule expects is masked wholesale rather
// than passed through, since a malformed ID number is still an ID number.
// key is used by MaskHash only.
func MaskValue(rule datasets.MaskRule, v string, key []byte) string {
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
		r := []rune(strings.TrimSpace(v))
		if len(r) == 0 {
			return "*"
		}
		if len(r) == 1 {
			return "*"
		}
		// Compound surnames (歐陽) are two characters: keep two of four or more.
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
		m := hmac.New(sha256.New, key)
		m.Write([]byte(v))
		return hex.EncodeToString(m.Sum(nil))[:32]
	}
	return strings.Repeat("*", min(utf8.RuneCountInString(v), 16)) // unknown rule: withhold
}

// keepEnds keeps the first and last characters and stars the middle; a
// value too short to keep both ends keeps nothing.
func keepEnds(v string, head, tail int) string {
	r := []rune(strings.TrimSpace(v))
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}

// MaskKey is the key of MaskHash for one application: the same value gives
// the same hash across that application's entries (so they join), and a
// different one for every other application (so applicants cannot pool).
func (s *Service) MaskKey(applicationID string) []byte {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("kaifang mask\x00" + applicationID))
	return m.Sum(nil)
}

// MaskRows masks, in place, the columns of rows that the grant masks.
// Non-text values of a masked column are rendered as text first, so no
// masked column ever leaves with its stored value.
func (s *Service) MaskRows(g *datasets.Grant, cols []datasets.Column, rows [][]any) {
	if len(g.Masks) == 0 {
		return
	}
	key := s.MaskKey(g.ApplicationID)
	for i, c := range cols {
		rule, ok := g.Masks[c.Name]
		if !ok || rule == datasets.MaskNone {
			continue
		}
		for _, row := range rows {
			if i >= len(row) || row[i] == nil {
				continue
			}
			row[i] = MaskValue(rule, textOf(row[i]), key)
		}
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

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
