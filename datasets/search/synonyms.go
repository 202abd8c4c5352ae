package search

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"kaifang/datasets"
)

//go:embed synonyms.txt
var defaultSynonyms string

// Synonyms maps a folded term to the folded terms a query containing it
// should also look for. Abbreviations citizens type (社保, 醫保, 公積金) expand to
// the names agencies write, and the full names point back to the abbreviation.
type Synonyms map[string][]string

// ParseSynonyms reads the synonym file format: one rule a line,
//
//	社保 = 社會保險 | 社會保障
//
// meaning the left term also finds each right term, and each right term also
// finds the left one. '#' starts a comment. Terms are folded, so rules may be
// written in traditional or simplified characters. Errors are EINVALID with
// the line of each bad rule.
func ParseSynonyms(r io.Reader) (Synonyms, error) {
	syn := Synonyms{}
	var problems []datasets.Problem
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		left, right, ok := strings.Cut(text, "=")
		left = compact(left)
		if !ok || left == "" {
			problems = append(problems, datasets.Problem{Line: line, Message: "want: term = expansion | expansion"})
			continue
		}
		var exps []string
		for _, e := range strings.Split(right, "|") {
			if e = compact(e); e != "" && e != left {
				exps = append(exps, e)
			}
		}
		if len(exps) == 0 {
			problems = append(problems, datasets.Problem{Line: line, Message: "no expansion after ="})
			continue
		}
		for _, e := range exps {
			syn.add(left, e)
			syn.add(e, left)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "reading synonyms")
	}
	if len(problems) > 0 {
		return nil, &datasets.Error{Code: datasets.EINVALID, Message: fmt.Sprintf("synonyms: %d bad rules, first: %s", len(problems), problems[0]), Problems: problems}
	}
	return syn, nil
}

func (s Synonyms) add(from, to string) {
	if !slices.Contains(s[from], to) {
		s[from] = append(s[from], to)
	}
}

// DefaultSynonyms returns the embedded table.
func DefaultSynonyms() Synonyms {
	s, err := ParseSynonyms(strings.NewReader(defaultSynonyms))
	if err != nil {
		// The embedded file is checked by a test; an error here is a bug.
		return Synonyms{}
	}
	return s
}

// LoadSynonyms returns the embedded table extended by the rules in path
// (agencies add their own abbreviations there); "" means only the default.
func LoadSynonyms(path string) (Synonyms, error) {
	syn := DefaultSynonyms()
	if path == "" {
		return syn, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "opening synonym file %s", path)
	}
	defer f.Close()
	extra, err := ParseSynonyms(f)
	if err != nil {
		return nil, err
	}
	for k, vs := range extra {
		for _, v := range vs {
			syn.add(k, v)
		}
	}
	return syn, nil
}

// maxAlternatives bounds how many rewritten queries one query may fan out to.
const maxAlternatives = 8

// expand returns the folded query followed by its synonym rewrites: every
// rule whose term occurs in the query gives one rewrite with that term
// replaced. Longer terms are tried first so 住房公積金 is not also read as 公積金.
func (s Synonyms) expand(q string) []string {
	q = Fold(strings.TrimSpace(q))
	alts := []string{q}
	if q == "" {
		return alts
	}
	keys := make([]string, 0, 4)
	for k := range s {
		if strings.Contains(q, k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		for _, e := range s[k] {
			if strings.Contains(e, k) && strings.Contains(q, e) { // already the long form
				continue
			}
			alt := strings.Replace(q, k, e, 1)
			if !slices.Contains(alts, alt) {
				alts = append(alts, alt)
			}
			if len(alts) >= maxAlternatives {
				return alts
			}
		}
	}
	return alts
}
