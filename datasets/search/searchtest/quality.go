package searchtest

import (
	"context"
	"math"
	"slices"
	"testing"

	"kaifang/datasets"
)

// Thresholds the issue sets for the labelled set.
const (
	MinNDCG   = 0.85
	MinRecall = 0.90
)

// NDCG10 is the normalised discounted cumulative gain of ranked slugs at 10,
// with gain 2^grade-1; the ideal ranking is the judged grades sorted.
func NDCG10(ranked []string, rel map[string]int) float64 {
	dcg := 0.0
	for i, s := range ranked[:min(10, len(ranked))] {
		dcg += (math.Pow(2, float64(rel[s])) - 1) / math.Log2(float64(i)+2)
	}
	grades := make([]int, 0, len(rel))
	for _, g := range rel {
		grades = append(grades, g)
	}
	slices.Sort(grades)
	slices.Reverse(grades)
	idcg := 0.0
	for i, g := range grades[:min(10, len(grades))] {
		idcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i)+2)
	}
	if idcg == 0 {
		return 1
	}
	return dcg / idcg
}

// Recall10 is the share of relevant entries in the top 10, out of as many
// as could fit (a query with 40 relevant entries is perfect with 10).
func Recall10(ranked []string, rel map[string]int) float64 {
	if len(rel) == 0 {
		return 1
	}
	n := 0
	for _, s := range ranked[:min(10, len(ranked))] {
		if rel[s] > 0 {
			n++
		}
	}
	return float64(n) / float64(min(10, len(rel)))
}

// RunQuality indexes the test catalogue and fails when mean nDCG@10 or
// recall@10 over the labelled queries falls below the thresholds.
func RunQuality(t *testing.T, open func(t *testing.T) datasets.Index) {
	ctx := context.Background()
	idx := open(t)
	cat := MustCatalogue(t)
	if err := idx.Upsert(ctx, cat...); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	slugOf := map[string]string{}
	for _, d := range cat {
		slugOf[d.ID] = d.Slug
	}
	js := MustJudgements(t)
	if len(js) < 60 {
		t.Fatalf("only %d labelled queries, want at least 60", len(js))
	}
	var sumN, sumR float64
	for _, j := range js {
		res, err := idx.Search(ctx, datasets.SearchQuery{Text: j.Query, PerPage: 10})
		if err != nil {
			t.Fatalf("Search(%q): %v", j.Query, err)
		}
		ranked := make([]string, 0, len(res.Hits))
		for _, h := range res.Hits {
			ranked = append(ranked, slugOf[h.ID])
		}
		n, r := NDCG10(ranked, j.Relevant), Recall10(ranked, j.Relevant)
		sumN += n
		sumR += r
		if n < 0.6 || r < 0.6 {
			t.Logf("weak query %q: nDCG@10 %.2f recall@10 %.2f top %v", j.Query, n, r, ranked)
		}
	}
	mn, mr := sumN/float64(len(js)), sumR/float64(len(js))
	t.Logf("%d queries over %d entries: mean nDCG@10 %.3f, mean recall@10 %.3f", len(js), len(cat), mn, mr)
	if mn < MinNDCG {
		t.Errorf("mean nDCG@10 = %.3f, want ≥ %.2f", mn, MinNDCG)
	}
	if mr < MinRecall {
		t.Errorf("mean recall@10 = %.3f, want ≥ %.2f", mr, MinRecall)
	}
}
