package search

import (
	"context"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore/sqltest"
)

// An index built by an earlier version reports itself stale, and the
// indexer's next Sync rebuilds it from the catalogue; a current index
// reopens as it is.
func TestStaleIndexIsRebuiltBySync(t *testing.T) {
	ctx := context.Background()
	st := sqltest.MustOpen(t, sqltest.SQLiteURL(t))
	a := &datasets.Agency{Slug: "xm-hrss", Name: "廈門市人力資源和社會保障局"}
	if err := st.CreateAgency(ctx, a); err != nil {
		t.Fatal(err)
	}
	d := &datasets.Dataset{Slug: "insured", Title: "社會保險參保人數", Agency: a.Ref(), Category: datasets.SocialSecurity,
		OpenClass: datasets.Open, Frequency: datasets.Monthly, Formats: []string{"csv"}, State: datasets.Published}
	if err := st.CreateDataset(ctx, d, datasets.Change{Actor: "test", Action: "create"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/index"
	open := func() *Bleve {
		t.Helper()
		b, err := OpenBleve(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	found := func(b *Bleve, q string) bool {
		t.Helper()
		r, err := b.Search(ctx, datasets.SearchQuery{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Hits) > 0 && r.Hits[0].ID == d.ID
	}
	b := open()
	if b.Stale() {
		t.Fatal("a new index reports itself stale")
	}
	if _, err := NewIndexer(st, b, nil).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !found(b, "shbx") {
		t.Fatal("the entry is not found by its initials")
	}
	b.Close()
	if b = open(); b.Stale() {
		t.Fatal("a current index reopens stale")
	}
	// What an earlier version left: the same documents under an older schema.
	if err := b.idx.SetInternal(schemaKey, []byte("kaifang-bleve-2")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b = open()
	defer b.Close()
	if !b.Stale() {
		t.Fatal("an index of an earlier schema is not reported stale")
	}
	if _, err := NewIndexer(st, b, nil).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Stale() || !found(b, "社保") || !found(b, "shbx") {
		t.Fatalf("after Sync: stale %v, entry found %v", b.Stale(), found(b, "shbx"))
	}
}
