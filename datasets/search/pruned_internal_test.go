package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"kaifang/datasets"
)

// generatedCatalogue is n entries built like the benchmark's: a few
// subjects repeated over cities and suffixes, so a subject's query holds
// more titled entries than a window and bleve scores only those.
func generatedCatalogue(n int) []datasets.Dataset {
	cities := []string{"廈門市", "福州市", "上海市", "杭州市"}
	subjects := []string{"住房公積金繳存", "企業信用信息", "社會保險參保", "中小學學校", "停車場泊位", "公交線路", "空氣質量監測", "就業崗位招聘", "幼兒園名錄", "信用承諾"}
	suffixes := []string{"信息", "名錄", "月報", "實時數據", "查詢接口", "統計"}
	agencies := []string{"住房公積金管理中心", "市場監督管理局", "人力資源和社會保障局", "教育局", "交通運輸局", "生態環境局"}
	rng := rand.New(rand.NewPCG(7, 11))
	ds := make([]datasets.Dataset, n)
	for i := range ds {
		city := cities[rng.IntN(len(cities))]
		sub := rng.IntN(len(subjects))
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(700*24)) * time.Hour)
		ds[i] = datasets.Dataset{
			ID: fmt.Sprintf("gen-%05d", i), Slug: fmt.Sprintf("gen-%05d", i),
			Title:       city + subjects[sub] + suffixes[rng.IntN(len(suffixes))],
			Description: "本數據由" + city + agencies[sub%len(agencies)] + "提供，包含" + subjects[(sub+3)%len(subjects)] + "、統一社會信用代碼等字段。",
			Agency:      datasets.AgencyRef{ID: fmt.Sprintf("ag-%d", sub%len(agencies)), Name: city + agencies[sub%len(agencies)]},
			Category:    datasets.Categories[sub%len(datasets.Categories)], OpenClass: datasets.Open,
			Frequency: datasets.Frequencies[rng.IntN(len(datasets.Frequencies))],
			Formats:   []string{"csv", "json"}[:1+rng.IntN(2)], Tags: []string{subjects[sub][:6]},
			State: datasets.Published, Downloads: int64(rng.IntN(10000)), UpdatedAt: at, CreatedAt: at,
		}
		if rng.IntN(4) == 0 {
			ds[i].OpenClass = datasets.Conditional
		}
	}
	return ds
}

// What the bitmaps change in the query bleve runs — boost clauses no scored
// entry holds never walk their postings (deadLeaves), each alternative
// walks only the titled entries it can match (altTitled) — must not change
// any answer: every page, with its scores, equals the one from the query
// built without them, on a catalogue large enough that the window is drawn
// from the titled entries, with and without filters, pages 1 and 2.
func TestPrunedQueriesChangeNoAnswer(t *testing.T) {
	ctx := context.Background()
	b, err := OpenBleve(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.SetCacheSize(0)
	b.now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	if err := b.Upsert(ctx, generatedCatalogue(2400)...); err != nil {
		t.Fatal(err)
	}
	titledWindows, withDead, narrowed := 0, 0, 0
	for _, text := range []string{"公積金", "企業信用", "社保", "学校", "停車", "交通", "空气质量", "招聘", "厦门市交通运输局", "信用", "杭州市住房公积金管理中心", "上海市公交線路查詢"} {
		for _, q := range []datasets.SearchQuery{
			{Text: text},
			{Text: text, Categories: []datasets.Category{datasets.Categories[0], datasets.Categories[1], datasets.Categories[3], datasets.Categories[5]}},
			{Text: text, OpenClasses: []datasets.OpenClass{datasets.Open}, Formats: []string{"json"}},
			{Text: text, Explain: true},
		} {
			nq, _ := normalizeQuery(q)
			p := newPlan(nq.Text, b.syn)
			b.bits.mu.RLock()
			sel := b.bits.selectEntries(p, nq)
			b.bits.mu.RUnlock()
			if sel.titled != nil && sel.titled.GetCardinality() >= uint64(rerankWindow(nq)) {
				titledWindows++
			}
			if len(sel.deadTitled) > 0 {
				withDead++
			}
			for _, part := range sel.altTitled {
				if part != nil && len(part.titleTerms)+len(part.exact) < len(sel.titleTerms)+len(sel.exact) {
					narrowed++
					break
				}
			}
			for _, page := range []int{1, 2} {
				q.Page, q.PerPage = page, 20
				got, want := searchBothWays(t, b, q, &b.unpruned)
				if len(want.Hits) == 0 && len(q.Categories) == 0 {
					t.Fatalf("%+v: no hits, the comparison proves nothing", q)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%+v:\n skipping dead clauses %+v\n walking every clause %+v", q, got.Hits, want.Hits)
				}
			}
		}
	}
	// The comparison is worth something only if the catalogue drew windows
	// from titled entries, and those queries had clauses to skip and
	// alternatives to narrow.
	if titledWindows < 10 || withDead < 10 || narrowed < 3 {
		t.Fatalf("only %d titled windows, %d queries with dead clauses, %d with a narrowed alternative", titledWindows, withDead, narrowed)
	}
	t.Logf("%d titled windows, %d queries with dead clauses, %d with a narrowed alternative", titledWindows, withDead, narrowed)
}
