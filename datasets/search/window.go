package search

import (
	"cmp"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"kaifang/datasets/search/fold"
)

// priorWindowPerClass is how many entries of each engine class
// (priorWindow) are scored when a search has more titled entries than its
// re-ranking window: three times the window of a first page, so entries
// whose engine score is a little above their class's still get in, while
// bleve scores a few hundred entries instead of thousands. On the
// benchmark's 100,000 generated entries, page 1 of every query with such a
// window is then the page ranking all titled entries gives; with 200,
// 企業信用 loses one of its 20, with 100 twelve.
const priorWindowPerClass = 300

// maxPriorClasses bounds how finely priorWindow splits the titled entries;
// past it the classes are left coarser, which only makes the window less
// exact, never larger than the titled set.
const maxPriorClasses = 64

// priorWindow chooses, in memory, which of the titled entries bleve scores
// when there are more of them than the re-ranking window (size) holds.
//
// Why: bleve would score every titled entry (3,300 for 公積金 at 100,000
// entries, 6,600 for 学校) only to keep the top size by engine score, and
// those entries share a handful of engine scores, so which ones survived
// was decided by bleve's tie order, i.e. by the segment layout, and changed
// when segments merged. The page was rank's order of an arbitrary size.
//
// How: the titled entries are split into classes by which of the query's
// boost clauses they hold (a term of the title, tags or agency name, or an
// alternative as the whole title): what lifts one entry's engine score above
// another's. Within a class the engine scores are close, so rank's order is
// its tier, then its non-relevance boosts (prior: high value × (1 +
// popularity + freshness)), then the id. Of every class the first k in that
// order are kept (k ≥ size, so the window can always fill the pages asked
// for); where the engine scores of a class are equal this holds rank's top
// size exactly, and the rest of k is slack for the entries of a class that
// score a little higher than its others (a shorter title or description).
// Ties are broken by id, not by ordinal or index order, so the window, and
// with it the page, is the same after segments merge or the index reopens.
//
// It returns the ids of the window and the window's ordinals.
func (x *bitmapIndex) priorWindow(p plan, titled *roaring.Bitmap, k int, now time.Time) ([]string, *roaring.Bitmap) {
	win := roaring.New()
	var ids []string
	buf := preScoredPool.Get().(*[]preScored)
	defer preScoredPool.Put(buf)
	es := *buf
	defer func() { *buf = es[:0] }()
	classes := x.boostClasses(p, titled)
	// Classes left coarse may mix entries of different title terms.
	fine := len(classes) < maxPriorClasses
	for _, c := range classes {
		if int(c.GetCardinality()) <= k {
			win.Or(c)
			continue
		}
		// Entries of a class hold the same title terms, so they share the
		// tier those terms give; rank's tier can only be higher where a
		// title holds a term across words an agency wrote apart, which
		// matters only below the top tier of a non-exact title (2).
		tier, sure := x.tokenTier(p, c.Minimum())
		// Only titles holding every Han character of an alternative can
		// hold its terms; the others' titleTier is known without reading
		// the title: 0, or in a class whose titles hold a rewrite's
		// words (tier 1), 1 unless they hold the characters of the words
		// typed (2).
		var maybe *roaring.Bitmap
		outside := 0
		switch {
		case sure:
		case tier == 1 && fine:
			maybe, outside = x.maybeTitled(p.terms[:1], c), 1
		default:
			maybe = x.maybeTitled(p.terms, c)
		}
		es = es[:0]
		c.Iterate(func(ord uint32) bool {
			pi := &x.prior[ord]
			t := tier
			switch {
			case sure:
			case maybe.Contains(ord):
				t, _, _ = titleTier(p, x.info[ord].title)
			default:
				t = outside
			}
			var upd time.Time
			if pi.updated != noUpdate {
				upd = time.Unix(pi.updated, 0)
			}
			prior, _, _ := priorOf(pi.hv, pi.pop, upd, now)
			es = append(es, preScored{t, prior, ord})
			return true
		})
		selectFirst(es, k, func(a, b preScored) int { return a.before(b, x.ids) })
		for _, e := range es[:k] {
			win.Add(e.ord)
		}
	}
	ids = make([]string, 0, win.GetCardinality())
	win.Iterate(func(ord uint32) bool {
		ids = append(ids, x.ids[ord])
		return true
	})
	return ids, win
}

// tokenTier is the tier titleTier gives entry ord by the terms its title
// holds as words (the title bitmaps) rather than as substrings of the
// compact title: the same or lower. sure says it cannot be lower (3, or 2
// for a title that is no alternative).
func (x *bitmapIndex) tokenTier(p plan, ord uint32) (tier int, sure bool) {
	for ai, terms := range p.terms {
		if bm := x.exact[p.exact[ai]]; bm != nil && bm.Contains(ord) {
			return 3, true
		}
		all := true
		for _, t := range terms {
			if bm := x.title[t]; bm == nil || !bm.Contains(ord) {
				all = false
				break
			}
		}
		if all {
			if ai == 0 {
				tier = 2
			} else {
				tier = max(tier, 1)
			}
		}
	}
	return tier, tier == 2
}

// maybeTitled is the entries of set whose title may hold every term of
// one of alts (the terms of alternatives) as a substring of its compact
// title, as titleTier asks: those holding every Han character of that
// alternative's terms (the title field indexes each one). priorWindow
// reads the titles of these only (at 100,000 entries, 企業信用 under a
// category none of its titled entries has: 3,100 titles, of which none;
// 学校: none of the 3,300 titles holding the rewrite 幼儿园).
func (x *bitmapIndex) maybeTitled(alts [][]string, set *roaring.Bitmap) *roaring.Bitmap {
	maybe := roaring.New()
	for _, terms := range alts {
		m := set
		for _, t := range terms {
			for _, r := range t {
				if !fold.IsHan(r) {
					continue // a word: any title may hold it inside a longer one
				}
				bm := x.title[string(r)]
				if bm == nil {
					m = roaring.New()
					break
				}
				m = roaring.And(m, bm)
			}
		}
		maybe.Or(m)
	}
	return maybe
}

// boostClasses splits set by the boost clauses of p's textQuery each entry
// holds: entries of one class hold the same ones. A clause every entry of a
// class holds, or none does, leaves it whole.
func (x *bitmapIndex) boostClasses(p plan, set *roaring.Bitmap) []*roaring.Bitmap {
	classes := []*roaring.Bitmap{set}
	seen := map[*roaring.Bitmap]bool{}
	split := func(bm *roaring.Bitmap) {
		// A bitmap met again (a term several alternatives share) would
		// split nothing more.
		if bm == nil || seen[bm] {
			return
		}
		seen[bm] = true
		for i, n := 0, len(classes); i < n && len(classes) < maxPriorClasses; i++ {
			c := classes[i]
			if n := c.AndCardinality(bm); n == 0 || n == c.GetCardinality() {
				continue
			}
			classes[i] = roaring.And(c, bm)
			classes = append(classes, roaring.AndNot(c, bm))
		}
	}
	for ai, terms := range p.terms {
		split(x.exact[p.exact[ai]])
		for _, t := range terms {
			split(x.title[t])
			split(x.tags[t])
			split(x.agency[t])
		}
	}
	return classes
}

// titleTier is rank's tier of an entry with compact title ft: 3 the title
// is the query (or a rewrite of it); 2 the title holds every term the
// citizen typed; 1 it holds every term of a synonym rewrite; 0 otherwise.
// coverage is the largest share of an alternative's terms the title holds,
// matchedAlt that alternative.
func titleTier(p plan, ft string) (tier int, coverage float64, matchedAlt string) {
	for ai, a := range p.alts {
		if ft == p.exact[ai] {
			return 3, 1, a
		}
		ts := p.terms[ai]
		n := 0
		for _, t := range ts {
			if strings.Contains(ft, t) {
				n++
			}
		}
		cov := float64(n) / float64(len(ts))
		if cov > coverage {
			coverage, matchedAlt = cov, a
		}
		if cov == 1 {
			t := 1
			if ai == 0 {
				t = 2
			}
			tier = max(tier, t)
		}
	}
	return tier, coverage, matchedAlt
}

// preScoredPool holds the buffers priorWindow orders a class in (thousands
// of entries a search, otherwise garbage at once).
var preScoredPool = sync.Pool{New: func() any { return new([]preScored) }}

// preScored is an entry as priorWindow orders it: rank's order without the
// engine score.
type preScored struct {
	tier  int
	prior float64
	ord   uint32
}

// before orders a and b; ids (ordinal → id) breaks ties, read only then.
func (a preScored) before(b preScored, ids []string) int {
	if a.tier != b.tier {
		return b.tier - a.tier
	}
	if c := cmp.Compare(b.prior, a.prior); c != 0 {
		return c
	}
	return strings.Compare(ids[a.ord], ids[b.ord])
}

// selectFirst moves the first k of es in preScored order to es[:k], in no
// particular order (quickselect: priorWindow needs which, not how; sorting
// 6,600 entries to keep 300 costs several times more). Ids are distinct,
// so the order is total and the first k are one set.
func selectFirst(es []preScored, k int, cmp func(a, b preScored) int) {
	lo, hi := 0, len(es)-1
	for lo < hi {
		// Median of three as pivot, moved to hi.
		mid := lo + (hi-lo)/2
		if cmp(es[mid], es[lo]) < 0 {
			es[mid], es[lo] = es[lo], es[mid]
		}
		if cmp(es[hi], es[lo]) < 0 {
			es[hi], es[lo] = es[lo], es[hi]
		}
		if cmp(es[mid], es[hi]) < 0 {
			es[mid], es[hi] = es[hi], es[mid]
		}
		pivot := es[hi]
		i := lo
		for j := lo; j < hi; j++ {
			if cmp(es[j], pivot) < 0 {
				es[i], es[j] = es[j], es[i]
				i++
			}
		}
		es[i], es[hi] = es[hi], es[i]
		switch {
		case i == k-1 || i == k:
			return
		case i < k:
			lo = i + 1
		default:
			hi = i - 1
		}
	}
}
