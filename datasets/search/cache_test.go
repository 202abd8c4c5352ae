package search_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/search"
	"kaifang/datasets/search/searchtest"
)

// MustOpenBleve opens a bleve index in a temporary directory, closed by the
// test's cleanup. (On disk: with the race detector the in-memory index is
// several times slower to fill.)
func MustOpenBleve(t *testing.T) *search.Bleve {
	t.Helper()
	b, err := search.OpenBleve(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("OpenBleve: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// The bleve index remembers answers until the next write; these cases check
// a citizen never sees a remembered answer the catalogue has moved past.
func TestBleveRememberedAnswers(t *testing.T) {
	ctx := context.Background()
	q := datasets.SearchQuery{Text: "交通"}

	t.Run("a new entry shows up in the next search and its facets", func(t *testing.T) {
		b := MustOpenBleve(t)
		searchtest.MustUpsert(t, b, searchtest.Entry("a", "交通事故統計", "", datasets.Transport))
		if r := searchtest.MustSearch(t, b, q); r.Total != 1 || r.Facets[search.FacetCategory]["transport"] != 1 {
			t.Fatalf("before: total %d facets %v, want 1 transport", r.Total, r.Facets[search.FacetCategory])
		}
		searchtest.MustUpsert(t, b, searchtest.Entry("b", "交通流量", "", datasets.Transport))
		r := searchtest.MustSearch(t, b, q)
		if r.Total != 2 || len(r.Hits) != 2 || r.Facets[search.FacetCategory]["transport"] != 2 {
			t.Fatalf("after upsert: total %d hits %d facets %v, want 2", r.Total, len(r.Hits), r.Facets[search.FacetCategory])
		}
	})

	t.Run("an entry made closed disappears from hits and counts", func(t *testing.T) {
		b := MustOpenBleve(t)
		a, c := searchtest.Entry("a", "交通事故統計", "", datasets.Transport), searchtest.Entry("c", "公共交通線路", "", datasets.Transport)
		searchtest.MustUpsert(t, b, a, c)
		searchtest.MustSearch(t, b, q)
		c.OpenClass = datasets.Closed
		searchtest.MustUpsert(t, b, c)
		r := searchtest.MustSearch(t, b, q)
		if r.Total != 1 || len(r.Hits) != 1 || r.Hits[0].ID != "a" {
			t.Fatalf("after closing c: total %d hits %v, want only a", r.Total, r.Hits)
		}
		if n := r.Facets[search.FacetOpenClass][string(datasets.Closed)]; n != 0 {
			t.Fatalf("closed counted %d times", n)
		}
		if n := r.Facets[search.FacetOpenClass][string(datasets.Open)]; n != 1 {
			t.Fatalf("open count %d, want 1", n)
		}
	})

	t.Run("a deleted entry is gone from search and suggest", func(t *testing.T) {
		b := MustOpenBleve(t)
		searchtest.MustUpsert(t, b, searchtest.Entry("a", "交通事故統計", "", datasets.Transport))
		searchtest.MustSearch(t, b, q)
		if s, err := b.Suggest(ctx, "交通", 5); err != nil || len(s) != 1 {
			t.Fatalf("suggest before delete: %v %v", s, err)
		}
		if err := b.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if r := searchtest.MustSearch(t, b, q); r.Total != 0 || len(r.Hits) != 0 {
			t.Fatalf("after delete: total %d hits %v", r.Total, r.Hits)
		}
		if s, err := b.Suggest(ctx, "交通", 5); err != nil || len(s) != 0 {
			t.Fatalf("suggest after delete: %v %v", s, err)
		}
	})

	t.Run("reset forgets every answer", func(t *testing.T) {
		b := MustOpenBleve(t)
		searchtest.MustUpsert(t, b, searchtest.Entry("a", "交通事故統計", "", datasets.Transport))
		searchtest.MustSearch(t, b, q)
		if err := b.Reset(ctx); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		if r := searchtest.MustSearch(t, b, q); r.Total != 0 {
			t.Fatalf("after reset: total %d", r.Total)
		}
	})

	t.Run("editing an answer does not edit the next one", func(t *testing.T) {
		b := MustOpenBleve(t)
		searchtest.MustUpsert(t, b, searchtest.Entry("a", "交通事故統計", "交通", datasets.Transport))
		r := searchtest.MustSearch(t, b, q)
		want := searchtest.MustSearch(t, b, q)
		r.Facets[search.FacetCategory]["transport"] = 99
		r.Hits[0].Highlights["title"][0] = "tampered"
		r.Hits[0].ID = "x"
		if got := searchtest.MustSearch(t, b, q); !reflect.DeepEqual(got, want) {
			t.Fatalf("answer changed by an earlier caller:\n got %+v\nwant %+v", got, want)
		}
	})

	t.Run("every page and order agrees with an index that remembers nothing", func(t *testing.T) {
		b := MustOpenBleve(t)
		searchtest.MustUpsert(t, b, searchtest.MustCatalogue(t)...)
		var qs []datasets.SearchQuery
		for _, text := range []string{"", "交通", "醫療", "公交"} {
			for _, sort := range []string{"relevance", "updated", "popular"} {
				for page := 1; page <= 2; page++ {
					qs = append(qs, datasets.SearchQuery{Text: text, Sort: sort, Page: page, PerPage: 3})
				}
			}
		}
		b.SetCacheSize(0)
		want := make([]datasets.SearchResult, len(qs))
		for i, sq := range qs {
			want[i] = searchtest.MustSearch(t, b, sq)
		}
		b.SetCacheSize(100)
		for round := range 2 { // the second round is answered from memory
			for i, sq := range qs {
				if got := searchtest.MustSearch(t, b, sq); !reflect.DeepEqual(got, want[i]) {
					t.Fatalf("round %d %+v:\n got %+v\nwant %+v", round, sq, got, want[i])
				}
			}
		}
	})

	t.Run("answers after writes equal a fresh count", func(t *testing.T) {
		b := MustOpenBleve(t)
		cat := searchtest.MustCatalogue(t)
		searchtest.MustUpsert(t, b, cat...)
		byID := map[string]datasets.Dataset{}
		for _, d := range cat {
			byID[d.ID] = d
		}
		var qs []datasets.SearchQuery
		for _, text := range []string{"", "交通", "公交"} {
			qs = append(qs, datasets.SearchQuery{Text: text, PerPage: 5}, datasets.SearchQuery{Text: text, Page: 2, PerPage: 5},
				datasets.SearchQuery{Text: text, Categories: []datasets.Category{datasets.Transport}, PerPage: 5})
		}
		hits := searchtest.MustSearch(t, b, datasets.SearchQuery{Text: "交通", PerPage: 4}).Hits
		if len(hits) < 4 {
			t.Fatalf("fixture catalogue has %d entries about 交通, want ≥ 4", len(hits))
		}
		recategorised := byID[hits[0].ID]
		recategorised.Category, recategorised.Tags = datasets.Healthcare, []string{"新標籤"}
		closed := byID[hits[1].ID]
		closed.OpenClass = datasets.Closed
		added := searchtest.Entry("new-1", "交通醫療新數據", "公交", datasets.Transport)
		added.Tags = []string{"全新"}
		writes := []struct {
			name string
			do   func() error
		}{
			{"category and tags changed", func() error { return b.Upsert(ctx, recategorised) }},
			{"entry closed", func() error { return b.Upsert(ctx, closed) }},
			{"entry added", func() error { return b.Upsert(ctx, added) }},
			{"entry deleted", func() error { return b.Delete(ctx, hits[2].ID, "no-such-id") }},
			{"two entries at once", func() error { return b.Upsert(ctx, byID[hits[0].ID], byID[hits[3].ID]) }},
		}
		for _, w := range writes {
			b.SetCacheSize(100)
			for _, sq := range qs {
				searchtest.MustSearch(t, b, sq) // remember answers before the write
			}
			if err := w.do(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			carried := make([]datasets.SearchResult, len(qs))
			for i, sq := range qs {
				carried[i] = searchtest.MustSearch(t, b, sq)
			}
			b.SetCacheSize(0)
			for i, sq := range qs {
				if fresh := searchtest.MustSearch(t, b, sq); !reflect.DeepEqual(carried[i], fresh) {
					t.Fatalf("after %s, %+v:\n carried %+v\n fresh   %+v", w.name, sq, carried[i], fresh)
				}
			}
		}
	})

	t.Run("searches during writes never leave a stale answer behind", func(t *testing.T) {
		b := MustOpenBleve(t)
		qs := []datasets.SearchQuery{{Text: "交通"}, {Text: "交通", Page: 2, PerPage: 1}, {}}
		done := make(chan struct{})
		errs := make(chan error, 1)
		go func() {
			defer close(errs)
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, sq := range qs {
					if _, err := b.Search(ctx, sq); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		for i := range 20 {
			e := searchtest.Entry(fmt.Sprintf("e%02d", i), "交通數據"+strconv.Itoa(i), "", datasets.Transport)
			e.Tags = []string{"t" + strconv.Itoa(i%3)}
			searchtest.MustUpsert(t, b, e)
		}
		close(done)
		if err := <-errs; err != nil {
			t.Fatalf("Search during writes: %v", err)
		}
		remembered := make([]datasets.SearchResult, len(qs))
		for i, sq := range qs {
			remembered[i] = searchtest.MustSearch(t, b, sq)
		}
		b.SetCacheSize(0)
		for i, sq := range qs {
			if fresh := searchtest.MustSearch(t, b, sq); !reflect.DeepEqual(remembered[i], fresh) {
				t.Fatalf("%+v after writes:\n remembered %+v\n fresh      %+v", sq, remembered[i], fresh)
			}
		}
		if remembered[0].Total != 20 || remembered[0].Facets[search.FacetTags]["t0"] != 7 {
			t.Fatalf("total %d tags %v, want 20 entries, 7 tagged t0", remembered[0].Total, remembered[0].Facets[search.FacetTags])
		}
	})
}
