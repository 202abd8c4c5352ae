package search

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"

	"kaifang/datasets"
)

// textWindowQueries have fewer titled entries than a window (none, for an
// agency's name or under a category that keeps none of the titled
// subject) but more matches of the words, in the generated catalogue of
// 2,400 entries: their window is chosen by prior among all the matches.
var textWindowQueries = []datasets.SearchQuery{
	{Text: "杭州市住房公积金管理中心"},
	{Text: "上海市市场监督管理局"},
	{Text: "企業信用", Categories: []datasets.Category{datasets.Categories[8]}},
	{Text: "交通運輸局"},
	{Text: "信用", Categories: []datasets.Category{datasets.Categories[4]}},
}

// The window's query reads each (field, term) once, at the window's
// entries only, and finds the window's entries from what earlier searches
// learnt of the segments (windowScoped, segIDs). Every page — entries,
// order and scores, explanations included — must be the one the plain
// bleve query of the same window gives, on an index of many segments with
// deleted and rewritten entries, before and after a merge.
func TestWindowReaderChangesNoAnswer(t *testing.T) {
	ctx := context.Background()
	b, cat := openCatalogue(t, 2400, 200)
	var qs []datasets.SearchQuery
	for _, q := range append(windowSearches(), textWindowQueries...) {
		for _, explain := range []bool{false, true} {
			q.Explain = explain
			if q.PerPage == 0 {
				q.PerPage = 20
			}
			qs = append(qs, q)
		}
	}
	compare := func(stage string) {
		t.Helper()
		windows := 0
		for _, q := range qs {
			got, want := searchBothWays(t, b, q, &b.plainWindow)
			if len(want.Hits) == 0 {
				t.Fatalf("%s %+v: no hits, the comparison proves nothing", stage, q)
			}
			if q.Explain && want.Hits[0].Explanation["window"] == "prior" {
				windows++
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %+v:\n window reader %v\n plain query   %v", stage, q, hitScores(got), hitScores(want))
			}
		}
		if windows < len(qs)/2 {
			t.Fatalf("%s: only %d of %d explained searches had a window chosen by prior", stage, windows, len(qs)/2)
		}
	}
	compare("many segments")
	// Rewrite and delete entries a window holds: their old documents are
	// deleted in their segments, the new ones in a new segment.
	var rewrite []datasets.Dataset
	var gone []string
	for i := 0; i < len(cat); i += 7 {
		d := cat[i]
		d.Downloads += 500
		rewrite = append(rewrite, d)
		if i%3 == 0 {
			gone = append(gone, cat[i+1].ID)
		}
	}
	if err := b.Upsert(ctx, rewrite...); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, gone...); err != nil {
		t.Fatal(err)
	}
	compare("after rewrites and deletes")
	if err := b.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	compare("after a merge")
}

// segIDs finds the same internal ids, in the same order, as bleve's own
// DocIDReaderOnly, for ids it has seen and ids it has not, ids no segment
// holds, entries rewritten (deleted in one segment, live in another) and
// deleted, across snapshots and after a merge.
func TestSegIDsMatchBleve(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openGenerated(t, dir)
	cat := generatedCatalogue(1200)
	upsertInBatches(t, b, cat)
	defer func() { b.Close() }()
	check := func(stage string, ids []string) {
		t.Helper()
		r, err := b.idx.Advanced()
		if err != nil {
			t.Fatal(err)
		}
		ir, err := r.Reader()
		if err != nil {
			t.Fatal(err)
		}
		defer ir.Close()
		snap, ok := ir.(*scorch.IndexSnapshot)
		if !ok {
			t.Fatalf("reader is %T, not a scorch snapshot", ir)
		}
		if len(snap.Segments()) < 2 {
			t.Fatalf("%s: %d segments, the check proves little", stage, len(snap.Segments()))
		}
		got, err := b.bits.segIDs.internalIDs(snap, ids)
		if err != nil {
			t.Fatal(err)
		}
		dr, err := ir.DocIDReaderOnly(ids)
		if err != nil {
			t.Fatal(err)
		}
		var want []index.IndexInternalID
		for {
			iid, err := dr.Next()
			if err != nil {
				t.Fatal(err)
			}
			if iid == nil {
				break
			}
			want = append(want, slices.Clone(iid))
		}
		dr.Close()
		if len(want) == 0 {
			t.Fatalf("%s: bleve finds none of the ids", stage)
		}
		if !slices.EqualFunc(got, want, func(a, b index.IndexInternalID) bool { return a.Equals(b) }) {
			t.Fatalf("%s: segIDs %v, bleve %v", stage, got, want)
		}
	}
	var ids []string
	for i := 0; i < len(cat); i += 3 {
		ids = append(ids, cat[i].ID)
	}
	ids = append(ids, "no-such-entry")
	check("first", ids)
	check("again", ids)
	var rewrite []datasets.Dataset
	var gone []string
	for i := 0; i < len(cat); i += 5 {
		d := cat[i]
		d.Title += fmt.Sprint(" ", i)
		rewrite = append(rewrite, d)
		gone = append(gone, cat[i+1].ID)
	}
	if err := b.Upsert(ctx, rewrite...); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, gone...); err != nil {
		t.Fatal(err)
	}
	check("after rewrites and deletes", append(ids, gone...))
	if err := b.Upsert(ctx, cat[1:2]...); err != nil { // deleted, then back
		t.Fatal(err)
	}
	check("after re-adding", append(ids, cat[1].ID))
	if err := b.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Upsert(ctx, cat[3:4]...); err != nil { // a second segment again
		t.Fatal(err)
	}
	check("after a merge", ids)
	// Reopening reads every entry's ids (bitmapIndex.rebuild), which
	// seeds the segments: ids they do not know are ones they do not hold.
	if err := b.Upsert(ctx, cat[5:6]...); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openGenerated(t, dir)
	b.bits.segIDs.mu.Lock()
	seeded := len(b.bits.segIDs.complete)
	b.bits.segIDs.mu.Unlock()
	if seeded == 0 {
		t.Fatal("reopening seeded no segment")
	}
	check("reopened", append(ids, gone...))
	if err := b.Upsert(ctx, rewrite[:10]...); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, ids[20:30]...); err != nil {
		t.Fatal(err)
	}
	check("reopened, then rewrites and deletes", append(ids, gone...))
}

// A search with fewer titled entries than its window but more matches
// (an agency's name; a category that keeps none of the titled subject)
// used to rank bleve's best engine scores, ties by index order, and its
// page was not the one ranking every match gives. Its window is now chosen
// by prior among all the matches: pages 1 and 2 equal ranking every match
// with its full score, with windows smaller than the matches.
func TestTextWindowEqualsRankingEveryMatch(t *testing.T) {
	ctx := context.Background()
	b, _ := openCatalogue(t, 2400, 200)
	// Windows well below the matches, as at 100,000 entries.
	b.perClass = 60
	oldDiffers := 0
	for _, q := range textWindowQueries {
		for _, page := range []int{1, 2} {
			q.Page, q.PerPage = page, 20
			nq, _ := normalizeQuery(q)
			p := newPlan(nq.Text, b.syn)
			b.bits.mu.RLock()
			sel := b.bits.selectEntries(p, nq)
			b.bits.mu.RUnlock()
			size := rerankWindow(nq)
			if n := sel.titled.GetCardinality(); n >= uint64(size) {
				t.Fatalf("%+v: %d titled entries, the window is the titled one", q, n)
			}
			if n := sel.text.GetCardinality(); n < uint64(2*size) {
				t.Fatalf("%+v: %d matches, too few for the window to leave any out", q, n)
			}
			got, want := searchBothWays(t, b, q, &b.scoreAll)
			if !slices.Equal(hitIDs(got), hitIDs(want)) {
				t.Errorf("%+v (%d matches):\n window %v\n all    %v", q, sel.text.GetCardinality(), hitIDs(got), hitIDs(want))
			}
			b.noTextWindow = true
			old, err := b.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			b.noTextWindow = false
			if !slices.Equal(hitIDs(old), hitIDs(want)) {
				oldDiffers++
			}
			q.Explain = true
			ex, err := b.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Hits[0].Explanation["window"] != "prior" {
				t.Errorf("%+v: explain window = %v, want prior", q, ex.Hits[0].Explanation["window"])
			}
		}
	}
	if oldDiffers == 0 {
		t.Fatal("bleve's top scores gave every page ranking every match gives: the test proves nothing")
	}
	t.Logf("%d of %d pages differed without the window", oldDiffers, 2*len(textWindowQueries))
}

// Both ways of counting facets (count chooses by how sparse the matches
// are) give the same counts, for sparse and dense matching sets.
func TestCountWaysAgree(t *testing.T) {
	b, _ := openCatalogue(t, 2400, 0)
	for _, q := range append(textWindowQueries, datasets.SearchQuery{Text: "信用"}, datasets.SearchQuery{Text: "公積金", Categories: []datasets.Category{datasets.Categories[0]}}) {
		nq, _ := normalizeQuery(q)
		b.bits.mu.RLock()
		sel := b.bits.selectEntries(newPlan(nq.Text, b.syn), nq)
		perMatch, and := b.bits.countBy(sel.match, true), b.bits.countBy(sel.match, false)
		b.bits.mu.RUnlock()
		if perMatch.total == 0 {
			t.Fatalf("%+v: no matches, the check proves nothing", q)
		}
		if !reflect.DeepEqual(perMatch, and) {
			t.Fatalf("%+v:\n per match %+v\n by AND    %+v", q, perMatch, and)
		}
	}
}

// Searches whose window bleve scores through the window reader run while
// entries are rewritten and deleted (new segments, merges, ordinals
// reused): none fails, and every one gets a full page of distinct entries.
func TestWindowSearchesDuringWrites(t *testing.T) {
	ctx := context.Background()
	b, cat := openCatalogue(t, 2400, 0)
	qs := append(windowSearches(), textWindowQueries...)
	done := make(chan error, 3)
	for w := range 2 {
		go func() {
			for i := range 30 {
				q := qs[(i+w)%len(qs)]
				q.PerPage = 20
				res, err := b.Search(ctx, q)
				if err == nil && len(res.Hits) != 20 {
					err = fmt.Errorf("%+v: %d hits", q, len(res.Hits))
				}
				if err == nil {
					seen := map[string]bool{}
					for _, h := range res.Hits {
						if seen[h.ID] {
							err = fmt.Errorf("%+v: %s twice", q, h.ID)
						}
						seen[h.ID] = true
					}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for i := range 15 {
			d := cat[i*37]
			d.Downloads += 1000
			if err := b.Upsert(ctx, d); err != nil {
				done <- err
				return
			}
			if err := b.Delete(ctx, cat[i*37+1].ID); err != nil {
				done <- err
				return
			}
			if i == 7 {
				if err := b.Compact(ctx); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
