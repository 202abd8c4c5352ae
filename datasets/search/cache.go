package search

import (
	"container/list"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"kaifang/datasets"
)

// resultCache remembers answers for one index generation. Every write to
// the index starts a new generation and drops what was remembered, so an
// answer is never older than the last Upsert, Delete or Reset that returned.
//
// Why a cache at all: a broad query such as 交通 matches a sixth of a
// 100,000-entry catalogue, and bleve scores every match it may show.
// Catalogue search traffic is dominated by a few popular queries and the
// portal home page (the empty query), while the catalogue itself changes a
// few times a day, so most searches repeat an answer the index already gave.
// Facet counts are not remembered: the bitmaps (bitmapIndex) count them in
// microseconds.
type resultCache struct {
	mu  sync.Mutex
	gen uint64
	max int
	ll  *list.List // front = most recently used
	m   map[string]*list.Element
}

type cacheEntry struct {
	key string
	gen uint64
	val any
}

func newResultCache(max int) *resultCache {
	return &resultCache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// generation is the current generation; pass it to put so an answer
// computed before a write is not stored as current after it.
func (c *resultCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate forgets everything.
func (c *resultCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen += 2 // stays even: no write in progress
	c.ll.Init()
	clear(c.m)
}

// beginWrite stops remembering new answers (the generation is odd while a
// write is in progress). Answers already remembered are still served until
// endWrite: the write has not returned yet.
func (c *resultCache) beginWrite() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
}

// endWrite forgets everything and starts the next generation.
func (c *resultCache) endWrite() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.ll.Init()
	clear(c.m)
}

func (c *resultCache) get(key string) (any, bool) {
	if c == nil || c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*cacheEntry).val, true
}

func (c *resultCache) put(key string, gen uint64, val any) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || gen%2 == 1 {
		return // computed against an index that has since changed, or is changing
	}
	if e, ok := c.m[key]; ok {
		e.Value.(*cacheEntry).val = val
		c.ll.MoveToFront(e)
		return
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key: key, gen: gen, val: val})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cacheEntry).key)
	}
}

// facetsKey identifies the set of matching entries: the folded text and
// the filters, whatever the sort and page.
func facetsKey(p plan, q datasets.SearchQuery) string {
	var b strings.Builder
	b.WriteString("f\x00")
	b.WriteString(p.text)
	list := func(name string, vs []string) {
		b.WriteString("\x00")
		b.WriteString(name)
		vs = slices.Clone(vs)
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString("\x1f")
			b.WriteString(v)
		}
	}
	list("c", strs(q.OpenClasses))
	list("a", q.AgencyIDs)
	list("k", strs(q.Categories))
	fm := make([]string, len(q.Formats))
	for i, f := range q.Formats {
		fm[i] = normFormat(f)
	}
	list("m", fm)
	list("q", strs(q.Frequencies))
	list("t", q.Tags)
	return b.String()
}

// resultKey identifies one page of one order of a matching set.
func resultKey(p plan, q datasets.SearchQuery) string {
	return "r" + facetsKey(p, q)[1:] + "\x00" + q.Sort + "\x00" + strconv.Itoa(q.Page) + "\x00" + strconv.Itoa(q.PerPage)
}

// facetCounts is the total and the count of every "name=value" facet term
// of a matching set.
type facetCounts struct {
	total int
	terms map[string]int
}

// facets is the public form: per facet, its most frequent values (ties by
// value) up to that facet's size, trimmed as the engine itself trims them.
func (c *facetCounts) facets() map[string]map[string]int {
	type tc struct {
		term string
		n    int
	}
	all := make([]tc, 0, len(c.terms))
	for t, n := range c.terms {
		all = append(all, tc{t, n})
	}
	slices.SortFunc(all, func(a, b tc) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.term, b.term)
	})
	out := make(map[string]map[string]int, len(facetNames))
	for _, f := range facetNames {
		out[f] = map[string]int{}
	}
	for _, t := range all[:min(len(all), facetValues)] {
		name, value, ok := strings.Cut(t.term, "=")
		m := out[name]
		if !ok || m == nil || len(m) >= facetSizes[name] {
			continue
		}
		m[value] = t.n
	}
	return out
}

func cloneFacets(f map[string]map[string]int) map[string]map[string]int {
	out := make(map[string]map[string]int, len(f))
	for k, v := range f {
		out[k] = maps.Clone(v)
	}
	return out
}

// cloneResult copies everything a caller could modify, so a caller that
// edits its answer does not edit the next caller's.
func cloneResult(r datasets.SearchResult) datasets.SearchResult {
	out := datasets.SearchResult{Total: r.Total, Facets: cloneFacets(r.Facets), Hits: make([]datasets.SearchHit, len(r.Hits))}
	for i, h := range r.Hits {
		if h.Highlights != nil {
			hl := make(map[string][]string, len(h.Highlights))
			for k, v := range h.Highlights {
				hl[k] = slices.Clone(v)
			}
			h.Highlights = hl
		}
		out.Hits[i] = h
	}
	return out
}
