package search

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"kaifang/datasets"
)

// windowQueries have more titled entries than a page's window in the
// generated catalogue of 2,400 entries, so their window is chosen by
// priorWindow.
var windowQueries = []string{"公積金", "企業信用", "社保", "学校", "停車", "空气质量", "招聘"}

func windowSearches() []datasets.SearchQuery {
	var qs []datasets.SearchQuery
	for _, text := range windowQueries {
		for _, page := range []int{1, 2} {
			qs = append(qs,
				datasets.SearchQuery{Text: text, Page: page, PerPage: 20},
				datasets.SearchQuery{Text: text, Page: page, PerPage: 20, OpenClasses: []datasets.OpenClass{datasets.Open}},
			)
		}
	}
	return qs
}

func openGenerated(t *testing.T, dir string) *Bleve {
	t.Helper()
	b, err := OpenBleve(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.SetCacheSize(0)
	b.now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	return b
}

// openCatalogue opens a generated index, closed with the test, holding n
// generated entries indexed batch at a time (batch <= 0: all at once), and
// returns it with the entries.
func openCatalogue(t *testing.T, n, batch int) (*Bleve, []datasets.Dataset) {
	t.Helper()
	b := openGenerated(t, t.TempDir())
	t.Cleanup(func() { _ = b.Close() })
	cat := generatedCatalogue(n)
	if batch <= 0 {
		batch = len(cat)
	}
	for i := 0; i < len(cat); i += batch {
		if err := b.Upsert(context.Background(), cat[i:min(i+batch, len(cat))]...); err != nil {
			t.Fatal(err)
		}
	}
	return b, cat
}

// searchBothWays runs q with *flag false, then true, and returns both
// results: a test-only switch's answer beside the normal one.
func searchBothWays(t *testing.T, b *Bleve, q datasets.SearchQuery, flag *bool) (off, on datasets.SearchResult) {
	t.Helper()
	defer func() { *flag = false }()
	for _, v := range []bool{false, true} {
		*flag = v
		res, err := b.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if v {
			on = res
		} else {
			off = res
		}
	}
	return off, on
}

// upsertInBatches indexes a catalogue 100 entries at a time: one segment
// per batch, which merges then reorder.
func upsertInBatches(t *testing.T, b *Bleve, cat []datasets.Dataset) {
	t.Helper()
	for i := 0; i < len(cat); i += 100 {
		if err := b.Upsert(context.Background(), cat[i:min(i+100, len(cat))]...); err != nil {
			t.Fatal(err)
		}
	}
}

func searchAll(t *testing.T, b *Bleve, qs []datasets.SearchQuery) []datasets.SearchResult {
	t.Helper()
	out := make([]datasets.SearchResult, len(qs))
	for i, q := range qs {
		res, err := b.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != q.PerPage {
			t.Fatalf("%+v: %d hits, want a full page", q, len(res.Hits))
		}
		out[i] = res
	}
	return out
}

// A query with more titled entries than its window used to show rank's
// order of whichever of them bleve's tie order kept, which changed when
// segments merged. The window is now chosen by what rank knows before
// bleve scores, ties by id, so every page — entries, order and scores — is
// the same after a force-merge and after reopening the index.
func TestPriorWindowPageSurvivesMergeAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openGenerated(t, dir)
	// Many small batches: many segments, which the merge reorders.
	cat := generatedCatalogue(2400)
	upsertInBatches(t, b, cat)
	qs := windowSearches()
	for _, q := range qs {
		nq, _ := normalizeQuery(q)
		b.bits.mu.RLock()
		sel := b.bits.selectEntries(newPlan(nq.Text, b.syn), nq)
		b.bits.mu.RUnlock()
		if int(sel.titled.GetCardinality()) < rerankWindow(nq) {
			t.Fatalf("%+v: %d titled entries, too few for the window to be chosen by prior", q, sel.titled.GetCardinality())
		}
	}
	before := searchAll(t, b, qs)
	if err := b.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	merged := searchAll(t, b, qs)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openGenerated(t, dir)
	defer b.Close()
	reopened := searchAll(t, b, qs)
	for i, q := range qs {
		if !reflect.DeepEqual(before[i], merged[i]) {
			t.Errorf("%+v: page changed by the merge:\n before %v\n after  %v", q, hitScores(before[i]), hitScores(merged[i]))
		}
		if !reflect.DeepEqual(before[i], reopened[i]) {
			t.Errorf("%+v: page changed by reopening:\n before %v\n after  %v", q, hitScores(before[i]), hitScores(reopened[i]))
		}
	}
}

func hitIDs(r datasets.SearchResult) []string {
	var ids []string
	for _, h := range r.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// hitScores is hitIDs with each hit's score.
func hitScores(r datasets.SearchResult) []string {
	var ids []string
	for _, h := range r.Hits {
		ids = append(ids, fmt.Sprint(h.ID, " ", h.Score))
	}
	return ids
}

// An entry whose title is the query, and a high-value, much-used, fresh
// entry whose relevance ties with the best of the others, are the first
// two on page 1, however many entries hold the query in their title and
// wherever bleve's tie order puts them; explain says the window was chosen
// by prior.
func TestPriorWindowKeepsExactTitleAndBestPrior(t *testing.T) {
	ctx := context.Background()
	b, cat := openCatalogue(t, 2400, 0)
	q := datasets.SearchQuery{Text: "公積金", PerPage: 20}
	res, err := b.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	top := slices.IndexFunc(cat, func(d datasets.Dataset) bool { return d.ID == res.Hits[0].ID })
	best := cat[top]
	if !best.Category.HighValue() {
		t.Fatalf("%s: the generated subject is not high-value, the test proves less", best.ID)
	}
	best.ID, best.Slug = "zz-best", "zz-best" // last by id: ties would not save it
	best.Downloads, best.UpdatedAt = 10_000_000, b.now()
	exact := cat[top]
	exact.ID, exact.Slug, exact.Title = "zz-exact", "zz-exact", "公積金"
	if err := b.Upsert(ctx, best, exact); err != nil {
		t.Fatal(err)
	}
	q.Explain = true
	res, err = b.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := hitIDs(res)[:2]; !slices.Equal(got, []string{"zz-exact", "zz-best"}) {
		t.Fatalf("page 1 starts with %v, want the exact title, then the best prior", got)
	}
	for _, h := range res.Hits {
		if h.Explanation["window"] != "prior" {
			t.Fatalf("%s: explain window = %v, want prior", h.ID, h.Explanation["window"])
		}
	}
}

// priorWindow keeps every entry it drops behind at least k entries of the
// window that hold the same boost clauses and come first in rank's order
// without the engine score (tier, prior, id); exact titles are always in.
func TestPriorWindowHoldsTopPriorOfEachClass(t *testing.T) {
	b, _ := openCatalogue(t, 2400, 0)
	x := b.bits
	now := b.now()
	const k = 50
	checked := 0
	for _, text := range append(windowQueries, "厦门市交通运输局", "信用", "上海市公交線路查詢") {
		p := newPlan(text, b.syn)
		q, _ := normalizeQuery(datasets.SearchQuery{Text: text})
		sel := x.selectEntries(p, q)
		_, win := x.priorWindow(p, sel.titled, k, now)
		if !win.IsEmpty() && !sel.titled.Contains(win.Minimum()) {
			t.Fatalf("%s: window holds an entry that is not titled", text)
		}
		type entry struct {
			sig   string
			tier  int
			prior float64
			id    string
		}
		var es []entry
		sel.titled.Iterate(func(ord uint32) bool {
			in := x.info[ord]
			var sig strings.Builder
			for ai, terms := range p.terms {
				if bm := x.exact[p.exact[ai]]; bm != nil && bm.Contains(ord) {
					sig.WriteString("e" + p.exact[ai])
				}
				for _, term := range terms {
					for f, m := range []map[string]*roaring.Bitmap{x.title, x.tags, x.agency} {
						if bm := m[term]; bm != nil && bm.Contains(ord) {
							sig.WriteString(string(rune('0'+f)) + term)
						}
					}
				}
			}
			tier, _, _ := titleTier(p, in.title)
			prior, _, _ := priorBoost(in.category.HighValue(), in.popularity, in.updated, now)
			es = append(es, entry{sig.String(), tier, prior, x.ids[ord]})
			if tier == 3 && !win.Contains(ord) {
				t.Fatalf("%s: exact title %s left out of the window", text, x.ids[ord])
			}
			return true
		})
		slices.SortFunc(es, func(a, b entry) int {
			if a.tier != b.tier {
				return b.tier - a.tier
			}
			if c := cmp.Compare(b.prior, a.prior); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		ahead := map[string]int{} // per class, window entries seen so far in that order
		for _, e := range es {
			if win.Contains(x.ords[e.id]) {
				ahead[e.sig]++
				continue
			}
			if ahead[e.sig] < k {
				t.Fatalf("%s: %s left out behind only %d entries of its class", text, e.id, ahead[e.sig])
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no entry left out of any window: the check proves nothing")
	}
}

// selectFirst keeps the same k entries as sorting all of them would, with
// ties in tier and prior (decided by id) and without.
func TestSelectFirstKeepsTheFirstK(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for round := range 200 {
		n := 1 + rng.IntN(400)
		es := make([]preScored, n)
		ids := make([]string, n)
		for i := range es {
			ids[i] = fmt.Sprintf("e%04d", rng.IntN(10000)*n+i)
			es[i] = preScored{tier: rng.IntN(3), prior: float64(rng.IntN(1 + round%20)), ord: uint32(i)}
		}
		before := func(a, b preScored) int { return a.before(b, ids) }
		sorted := slices.Clone(es)
		slices.SortFunc(sorted, before)
		k := 1 + rng.IntN(n)
		selectFirst(es, k, before)
		got := slices.Clone(es[:k])
		slices.SortFunc(got, before)
		if !slices.Equal(got, sorted[:k]) {
			t.Fatalf("n=%d k=%d: kept %v, want %v", n, k, got, sorted[:k])
		}
	}
}
