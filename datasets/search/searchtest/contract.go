package searchtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/search/fold"
)

// Entry returns a published open entry for contract tests.
func Entry(id, title, desc string, cat datasets.Category) datasets.Dataset {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return datasets.Dataset{
		ID: id, Slug: "s-" + strings.ToLower(id), Title: title, Description: desc,
		Agency:   datasets.AgencyRef{ID: "ag-1", Slug: "ag-1", Name: "測試市數據局"},
		Category: cat, OpenClass: datasets.Open, Frequency: datasets.Monthly,
		Formats: []string{"CSV"}, Tags: []string{"測試"}, State: datasets.Published,
		CreatedAt: at, UpdatedAt: at,
	}
}

func ids(r datasets.SearchResult) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.ID
	}
	return out
}

// MustSearch runs q and fails the test on error.
func MustSearch(tb testing.TB, idx datasets.Index, q datasets.SearchQuery) datasets.SearchResult {
	tb.Helper()
	r, err := idx.Search(context.Background(), q)
	if err != nil {
		tb.Fatalf("Search(%+v): %v", q, err)
	}
	return r
}

// MustUpsert indexes ds and fails the test on error.
func MustUpsert(tb testing.TB, idx datasets.Index, ds ...datasets.Dataset) {
	tb.Helper()
	if err := idx.Upsert(context.Background(), ds...); err != nil {
		tb.Fatalf("Upsert: %v", err)
	}
}

// Run is the behaviour contract every datasets.Index must meet; open
// returns a fresh, empty index closed by the test's cleanup.
func Run(t *testing.T, open func(t *testing.T) datasets.Index) {
	ctx := context.Background()

	t.Run("finds an entry by a two-character word", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("a", "公交線路站點", "全市公交線路", datasets.Transport), Entry("b", "醫院名錄", "醫療機構", datasets.Healthcare))
		r := MustSearch(t, idx, datasets.SearchQuery{Text: "公交"})
		if got := ids(r); !slices.Equal(got, []string{"a"}) || r.Total != 1 {
			t.Fatalf("hits %v total %d, want [a] 1", got, r.Total)
		}
	})

	t.Run("traditional and simplified queries return the same top 10", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, MustCatalogue(t)...)
		for _, pair := range [][2]string{{"醫療", "医疗"}, {"環境", "环境"}, {"學校", "学校"}, {"廈門市交通運輸局", "厦门市交通运输局"}} {
			a := ids(MustSearch(t, idx, datasets.SearchQuery{Text: pair[0], PerPage: 10}))
			b := ids(MustSearch(t, idx, datasets.SearchQuery{Text: pair[1], PerPage: 10}))
			if len(a) == 0 || !slices.Equal(a, b) {
				t.Errorf("%s gave %v, %s gave %v", pair[0], a, pair[1], b)
			}
		}
	})

	t.Run("an abbreviation finds the full name", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("ss", "社會保險參保人數", "按區統計", datasets.SocialSecurity), Entry("x", "道路名稱", "道路", datasets.Transport))
		for _, q := range []string{"社保", "社會保險", "社会保险"} {
			if got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: q})); !slices.Equal(got, []string{"ss"}) {
				t.Errorf("%s: hits %v, want [ss]", q, got)
			}
		}
	})

	t.Run("an exact title match beats a description match", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx,
			Entry("desc", "道路運輸統計", "空氣質量 空氣質量 空氣質量 按日發布", datasets.Transport),
			Entry("title", "空氣質量", "按站點發布", datasets.Other))
		got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: "空氣質量"}))
		if len(got) != 2 || got[0] != "title" {
			t.Fatalf("hits %v, want title first", got)
		}
	})

	t.Run("a high-value entry comes first among comparably relevant ones", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx,
			Entry("other", "停車場名錄", "停車場位置", datasets.Other),
			Entry("hv", "停車場信息", "停車場位置", datasets.Transport))
		got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: "停車"}))
		if len(got) != 2 || got[0] != "hv" {
			t.Fatalf("hits %v, want hv first", got)
		}
	})

	t.Run("a single character finds its entries", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("w", "水位監測", "", datasets.Environment), Entry("r", "道路名稱", "", datasets.Transport))
		if got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: "水"})); !slices.Equal(got, []string{"w"}) {
			t.Fatalf("hits %v, want [w]", got)
		}
	})

	t.Run("an English word finds Chinese entries", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("bus", "公交車實時位置", "", datasets.Transport), Entry("r", "道路名稱", "", datasets.Transport))
		if got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: "BUS"})); !slices.Equal(got, []string{"bus"}) {
			t.Fatalf("hits %v, want [bus]", got)
		}
	})

	t.Run("closed, draft and withdrawn entries are never returned, suggested or counted", func(t *testing.T) {
		idx := open(t)
		open1 := Entry("pub", "醫院名錄", "", datasets.Healthcare)
		closed := Entry("closed", "醫院病歷", "", datasets.Healthcare)
		closed.OpenClass = datasets.Closed
		draft := Entry("draft", "醫院床位", "", datasets.Healthcare)
		draft.State = datasets.Draft
		later := Entry("later", "醫院排隊", "", datasets.Healthcare)
		MustUpsert(t, idx, open1, closed, draft, later)
		later.State = datasets.Withdrawn
		MustUpsert(t, idx, later)
		r := MustSearch(t, idx, datasets.SearchQuery{Text: "醫院"})
		if got := ids(r); !slices.Equal(got, []string{"pub"}) || r.Total != 1 {
			t.Fatalf("hits %v total %d, want only pub", got, r.Total)
		}
		all := MustSearch(t, idx, datasets.SearchQuery{OpenClasses: []datasets.OpenClass{datasets.Closed, datasets.Open}})
		if all.Total != 1 || all.Facets["category"]["healthcare"] != 1 || all.Facets["open_class"]["closed"] != 0 {
			t.Fatalf("total %d facets %v, want 1 healthcare and no closed", all.Total, all.Facets)
		}
		onlyClosed := MustSearch(t, idx, datasets.SearchQuery{OpenClasses: []datasets.OpenClass{datasets.Closed}})
		if onlyClosed.Total != 0 {
			t.Fatalf("filter closed: total %d, want 0", onlyClosed.Total)
		}
		sug, err := idx.Suggest(ctx, "醫院", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(sug) != 1 || sug[0].ID != "pub" {
			t.Fatalf("suggestions %v, want only pub", sug)
		}
	})

	t.Run("upsert is idempotent and delete ignores missing ids", func(t *testing.T) {
		idx := open(t)
		e := Entry("a", "氣象預報", "", datasets.Weather)
		MustUpsert(t, idx, e)
		e.Title = "氣象預報（逐時）"
		MustUpsert(t, idx, e)
		r := MustSearch(t, idx, datasets.SearchQuery{Text: "氣象"})
		if r.Total != 1 {
			t.Fatalf("total %d after two upserts, want 1", r.Total)
		}
		if err := idx.Delete(ctx, "a", "never-there"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if r := MustSearch(t, idx, datasets.SearchQuery{Text: "氣象"}); r.Total != 0 {
			t.Fatalf("total %d after delete, want 0", r.Total)
		}
	})

	t.Run("filters narrow and facets count the whole result", func(t *testing.T) {
		idx := open(t)
		a := Entry("a", "公交線路", "", datasets.Transport)
		b := Entry("b", "公交站點", "", datasets.Transport)
		b.Formats, b.Frequency, b.Tags = []string{"JSON"}, datasets.Daily, []string{"站點"}
		c := Entry("c", "公交票價", "", datasets.Credit)
		c.OpenClass, c.Reason, c.LegalBasis = datasets.Conditional, "r", "l"
		c.Agency = datasets.AgencyRef{ID: "ag-2", Slug: "ag-2", Name: "交通局"}
		MustUpsert(t, idx, a, b, c)
		r := MustSearch(t, idx, datasets.SearchQuery{Text: "公交"})
		want := map[string]map[string]int{
			"category":   {"transport": 2, "credit": 1},
			"open_class": {"open": 2, "conditional": 1},
			"format":     {"csv": 2, "json": 1},
			"frequency":  {"monthly": 2, "daily": 1},
			"agency":     {"ag-1": 2, "ag-2": 1},
			"tags":       {"測試": 2, "站點": 1},
		}
		for f, w := range want {
			if fmt.Sprint(r.Facets[f]) != fmt.Sprint(w) {
				t.Errorf("facet %s = %v, want %v", f, r.Facets[f], w)
			}
		}
		for name, q := range map[string]datasets.SearchQuery{
			"b": {Text: "公交", Formats: []string{"json"}},
			"c": {Text: "公交", AgencyIDs: []string{"ag-2"}},
			"a": {Text: "公交", Frequencies: []datasets.Frequency{datasets.Monthly}, Categories: []datasets.Category{datasets.Transport}},
		} {
			if got := ids(MustSearch(t, idx, q)); !slices.Equal(got, []string{name}) {
				t.Errorf("filter %+v: hits %v, want [%s]", q, got, name)
			}
		}
		if got := ids(MustSearch(t, idx, datasets.SearchQuery{Tags: []string{"站點"}})); !slices.Equal(got, []string{"b"}) {
			t.Errorf("tag filter: hits %v, want [b]", got)
		}
		if r := MustSearch(t, idx, datasets.SearchQuery{Text: "公交", OpenClasses: []datasets.OpenClass{datasets.Conditional}}); r.Total != 1 || r.Facets["open_class"]["open"] != 0 {
			t.Errorf("open class filter: total %d facets %v", r.Total, r.Facets["open_class"])
		}
	})

	t.Run("pinyin initials find titles", func(t *testing.T) {
		idx := open(t)
		cat := MustCatalogue(t)
		MustUpsert(t, idx, cat...)
		titles := map[string]string{}
		for _, d := range cat {
			titles[d.ID] = fold.String(d.Title)
		}
		for q, word := range map[string]string{"shbx": "社会保险", "SHBX": "社会保险", "gjj": "公积金", "jt": "交通", "xm": "厦门"} {
			r := MustSearch(t, idx, datasets.SearchQuery{Text: q, PerPage: 3, Explain: true})
			found := false
			for _, h := range r.Hits {
				found = found || strings.Contains(titles[h.ID], word)
			}
			if !found {
				var got []string
				for _, h := range r.Hits {
					got = append(got, titles[h.ID])
				}
				t.Errorf("%s: top 3 %v, want a title with %s", q, got, word)
			}
			for _, h := range r.Hits {
				fm := fmt.Sprint(h.Explanation["fields_matched"])
				if strings.Contains(titles[h.ID], word) && !strings.Contains(fm, "initials") {
					t.Errorf("%s: %s explained as matching %s, want initials named", q, titles[h.ID], fm)
				}
			}
		}
		// Not an initials query (u): only entries holding the word.
		for _, h := range MustSearch(t, idx, datasets.SearchQuery{Text: "bus", PerPage: 100, Explain: true}).Hits {
			if fm := fmt.Sprint(h.Explanation["fields_matched"]); strings.Contains(fm, "initials") {
				t.Errorf("bus: %s matched by initials (%s)", titles[h.ID], fm)
			}
		}
	})

	t.Run("initials matches rank below text matches and obey filters", func(t *testing.T) {
		idx := open(t)
		init := Entry("init", "社會保險參保人數", "按區統計", datasets.SocialSecurity)
		init.Downloads = 1000000
		desc := Entry("desc", "接口編碼表", "字段 shbx 表示險種", datasets.Other)
		exact := Entry("exact", "SHBX", "", datasets.Other)
		closed := Entry("closed", "社會保險基金明細", "", datasets.SocialSecurity)
		closed.OpenClass, closed.Reason, closed.LegalBasis = datasets.Closed, "r", "l"
		other := Entry("other", "社會保險費率", "", datasets.Credit)
		other.Formats = []string{"JSON"}
		MustUpsert(t, idx, init, desc, exact, closed, other)
		r := MustSearch(t, idx, datasets.SearchQuery{Text: "shbx", Explain: true})
		if got := ids(r); len(got) != 4 || got[0] != "exact" || got[1] != "desc" || slices.Contains(got, "closed") {
			t.Fatalf("hits %v, want [exact desc] then the two initials matches, never closed", got)
		}
		if r.Total != 4 || r.Facets["category"]["social_security"] != 1 || r.Facets["category"]["credit"] != 1 || r.Facets["open_class"]["closed"] != 0 {
			t.Errorf("total %d facets %v", r.Total, r.Facets)
		}
		for _, h := range r.Hits {
			if h.ID != "init" {
				continue
			}
			if hl := h.Highlights["title"]; len(hl) != 1 || hl[0] != "<mark>社會保險</mark>參保人數" {
				t.Errorf("initials match highlighted %v, want the characters marked", hl)
			}
			if fm := fmt.Sprint(h.Explanation["fields_matched"]); fm != "[initials]" {
				t.Errorf("initials match explained as %s, want [initials]", fm)
			}
		}
		r = MustSearch(t, idx, datasets.SearchQuery{Text: "shbx", Categories: []datasets.Category{datasets.SocialSecurity, datasets.Credit}})
		want := map[string]map[string]int{
			"category":   {"social_security": 1, "credit": 1},
			"open_class": {"open": 2},
			"format":     {"csv": 1, "json": 1},
			"frequency":  {"monthly": 2},
			"agency":     {"ag-1": 2},
			"tags":       {"測試": 2},
		}
		for f, w := range want {
			if fmt.Sprint(r.Facets[f]) != fmt.Sprint(w) {
				t.Errorf("filtered: facet %s = %v, want %v", f, r.Facets[f], w)
			}
		}
		if got := ids(r); r.Total != 2 || !slices.Equal(got, []string{"init", "other"}) && !slices.Equal(got, []string{"other", "init"}) {
			t.Errorf("filtered: hits %v total %d, want init and other", got, r.Total)
		}
		r = MustSearch(t, idx, datasets.SearchQuery{Text: "shbx", Sort: "updated", Formats: []string{"json"}})
		if got := ids(r); !slices.Equal(got, []string{"other"}) || r.Total != 1 {
			t.Errorf("sorted and filtered: hits %v total %d, want [other]", got, r.Total)
		}
	})

	t.Run("sorts by update time and use and pages", func(t *testing.T) {
		idx := open(t)
		var es []datasets.Dataset
		for i := range 5 {
			e := Entry(fmt.Sprintf("e%d", i), fmt.Sprintf("教育統計%d", i), "", datasets.Education)
			e.UpdatedAt = e.UpdatedAt.AddDate(0, 0, i)
			e.Downloads = int64(100 - i)
			es = append(es, e)
		}
		MustUpsert(t, idx, es...)
		if got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: "教育", Sort: "updated"})); !slices.Equal(got, []string{"e4", "e3", "e2", "e1", "e0"}) {
			t.Errorf("updated: %v", got)
		}
		if got := ids(MustSearch(t, idx, datasets.SearchQuery{Text: "教育", Sort: "popular"})); !slices.Equal(got, []string{"e0", "e1", "e2", "e3", "e4"}) {
			t.Errorf("popular: %v", got)
		}
		p1 := MustSearch(t, idx, datasets.SearchQuery{Text: "教育", PerPage: 2, Page: 1})
		p3 := MustSearch(t, idx, datasets.SearchQuery{Text: "教育", PerPage: 2, Page: 3})
		if p1.Total != 5 || len(p1.Hits) != 2 || len(p3.Hits) != 1 || slices.Contains(ids(p1), p3.Hits[0].ID) {
			t.Errorf("pages: p1 %v (total %d), p3 %v", ids(p1), p1.Total, ids(p3))
		}
		if _, err := idx.Search(ctx, datasets.SearchQuery{Sort: "random"}); !datasets.IsCode(err, datasets.EINVALID) {
			t.Errorf("unknown sort: err %v, want EINVALID", err)
		}
	})

	t.Run("highlights mark the original text and explain says why", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("a", "醫療機構<名錄>", "全市醫療機構", datasets.Healthcare))
		r := MustSearch(t, idx, datasets.SearchQuery{Text: "医疗", Explain: true})
		if len(r.Hits) != 1 {
			t.Fatalf("hits %v", ids(r))
		}
		h := r.Hits[0]
		if got := strings.Join(h.Highlights["title"], ""); got != "<mark>醫療</mark>機構&lt;名錄&gt;" {
			t.Errorf("title highlight %q", got)
		}
		if fs, _ := h.Explanation["fields_matched"].([]string); !slices.Contains(fs, "title") || h.Explanation["boosts"] == nil {
			t.Errorf("explanation %v lacks matched fields or boosts", h.Explanation)
		}
	})

	t.Run("suggests title completions", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("a", "廈門市公交線路", "", datasets.Transport), Entry("b", "廈門市醫院名錄", "", datasets.Healthcare), Entry("c", "道路名稱", "", datasets.Transport))
		sug, err := idx.Suggest(ctx, "厦门市公", 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(sug) == 0 || sug[0].ID != "a" || sug[0].Title != "廈門市公交線路" || sug[0].Slug != "s-a" {
			t.Fatalf("suggestions %+v, want a first", sug)
		}
		if sug, err := idx.Suggest(ctx, "  ", 5); err != nil || len(sug) != 0 {
			t.Fatalf("blank prefix: %v %v", sug, err)
		}
	})

	t.Run("reset empties the index", func(t *testing.T) {
		idx := open(t)
		MustUpsert(t, idx, Entry("a", "教育", "", datasets.Education))
		if err := idx.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		if r := MustSearch(t, idx, datasets.SearchQuery{}); r.Total != 0 {
			t.Fatalf("total %d after reset", r.Total)
		}
		MustUpsert(t, idx, Entry("b", "教育", "", datasets.Education))
		if r := MustSearch(t, idx, datasets.SearchQuery{}); r.Total != 1 {
			t.Fatalf("total %d after reset and upsert", r.Total)
		}
		if err := idx.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}
