package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"kaifang/datasets/search/fold"
)

// Fold is the platform's one Chinese normalisation (traditional→simplified,
// full-width→half-width, lower case); see package fold.
func Fold(s string) string { return fold.String(s) }

// token is one indexed term with its byte span in the original text, so
// highlights can be cut from the text the agency wrote, not the folded one.
type token struct {
	term       string
	start, end int
	pos        int
}

// tokenize splits text the same way for documents and queries: runs of Han
// characters give every single character and every bigram (so one- and
// two-character queries find their entries without a dictionary); runs of
// letters and digits give one lower-cased word; everything else separates.
func tokenize(text string) []token {
	var out []token
	pos := 0
	type span struct {
		r          rune
		start, end int
	}
	var han []span
	flushHan := func() {
		for i, s := range han {
			pos++
			out = append(out, token{term: string(s.r), start: s.start, end: s.end, pos: pos})
			if i+1 < len(han) {
				n := han[i+1]
				out = append(out, token{term: string([]rune{s.r, n.r}), start: s.start, end: n.end, pos: pos})
			}
		}
		han = han[:0]
	}
	wordStart := -1
	var word strings.Builder
	flushWord := func(end int) {
		if wordStart >= 0 {
			pos++
			out = append(out, token{term: word.String(), start: wordStart, end: end, pos: pos})
			word.Reset()
			wordStart = -1
		}
	}
	for i, r := range text {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			size = 1
		}
		f := fold.Rune(r)
		switch {
		case fold.IsHan(f):
			flushWord(i)
			han = append(han, span{f, i, i + size})
		case unicode.IsLetter(f) || unicode.IsDigit(f):
			flushHan()
			if wordStart < 0 {
				wordStart = i
			}
			word.WriteRune(f)
		default:
			flushHan()
			flushWord(i)
		}
	}
	flushHan()
	flushWord(len(text))
	return out
}

// queryTerms turns folded query text into the terms every one of which a
// matching entry should contain: bigrams for Han runs of two or more
// characters, the character itself for a lone one, and whole words.
func queryTerms(text string) []string {
	var terms []string
	seen := map[string]bool{}
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	for _, run := range queryRuns(text) {
		rs := []rune(run)
		if !fold.IsHan(rs[0]) || len(rs) == 1 {
			add(run)
			continue
		}
		for i := 0; i+1 < len(rs); i++ {
			add(string(rs[i : i+2]))
		}
	}
	return terms
}

// queryRuns splits folded text into Han runs and words, the units that
// highlighting marks and exact-title matching compares.
func queryRuns(text string) []string {
	var runs []string
	var cur []rune
	curHan := false
	flush := func() {
		if len(cur) > 0 {
			runs = append(runs, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range fold.String(text) {
		switch {
		case fold.IsHan(r):
			if !curHan {
				flush()
			}
			curHan = true
			cur = append(cur, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if curHan {
				flush()
			}
			curHan = false
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return runs
}

// compact is the folded text without separators, used to compare a query
// with a whole title ("exact title match").
func compact(s string) string {
	return strings.Join(queryRuns(s), "")
}

func isHan(r rune) bool { return fold.IsHan(r) }
