package search_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/search"
	"kaifang/datasets/search/searchtest"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("bleve absolute directory is created and reopened", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "index")
		idx, err := search.Open(ctx, "bleve://"+dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		searchtest.MustUpsert(t, idx, searchtest.Entry("a", "教育統計", "", datasets.Education))
		idx.Close()
		idx, err = search.Open(ctx, "bleve://"+dir)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer idx.Close()
		if r := searchtest.MustSearch(t, idx, datasets.SearchQuery{Text: "教育"}); r.Total != 1 {
			t.Fatalf("total %d after reopen, want 1", r.Total)
		}
	})
	t.Run("bleve relative directory", func(t *testing.T) {
		t.Chdir(t.TempDir())
		idx, err := search.Open(ctx, "bleve://data/index")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer idx.Close()
		if _, err := os.Stat(filepath.Join("data", "index", "index_meta.json")); err != nil {
			t.Fatalf("index not created under data/index: %v", err)
		}
	})
	t.Run("bleve refuses a directory holding other files", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
		if _, err := search.Open(ctx, "bleve://"+dir); !datasets.IsCode(err, datasets.EINVALID) {
			t.Fatalf("err %v, want EINVALID", err)
		}
	})
	t.Run("extra synonyms file extends the table", func(t *testing.T) {
		syn := filepath.Join(t.TempDir(), "syn.txt")
		os.WriteFile(syn, []byte("# agency additions\n健康碼 = 健康码数据 | 防疫通行\n"), 0o644)
		idx, err := search.Open(ctx, "bleve://"+filepath.Join(t.TempDir(), "i")+"?synonyms="+syn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer idx.Close()
		searchtest.MustUpsert(t, idx, searchtest.Entry("a", "防疫通行記錄", "", datasets.Healthcare))
		if r := searchtest.MustSearch(t, idx, datasets.SearchQuery{Text: "健康碼"}); r.Total != 1 {
			t.Fatalf("total %d, want the agency synonym to find the entry", r.Total)
		}
		if r := searchtest.MustSearch(t, idx, datasets.SearchQuery{Text: "社保"}); r.Total != 0 {
			t.Fatalf("unexpected hits")
		}
	})
	for name, url := range map[string]string{
		"unknown scheme":        "elastic://localhost:9200",
		"bleve without a path":  "bleve://",
		"meili without a host":  "meilisearch:///x",
		"not a url":             "bleve://%zz",
		"missing synonyms file": "bleve:///tmp/x?synonyms=/nonexistent/syn.txt",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := search.Open(ctx, url); !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("Open(%q): err %v, want EINVALID", url, err)
			}
		})
	}
}

func TestParseSynonyms(t *testing.T) {
	t.Run("rules are folded and point both ways", func(t *testing.T) {
		s, err := search.ParseSynonyms(strings.NewReader("醫保 = 醫療保險 | 醫療保障 # comment\n\n"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s["医保"], []string{"医疗保险", "医疗保障"}) || !slices.Equal(s["医疗保险"], []string{"医保"}) {
			t.Fatalf("synonyms %v", s)
		}
	})
	t.Run("bad lines are located", func(t *testing.T) {
		_, err := search.ParseSynonyms(strings.NewReader("ok = fine\nno equals sign\n空 =\n"))
		ps := datasets.ErrorProblems(err)
		if !datasets.IsCode(err, datasets.EINVALID) || len(ps) != 2 || ps[0].Line != 2 || ps[1].Line != 3 {
			t.Fatalf("err %v problems %+v", err, ps)
		}
	})
	t.Run("the embedded table parses", func(t *testing.T) {
		s := search.DefaultSynonyms()
		for _, k := range []string{"社保", "医保", "公积金", "bus"} {
			if len(s[k]) == 0 {
				t.Errorf("default synonyms lack %s", k)
			}
		}
	})
}

func FuzzParseSynonyms(f *testing.F) {
	for _, s := range []string{"社保 = 社會保險 | 社會保障", "a=b", "=", "# only\n", "x = | |", "\xff = \xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := search.ParseSynonyms(strings.NewReader(in))
		if err != nil {
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("error code %s", datasets.ErrorCode(err))
			}
			return
		}
		for k, vs := range s {
			if k == "" || slices.Contains(vs, "") || slices.Contains(vs, k) {
				t.Fatalf("bad rule %q -> %q", k, vs)
			}
		}
	})
}

// FuzzSearchText feeds arbitrary citizen input through folding, synonym
// expansion, the bleve query and highlighting: it must never panic and must
// only ever return indexed entries.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"交通", "醫療 機構", "ＢＵＳ", "社保", "水", "", "\xff\xfe", "a\"b OR c:d", "<script>", strings.Repeat("公", 300)} {
		f.Add(s)
	}
	idx, err := search.OpenBleve("", nil)
	if err != nil {
		f.Fatal(err)
	}
	defer idx.Close()
	if err := idx.Upsert(context.Background(),
		searchtest.Entry("a", "醫療機構<名錄>", "公交 bus 社會保險", datasets.Healthcare),
		searchtest.Entry("b", "道路", "水", datasets.Transport)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := idx.Search(context.Background(), datasets.SearchQuery{Text: text, Explain: true})
		if err != nil {
			if !datasets.IsCode(err, datasets.EINVALID) {
				t.Fatalf("Search(%q): %v", text, err)
			}
			return
		}
		for _, h := range r.Hits {
			if h.ID != "a" && h.ID != "b" {
				t.Fatalf("unknown hit %q", h.ID)
			}
			for _, frags := range h.Highlights {
				for _, fr := range frags {
					if strings.Contains(fr, "<script") || strings.Contains(strings.ReplaceAll(strings.ReplaceAll(fr, "<mark>", ""), "</mark>", ""), "<") {
						t.Fatalf("unescaped highlight %q", fr)
					}
				}
			}
		}
		if _, err := idx.Suggest(context.Background(), text, 5); err != nil {
			t.Fatalf("Suggest(%q): %v", text, err)
		}
	})
}
