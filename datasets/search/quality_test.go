package search_test

import (
	"math"
	"os"
	"reflect"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/search"
	"kaifang/datasets/search/searchtest"
)

// MustBleve opens an on-disk bleve index in a temporary directory.
func MustBleve(t *testing.T) datasets.Index {
	t.Helper()
	idx, err := search.OpenBleve(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("OpenBleve: %v", err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func TestQualityBleve(t *testing.T) { searchtest.RunQuality(t, MustBleve) }

func TestContractBleve(t *testing.T) { searchtest.Run(t, MustBleve) }

// The embedded judgements.json must be what grades.tsv and queries.tsv say:
// someone who edits a grade and forgets to run the generator is told here.
func TestQualityJudgementsMatchGrades(t *testing.T) {
	q, err := os.Open("searchtest/testdata/queries.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	g, err := os.Open("searchtest/testdata/grades.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	want, err := searchtest.ParseGrades(q, g)
	if err != nil {
		t.Fatal(err)
	}
	got := searchtest.MustJudgements(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("judgements.json differs from grades.tsv/queries.tsv: run tools/grades_to_judgements.py in searchtest/testdata")
	}
	classes := searchtest.QueryClasses(t)
	for _, j := range got {
		if len(classes[j.Query]) == 0 || classes[j.Query][0] == "" {
			t.Errorf("query %q has no class", j.Query)
		}
	}
}

func TestQualityMetrics(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	rel := map[string]int{"a": 3, "b": 2, "c": 1}
	if got := searchtest.NDCG10([]string{"a", "b", "c"}, rel); !near(got, 1) {
		t.Errorf("ideal order: nDCG@10 = %v, want 1", got)
	}
	// Gains 2^g-1: a wrong order costs more when a grade-3 entry drops.
	swapped := searchtest.NDCG10([]string{"b", "a", "c"}, rel)
	want := (3 + 7/math.Log2(3) + 1/2.0) / (7 + 3/math.Log2(3) + 1/2.0)
	if !near(swapped, want) {
		t.Errorf("swapped: nDCG@10 = %v, want %v", swapped, want)
	}
	if got := searchtest.NDCG10([]string{"x", "y"}, rel); got != 0 {
		t.Errorf("nothing relevant found: nDCG@10 = %v, want 0", got)
	}

	// Recall counts grade 2 and 3 entries only.
	if got := searchtest.Recall10([]string{"a", "c"}, rel); !near(got, 0.5) {
		t.Errorf("one of two targets: recall@10 = %v, want 0.5", got)
	}
	if got := searchtest.Recall10([]string{"c", "x", "b", "a"}, rel); !near(got, 1) {
		t.Errorf("both targets: recall@10 = %v, want 1", got)
	}
	// With more targets than places, 10 targets in the top 10 is perfect.
	many := map[string]int{}
	var top []string
	for i := range 25 {
		s := string(rune('A' + i))
		many[s] = 2
		if i < 10 {
			top = append(top, s)
		}
	}
	if got := searchtest.Recall10(top, many); !near(got, 1) {
		t.Errorf("10 of 25 targets in 10 places: recall@10 = %v, want 1", got)
	}
	top[9] = "not-a-target"
	if got := searchtest.Recall10(top, many); !near(got, 0.9) {
		t.Errorf("9 of 25 targets in 10 places: recall@10 = %v, want 0.9", got)
	}
}
