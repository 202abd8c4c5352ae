package searchtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kaifang/datasets"
)

// Thresholds the issue sets for the labelled set: the suite fails when the
// mean over all queries falls below either.
const (
	MinNDCG   = 0.85
	MinRecall = 0.90
)

// Relevance grades, as an assessor gives them in testdata/grades.tsv.
const (
	GradeNone     = 0 // not relevant (judged, or never judged)
	GradeMarginal = 1 // marginally related
	GradeRelevant = 2 // clearly relevant
	GradeExact    = 3 // exactly what the searcher wants
)

// NDCG10 is the normalised discounted cumulative gain of the ranked slugs at
// rank 10. The gain of an entry of grade g is 2^g-1 (0, 1, 3, 7 for grades
// 0–3) and the discount at 1-based rank i is log2(i+1). The ideal ranking is
// every judged entry sorted by grade, best first, cut at 10. A query without
// any entry graded above 0 scores 1.
func NDCG10(ranked []string, rel map[string]int) float64 {
	gain := func(g int) float64 { return math.Pow(2, float64(g)) - 1 }
	dcg := 0.0
	for i, s := range ranked[:min(10, len(ranked))] {
		dcg += gain(rel[s]) / math.Log2(float64(i)+2)
	}
	grades := make([]int, 0, len(rel))
	for _, g := range rel {
		grades = append(grades, g)
	}
	slices.Sort(grades)
	slices.Reverse(grades)
	idcg := 0.0
	for i, g := range grades[:min(10, len(grades))] {
		idcg += gain(g) / math.Log2(float64(i)+2)
	}
	if idcg == 0 {
		return 1
	}
	return dcg / idcg
}

// Recall10 is the share of the query's target entries found in the top 10,
// out of as many targets as fit in 10 places. The targets are the entries
// graded 2 or 3 (clearly relevant or exact); marginal entries (grade 1)
// neither count as found nor as missed. So with 4 targets, finding all 4
// anywhere in the top 10 is 1.0; with 25 targets, the top 10 must be 10 of
// them to score 1.0, and 7 of them scores 0.7. A query with no target
// scores 1 (the label set refuses such queries; see grades_to_judgements.py).
func Recall10(ranked []string, rel map[string]int) float64 {
	targets := 0
	for _, g := range rel {
		if g >= GradeRelevant {
			targets++
		}
	}
	if targets == 0 {
		return 1
	}
	found := 0
	for _, s := range ranked[:min(10, len(ranked))] {
		if rel[s] >= GradeRelevant {
			found++
		}
	}
	return float64(found) / float64(min(10, targets))
}

// QueryClasses returns each labelled query's classes (two-char, phrase,
// traditional, abbreviation, agency, single-char, english, initials) from
// testdata/judgements.json; a query may be in several.
func QueryClasses(tb testing.TB) map[string][]string {
	tb.Helper()
	b, err := files.ReadFile("testdata/judgements.json")
	if err != nil {
		tb.Fatal(err)
	}
	var js []struct {
		Query string `json:"query"`
		Class string `json:"class"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		tb.Fatalf("judgements.json: %v", err)
	}
	out := make(map[string][]string, len(js))
	for _, j := range js {
		out[j.Query] = strings.Split(j.Class, ",")
	}
	return out
}

// ParseGrades reads the hand-made labels: queries.tsv (query<TAB>classes)
// and grades.tsv (queries<TAB>slug<TAB>grade<TAB>note, several written forms
// of one query separated by "|"), and returns the judgements they make, in
// the order of queries.tsv, with grade-0 lines left out. It is what
// tools/grades_to_judgements.py computes, so a test can tell when
// judgements.json was not regenerated after an edit.
func ParseGrades(queries, grades io.Reader) ([]Judgement, error) {
	var order []string
	rel := map[string]map[string]int{}
	err := eachRow(queries, func(n int, f []string) error {
		if len(f) != 2 {
			return fmt.Errorf("queries.tsv:%d: want query<TAB>classes", n)
		}
		order = append(order, f[0])
		rel[f[0]] = map[string]int{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(grades, func(n int, f []string) error {
		if len(f) != 3 && len(f) != 4 {
			return fmt.Errorf("grades.tsv:%d: want queries<TAB>slug<TAB>grade[<TAB>note]", n)
		}
		g, err := strconv.Atoi(f[2])
		if err != nil || g < GradeNone || g > GradeExact {
			return fmt.Errorf("grades.tsv:%d: grade %q is not 0-3", n, f[2])
		}
		for _, q := range strings.Split(f[0], "|") {
			m, ok := rel[q]
			if !ok {
				return fmt.Errorf("grades.tsv:%d: %s is not in queries.tsv", n, q)
			}
			if g > GradeNone {
				m[f[1]] = g
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Judgement, 0, len(order))
	for _, q := range order {
		out = append(out, Judgement{Query: q, Relevant: rel[q]})
	}
	return out, nil
}

func eachRow(r io.Reader, f func(n int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := f(n, strings.Split(line, "\t")); err != nil {
			return err
		}
	}
	return sc.Err()
}

// RunQuality indexes the test catalogue, asks every labelled query for its
// first page of 10, and fails when mean nDCG@10 or mean recall@10 over the
// queries falls below the thresholds. It logs the means per query class and
// every query that is below a threshold on its own, with its top 10.
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
	classes := QueryClasses(t)
	type sums struct{ n, ndcg, recall float64 }
	byClass := map[string]*sums{}
	var all sums
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
		all.n++
		all.ndcg += n
		all.recall += r
		for _, c := range classes[j.Query] {
			if byClass[c] == nil {
				byClass[c] = &sums{}
			}
			byClass[c].n++
			byClass[c].ndcg += n
			byClass[c].recall += r
		}
		if n < MinNDCG || r < MinRecall {
			top := make([]string, len(ranked))
			for i, s := range ranked {
				top[i] = fmt.Sprintf("%s:%d", s, j.Relevant[s])
			}
			t.Logf("below threshold %q: nDCG@10 %.3f recall@10 %.3f top [slug:grade] %v",
				j.Query, n, r, top)
		}
	}
	names := make([]string, 0, len(byClass))
	for c := range byClass {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		s := byClass[c]
		t.Logf("class %-13s %2.0f queries: mean nDCG@10 %.3f, mean recall@10 %.3f",
			c, s.n, s.ndcg/s.n, s.recall/s.n)
	}
	mn, mr := all.ndcg/all.n, all.recall/all.n
	t.Logf("%d queries over %d entries: mean nDCG@10 %.3f, mean recall@10 %.3f", len(js), len(cat), mn, mr)
	if mn < MinNDCG {
		t.Errorf("mean nDCG@10 = %.3f, want ≥ %.2f", mn, MinNDCG)
	}
	if mr < MinRecall {
		t.Errorf("mean recall@10 = %.3f, want ≥ %.2f", mr, MinRecall)
	}
}
