package search

import (
	"html"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kaifang/datasets"
	"kaifang/datasets/search/pinyin"
)

// Boosts applied on top of the engine's relevance. They are small on
// purpose: a high-value category wins only among comparably relevant hits
// (Shanghai art. 31), and use and freshness only break near-ties.
const (
	highValueBoost = 1.25 // 信用, 交通, 醫療, 就業, 社保, 教育, 環境, 氣象, 企業登記監管
	popularityMax  = 0.05 // at 10^6 downloads+calls
	freshnessMax   = 0.03 // updated today, fading over a year
)

// candidate is one engine hit with what ranking and highlighting need.
type candidate struct {
	id          string
	engineScore float64
	title       string
	description string
	agency      string
	tags        []string
	category    datasets.Category
	popularity  int64
	updated     time.Time
	// compacted: title is already compact (the bitmaps keep titles so),
	// which rank then need not redo for each of hundreds of candidates.
	compacted bool
	// initialsOnly: only the pinyin initials of the title matched the
	// query, none of its words (the engine says so).
	initialsOnly bool
	tier         int
	final        float64
	explain      map[string]any
}

// plan is a parsed query: the folded text and its synonym rewrites, each as
// the terms an entry should contain.
type plan struct {
	text  string
	alts  []string   // folded; alts[0] is the query itself
	exact []string   // compact of each alt: the title of an exact match
	terms [][]string // queryTerms of each alt
	runs  []string   // highlight units of every alt
	// initials is the query as pinyin initials ("gjj") when
	// pinyin.ParseQuery accepts it, else "": only then do the engines also
	// match the initials of titles.
	initials string
}

func newPlan(text string, syn Synonyms) plan {
	p := plan{text: Fold(strings.TrimSpace(text))}
	if p.text == "" {
		return p
	}
	p.initials, _ = pinyin.ParseQuery(p.text)
	for _, a := range syn.expand(p.text) {
		ts := queryTerms(a)
		if len(ts) == 0 {
			continue
		}
		p.alts = append(p.alts, a)
		p.exact = append(p.exact, compact(a))
		p.terms = append(p.terms, ts)
		for _, r := range queryRuns(a) {
			if !slices.Contains(p.runs, r) {
				p.runs = append(p.runs, r)
			}
		}
	}
	// Longest first, so highlighting marks 社会保险 rather than 社会.
	slices.SortFunc(p.runs, func(a, b string) int { return len(b) - len(a) })
	return p
}

func (p plan) empty() bool { return len(p.alts) == 0 }

// minMatch is how many of n query terms an entry must contain: all of
// short queries, most of long ones, so a bigram spanning two words the
// agency wrote apart (厦门|公交 → 门公) does not sink the whole query.
func minMatch(n int) int {
	if n <= 2 {
		return n
	}
	return n - n/4
}

// priorBoost is rank's factor on the engine score that does not depend on
// the query: high value × (1 + popularity + freshness), with its parts.
// priorWindow orders entries by it before bleve scores them.
func priorBoost(hv bool, popularity int64, updated time.Time, now time.Time) (boost, pop, fresh float64) {
	return priorOf(hv, popularityBoost(popularity), updated, now)
}

// popularityBoost is the popularity part of priorBoost, which the bitmaps
// keep with each entry (priorInfo) so priorWindow need not take thousands
// of logarithms a search.
func popularityBoost(popularity int64) float64 {
	return popularityMax * math.Min(1, math.Log10(1+float64(popularity))/6)
}

// priorOf is priorBoost with the popularity part already computed.
func priorOf(hv bool, pop float64, updated time.Time, now time.Time) (boost, _, fresh float64) {
	boost = 1.0
	if hv {
		boost *= highValueBoost
	}
	if !updated.IsZero() {
		age := now.Sub(updated).Hours() / 24
		fresh = freshnessMax * math.Max(0, 1-age/365)
	}
	boost *= 1 + pop + fresh
	return boost, pop, fresh
}

// rank orders candidates: an exact title match first, then entries whose
// title holds the whole query, then by relevance × boosts; entries only the
// pinyin initials of their title match come after every other.
func rank(p plan, cs []candidate, now time.Time, explain bool) {
	evidence := initialsEvidence(p, cs)
	for i := range cs {
		c := &cs[i]
		ft := c.title
		if !c.compacted {
			ft = compact(c.title)
		}
		tier, coverage, matchedAlt := titleTier(p, ft)
		if c.initialsOnly {
			tier = -1
		}
		hv := c.category.HighValue()
		boost, pop, fresh := priorBoost(hv, c.popularity, c.updated, now)
		if c.initialsOnly {
			boost *= evidence[i]
		}
		c.tier = tier
		c.final = c.engineScore * boost
		if explain {
			c.explain = map[string]any{
				"engine_score":   c.engineScore,
				"fields_matched": matchedFields(p, c),
				"exact_title":    tier == 3,
				"title_coverage": coverage,
				"matched_query":  matchedAlt,
				"tier":           tier,
				"boosts": map[string]float64{
					"high_value": map[bool]float64{true: highValueBoost, false: 1}[hv],
					"popularity": 1 + pop,
					"freshness":  1 + fresh,
				},
				"score": c.final,
			}
			if p.initials != "" {
				// Only for queries that could be initials, so others
				// explain themselves as before.
				c.explain["initials_only"] = c.initialsOnly
				c.explain["initials_word"] = evidence[i]
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b candidate) int {
		if a.tier != b.tier {
			return b.tier - a.tier
		}
		switch {
		case a.final > b.final:
			return -1
		case a.final < b.final:
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
}

func matchedFields(p plan, c *candidate) []string {
	var fs []string
	has := func(s string) bool {
		f := compact(s)
		for _, ts := range p.terms {
			for _, t := range ts {
				if strings.Contains(f, t) {
					return true
				}
			}
		}
		return false
	}
	if has(c.title) {
		fs = append(fs, "title")
	}
	if has(c.description) {
		fs = append(fs, "description")
	}
	if has(c.agency) {
		fs = append(fs, "agency")
	}
	if has(strings.Join(c.tags, " ")) {
		fs = append(fs, "tags")
	}
	if p.initials != "" && hasInitials(c.title, p.initials) {
		fs = append(fs, "initials")
	}
	return fs
}

// initialsEvidence weighs each initials-only candidate by how many of the
// candidates share the characters its initials matched: "gjj" matches 公积金
// in many titles but 管局经 (监管局经营) or 轨迹及 in one each, so characters
// that recur are taken to be the word the citizen meant. The weight is
// 1 + ln(n) for the commonest of its matches among n candidates (1 for the
// others), computed on compact titles, which light and loaded candidates
// share.
func initialsEvidence(p plan, cs []candidate) []float64 {
	w := make([]float64, len(cs))
	for i := range w {
		w[i] = 1
	}
	if p.initials == "" {
		return w
	}
	spans := make([][]string, len(cs))
	count := map[string]int{}
	for i := range cs {
		if !cs[i].initialsOnly {
			continue
		}
		spans[i] = initialsSpans(compact(cs[i].title), p.initials)
		for _, s := range spans[i] {
			count[s]++
		}
	}
	for i, ss := range spans {
		n := 1
		for _, s := range ss {
			n = max(n, count[s])
		}
		w[i] = 1 + math.Log(float64(n))
	}
	return w
}

// initialsSpans returns the distinct runs of Han characters of text whose
// initials are q.
func initialsSpans(text, q string) []string {
	var out []string
	rs := []rune(text)
	for i := 0; i < len(rs); {
		if !isHan(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isHan(rs[j]) {
			j++
		}
		run := rs[i:j]
		if ini := pinyin.Initials(string(run)); len(ini) == len(run) {
			for k := 0; k+len(q) <= len(ini); k++ {
				if ini[k:k+len(q)] == q {
					if s := string(run[k : k+len(q)]); !slices.Contains(out, s) {
						out = append(out, s)
					}
				}
			}
		}
		i = j
	}
	return out
}

// hasInitials reports whether an initials term of title starts with q:
// what the engines' initials match finds.
func hasInitials(title, q string) bool {
	for _, t := range pinyin.IndexTerms(title) {
		if strings.HasPrefix(t, q) {
			return true
		}
	}
	return false
}

// highlight marks every occurrence of the plan's runs in text with <mark>,
// HTML-escaping the rest, and returns fragments of about width characters
// around the first matches. Matching is done on the folded text and cut
// from the original, so 醫療 is marked in a query for 医疗.
func highlight(p plan, text string, width, maxFrags int) []string {
	if p.empty() || text == "" {
		return nil
	}
	orig := []rune(text)
	folded := []rune(Fold(text))
	if len(orig) != len(folded) {
		return nil
	}
	marked := make([]bool, len(orig))
	found := false
	fs := string(folded)
	for _, r := range p.runs {
		rr := []rune(r)
		// A lone Han character is worth marking only when the query was that one character.
		if len(rr) == 1 && len(p.runs) > 1 && utf8.RuneLen(rr[0]) > 1 {
			continue
		}
		off := 0
		for {
			i := strings.Index(fs[off:], r)
			if i < 0 {
				break
			}
			startRune := utf8.RuneCountInString(fs[:off+i])
			for k := startRune; k < startRune+len(rr) && k < len(marked); k++ {
				marked[k] = true
				found = true
			}
			off += i + len(r)
		}
	}
	if !found {
		return nil
	}
	var frags []string
	for i := 0; i < len(orig) && len(frags) < maxFrags; {
		if !marked[i] {
			i++
			continue
		}
		from := max(0, i-width/3)
		to := min(len(orig), from+width)
		var b strings.Builder
		if from > 0 {
			b.WriteString("…")
		}
		in := false
		for k := from; k < to; k++ {
			if marked[k] && !in {
				b.WriteString("<mark>")
				in = true
			} else if !marked[k] && in {
				b.WriteString("</mark>")
				in = false
			}
			b.WriteString(html.EscapeString(string(orig[k])))
		}
		if in {
			b.WriteString("</mark>")
		}
		if to < len(orig) {
			b.WriteString("…")
		}
		frags = append(frags, b.String())
		i = to
	}
	return frags
}

func hitsFromCandidates(p plan, cs []candidate, explain bool) []datasets.SearchHit {
	hits := make([]datasets.SearchHit, 0, len(cs))
	for _, c := range cs {
		h := datasets.SearchHit{ID: c.id, Score: c.final}
		hl := map[string][]string{}
		tp := p
		if c.initialsOnly {
			// Mark the characters whose initials matched.
			tp.runs = initialsSpans(compact(c.title), p.initials)
		}
		if f := highlight(tp, c.title, 200, 1); f != nil {
			hl["title"] = f
		}
		if f := highlight(p, c.description, 80, 2); f != nil {
			hl["description"] = f
		}
		if len(hl) > 0 {
			h.Highlights = hl
		}
		if explain {
			h.Explanation = c.explain
		}
		hits = append(hits, h)
	}
	return hits
}

// normalizeQuery applies the documented defaults and bounds of SearchQuery.
func normalizeQuery(q datasets.SearchQuery) (datasets.SearchQuery, error) {
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage <= 0 {
		q.PerPage = 20
	}
	if q.PerPage > 100 {
		q.PerPage = 100
	}
	switch q.Sort {
	case "", "relevance":
		q.Sort = "relevance"
	case "updated", "popular":
	default:
		return q, datasets.Errorf(datasets.EINVALID, "sort must be relevance, updated or popular")
	}
	if q.Page > 1000 {
		return q, datasets.Errorf(datasets.EINVALID, "page must be at most 1000")
	}
	if utf8.RuneCountInString(q.Text) > 200 {
		return q, datasets.Errorf(datasets.EINVALID, "query text must be at most 200 characters")
	}
	return q, nil
}

// rerankWindow is how many engine hits are re-ranked for a page.
func rerankWindow(q datasets.SearchQuery) int {
	return min(1000, max(100, q.Page*q.PerPage+50))
}

// Facet names, the same for both engines and in the public API.
const (
	FacetAgency    = "agency"
	FacetCategory  = "category"
	FacetOpenClass = "open_class"
	FacetFormat    = "format"
	FacetFrequency = "frequency"
	FacetTags      = "tags"
)

var facetNames = []string{FacetAgency, FacetCategory, FacetOpenClass, FacetFormat, FacetFrequency, FacetTags}

func normFormat(f string) string { return strings.ToLower(strings.TrimSpace(Fold(f))) }

// filterGroup is one filter of a search: any of values in field.
type filterGroup struct {
	field  string
	values []string
}

// filterGroups lists q's filters, the same for every engine, in a fixed
// order. Only public classes can be asked for: a filter naming none of them
// returns ok=false, meaning nothing can match.
func filterGroups(q datasets.SearchQuery) (groups []filterGroup, ok bool) {
	if len(q.OpenClasses) > 0 {
		var classes []string
		for _, c := range q.OpenClasses {
			if c.Public() {
				classes = append(classes, string(c))
			}
		}
		if len(classes) == 0 {
			return nil, false
		}
		groups = append(groups, filterGroup{FacetOpenClass, classes})
	}
	if len(q.AgencyIDs) > 0 {
		groups = append(groups, filterGroup{FacetAgency, q.AgencyIDs})
	}
	if len(q.Categories) > 0 {
		groups = append(groups, filterGroup{FacetCategory, strs(q.Categories)})
	}
	if len(q.Formats) > 0 {
		var f []string
		for _, v := range q.Formats {
			f = append(f, normFormat(v))
		}
		groups = append(groups, filterGroup{FacetFormat, f})
	}
	if len(q.Frequencies) > 0 {
		groups = append(groups, filterGroup{FacetFrequency, strs(q.Frequencies)})
	}
	if len(q.Tags) > 0 {
		groups = append(groups, filterGroup{FacetTags, q.Tags})
	}
	return groups, true
}
