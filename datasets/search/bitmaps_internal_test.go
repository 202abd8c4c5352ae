package search

import (
	"context"
	"maps"
	"math"
	"reflect"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"kaifang/datasets"
	"kaifang/datasets/search/searchtest"
)

// bleveCounts is what bleve's own facet builder says of q's matching set.
func bleveCounts(t *testing.T, b *Bleve, p plan, q datasets.SearchQuery) *facetCounts {
	t.Helper()
	req := bleve.NewSearchRequestOptions(matchQuery(p, q, false, nil), 0, 0, false)
	req.AddFacet(facetField, bleve.NewFacetRequest(facetField, facetValues))
	res, err := b.idx.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	fc := &facetCounts{total: int(res.Total), terms: map[string]int{}}
	if fr := res.Facets[facetField]; fr != nil && fr.Terms != nil {
		if fr.Other > 0 {
			t.Fatalf("%q: more facet values than bleve reports", q.Text)
		}
		for _, tf := range fr.Terms.Terms() {
			fc.terms[tf.Term] = tf.Count
		}
	}
	return fc
}

// bleveScores is every match of bq with its score.
func bleveScores(t *testing.T, b *Bleve, bq query.Query) map[string]float64 {
	t.Helper()
	req := bleve.NewSearchRequestOptions(bq, 10000, 0, false)
	res, err := b.idx.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, h := range res.Hits {
		out[h.ID] = h.Score
	}
	return out
}

func bitmapQueries(t *testing.T) []datasets.SearchQuery {
	var qs []datasets.SearchQuery
	texts := []string{"", "交通", "社保", "医保", "水", "bus", "厦门市交通运输局", "公交 线路", "no-such-word",
		"shbx", "gjj", "jt", "xm", "SHBX", "zzzz"} // pinyin initials
	for _, j := range searchtest.MustJudgements(t) {
		texts = append(texts, j.Query)
	}
	for _, text := range texts {
		qs = append(qs,
			datasets.SearchQuery{Text: text},
			datasets.SearchQuery{Text: text, Categories: []datasets.Category{datasets.Transport, datasets.Healthcare}},
			datasets.SearchQuery{Text: text, Formats: []string{" CSV "}, OpenClasses: []datasets.OpenClass{datasets.Open}},
			datasets.SearchQuery{Text: text, OpenClasses: []datasets.OpenClass{datasets.Closed}},
		)
	}
	return qs
}

// checkBitmaps compares the bitmaps' matching set and facet counts with
// bleve's for every query, and checks that restricting the window to the
// titled entries leaves their scores as they were.
func checkBitmaps(t *testing.T, step string, b *Bleve) {
	t.Helper()
	if err := b.bits.ensure(context.Background(), b.idx); err != nil {
		t.Fatal(err)
	}
	for _, q := range bitmapQueries(t) {
		p := newPlan(q.Text, b.syn)
		b.bits.mu.RLock()
		sel := b.bits.selectEntries(p, q)
		got := b.bits.count(sel.match)
		b.bits.mu.RUnlock()
		want := bleveCounts(t, b, p, q)
		if got.total != want.total || !maps.Equal(got.terms, want.terms) {
			t.Fatalf("%s, %+v:\n bitmaps %d %v\n bleve   %d %v", step, q, got.total, got.terms, want.total, want.terms)
		}
		// Ranking from the bitmaps' rank fields, then loading the page's
		// stored fields, gives what ranking from stored fields gives
		// (explain loads them for every hit).
		for _, page := range []int{1, 2} {
			sq := q
			sq.Page, sq.PerPage = page, 10
			light, err := b.Search(context.Background(), sq)
			if err != nil {
				t.Fatal(err)
			}
			sq.Explain = true
			full, err := b.Search(context.Background(), sq)
			if err != nil {
				t.Fatal(err)
			}
			for i := range full.Hits {
				full.Hits[i].Explanation = nil
			}
			if !reflect.DeepEqual(light, full) {
				t.Fatalf("%s, %+v:\n light %+v\n full  %+v", step, sq, light, full)
			}
		}
		if sel.titled == nil {
			continue
		}
		// The plain query: filters applied after scoring.
		plainOf := func(m query.Query) query.Query {
			plain := query.NewBooleanQuery([]query.Query{m}, nil, []query.Query{closedQuery()})
			if fs := filters(q); len(fs) > 0 {
				plain.AddFilter(query.NewConjunctionQuery(fs))
			}
			return plain
		}
		all := bleveScores(t, b, plainOf(wordsOrInitials(p, nil)))
		same(t, step+", filters beside the terms", q, bleveScores(t, b, matchQuery(p, q, false, &sel)), all, true)
		words := bleveScores(t, b, plainOf(textQuery(p, nil, nil)))
		same(t, step+", words only", q, bleveScores(t, b, partQuery(p, q, partWords, &sel)), words, true)
		if len(words) != int(sel.text.GetCardinality()) {
			t.Fatalf("%s, %q: bleve finds %d entries by their words, the bitmaps %d", step, q.Text, len(words), sel.text.GetCardinality())
		}
		titled := bleveScores(t, b, matchQuery(p, q, true, &sel))
		if len(titled) != int(sel.titled.GetCardinality()) {
			t.Fatalf("%s, %q: bleve finds %d titled entries, the bitmaps %d", step, q.Text, len(titled), sel.titled.GetCardinality())
		}
		same(t, step+", restricted to titled entries", q, titled, words, false)
		if p.initials == "" {
			continue
		}
		initials := bleveScores(t, b, partQuery(p, q, partInitials, &sel))
		if n := int(sel.initials.GetCardinality()); len(initials) != n {
			t.Fatalf("%s, %+v: bleve finds %d entries by their initials alone, the bitmaps %d", step, q, len(initials), n)
		}
		for id := range initials {
			if _, ok := words[id]; ok {
				t.Fatalf("%s, %+v: %s matched by its words and by its initials alone", step, q, id)
			}
		}
	}
}

// same checks every entry of got has the score it has in want (and, with
// all, that both hold the same entries).
func same(t *testing.T, step string, q datasets.SearchQuery, got, want map[string]float64, all bool) {
	t.Helper()
	if all && len(got) != len(want) {
		t.Fatalf("%s, %+v: %d entries, want %d", step, q, len(got), len(want))
	}
	for id, s := range got {
		w, ok := want[id]
		// Equal up to rounding: an added clause changes the order of
		// some additions.
		if !ok || math.Abs(w-s) > 1e-12*math.Abs(s) {
			t.Fatalf("%s, %+v: %s scores %v, want %v", step, q, id, s, w)
		}
	}
}

func TestBitmapsMatchBleve(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := OpenBleve(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { b.Close() }()
	cat := searchtest.MustCatalogue(t)
	if err := b.Upsert(ctx, cat...); err != nil {
		t.Fatal(err)
	}
	checkBitmaps(t, "catalogue", b)

	recat := cat[0]
	recat.Category, recat.Tags, recat.Formats = datasets.Healthcare, []string{"新標籤"}, []string{"xlsx"}
	closed := cat[1]
	closed.OpenClass = datasets.Closed
	added := searchtest.Entry("new-1", "交通醫療新數據", "公交", datasets.Transport)
	added.Tags = []string{"全新"}
	twice := cat[3]
	twice.Title = "改名以後的交通數據"
	for _, w := range []struct {
		name string
		do   func() error
	}{
		{"category, tags and formats changed", func() error { return b.Upsert(ctx, recat) }},
		{"entry closed", func() error { return b.Upsert(ctx, closed) }},
		{"entry added", func() error { return b.Upsert(ctx, added) }},
		{"entries deleted", func() error { return b.Delete(ctx, cat[2].ID, "no-such-id", cat[4].ID) }},
		{"one entry twice in a batch", func() error { return b.Upsert(ctx, cat[3], twice) }},
		{"deleted entry back", func() error { return b.Upsert(ctx, cat[2]) }},
	} {
		if err := w.do(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		checkBitmaps(t, w.name, b)
	}

	b.bits.markStale()
	checkBitmaps(t, "rebuilt after a failed write", b)

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err = OpenBleve(dir, nil); err != nil {
		t.Fatal(err)
	}
	checkBitmaps(t, "reopened", b)

	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	checkBitmaps(t, "reset", b)
}
