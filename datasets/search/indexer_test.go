package search_test

import (
	"context"
	"slices"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/search"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
)

type fixture struct {
	store  *sqlstore.Store
	agency datasets.Agency
}

func mustFixture(t *testing.T, url string) fixture {
	t.Helper()
	s := sqltest.MustOpen(t, url)
	a := datasets.Agency{Slug: "xm-transport", Name: "廈門市交通運輸局"}
	if err := s.CreateAgency(context.Background(), &a); err != nil {
		t.Fatalf("CreateAgency: %v", err)
	}
	return fixture{store: s, agency: a}
}

func (f fixture) mustCreate(t *testing.T, slug, title string, class datasets.OpenClass) *datasets.Dataset {
	t.Helper()
	d := &datasets.Dataset{
		Slug: slug, Title: title, Agency: f.agency.Ref(), Category: datasets.Transport,
		OpenClass: class, Frequency: datasets.Daily, Formats: []string{"csv"}, State: datasets.Published,
	}
	if class != datasets.Open {
		d.Reason, d.LegalBasis = "個人信息", "個人信息保護法"
	}
	if class == datasets.Closed {
		d.State = datasets.Draft
	}
	if err := f.store.CreateDataset(context.Background(), d, datasets.Change{Actor: "system", Action: "create"}); err != nil {
		t.Fatalf("CreateDataset %s: %v", slug, err)
	}
	return d
}

func mustOpenBleveAt(t *testing.T, dir string) *search.Bleve {
	t.Helper()
	b, err := search.OpenBleve(dir, nil)
	if err != nil {
		t.Fatalf("OpenBleve: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func hitIDs(t *testing.T, idx datasets.Index, text string) []string {
	t.Helper()
	r, err := idx.Search(context.Background(), datasets.SearchQuery{Text: text})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

func mustLag(t *testing.T, x *search.Indexer) int64 {
	t.Helper()
	n, err := x.Lag(context.Background())
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	return n
}

func TestIndexer(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		f := mustFixture(t, url)
		bus := f.mustCreate(t, "bus-lines", "公交線路", datasets.Open)
		stops := f.mustCreate(t, "bus-stops", "公交站點", datasets.Conditional)
		closed := f.mustCreate(t, "bus-cards", "公交卡記錄", datasets.Closed)
		want := []string{bus.ID, stops.ID}
		slices.Sort(want)

		t.Run("an engine outage after the catalogue commit is repaired by the next sync", func(t *testing.T) {
			dir := t.TempDir()
			down := mustOpenBleveAt(t, dir)
			down.Close() // the engine is gone between commit and index update
			x := search.NewIndexer(f.store, down, nil)
			if _, err := x.Sync(ctx); !datasets.IsCode(err, datasets.EUNAVAILABLE) {
				t.Fatalf("Sync on a closed index: err %v, want EUNAVAILABLE", err)
			}
			if lag := mustLag(t, x); lag != 3 {
				t.Fatalf("lag %d after failed sync, want 3", lag)
			}
			idx := mustOpenBleveAt(t, dir)
			x = search.NewIndexer(f.store, idx, nil)
			n, err := x.Sync(ctx)
			if err != nil || n != 3 {
				t.Fatalf("Sync: applied %d, err %v; want 3, nil", n, err)
			}
			if got := hitIDs(t, idx, "公交"); !slices.Equal(got, want) {
				t.Fatalf("hits %v, want %v (closed %s never)", got, want, closed.ID)
			}
			if lag := mustLag(t, x); lag != 0 {
				t.Fatalf("lag %d after sync, want 0", lag)
			}

			// Withdrawing an entry removes it from the index.
			bus.State = datasets.Withdrawn
			if err := f.store.UpdateDataset(ctx, bus, datasets.Change{Actor: "system", Action: "withdraw"}); err != nil {
				t.Fatal(err)
			}
			if lag := mustLag(t, x); lag != 1 {
				t.Fatalf("lag %d after withdraw, want 1", lag)
			}
			if _, err := x.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := hitIDs(t, idx, "公交"); !slices.Equal(got, []string{stops.ID}) {
				t.Fatalf("hits %v after withdraw, want only %s", got, stops.ID)
			}

			// A crash after the index update but before the cursor moved
			// replays events; applying them again changes nothing.
			if err := f.store.SetCursor(ctx, search.CursorName, 0); err != nil {
				t.Fatal(err)
			}
			if n, err := x.Sync(ctx); err != nil || n != 4 {
				t.Fatalf("replay: applied %d, err %v; want 4", n, err)
			}
			if got := hitIDs(t, idx, "公交"); !slices.Equal(got, []string{stops.ID}) {
				t.Fatalf("hits %v after replay, want only %s", got, stops.ID)
			}
		})

		t.Run("reindex rebuilds from the catalogue and sets the cursor", func(t *testing.T) {
			idx := mustOpenBleveAt(t, t.TempDir())
			x := search.NewIndexer(f.store, idx, nil)
			if err := idx.Upsert(ctx, searchEntry("stale", "公交舊數據")); err != nil {
				t.Fatal(err)
			}
			if err := x.Reindex(ctx); err != nil {
				t.Fatalf("Reindex: %v", err)
			}
			if got := hitIDs(t, idx, "公交"); !slices.Equal(got, []string{stops.ID}) {
				t.Fatalf("hits %v after reindex, want only %s", got, stops.ID)
			}
			if lag := mustLag(t, x); lag != 0 {
				t.Fatalf("lag %d after reindex, want 0", lag)
			}
		})
	})
}

func searchEntry(id, title string) datasets.Dataset {
	return datasets.Dataset{ID: id, Slug: id, Title: title, Category: datasets.Transport,
		OpenClass: datasets.Open, Frequency: datasets.Daily, State: datasets.Published}
}
