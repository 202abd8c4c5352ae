package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/search"
	"kaifang/datasets/search/searchtest"
)

// recorded is one request the adapter sent.
type recorded struct {
	Method, Path, Query string
	Body                map[string]any
	RawBody             string
}

// fakeMeili answers the Meilisearch routes the adapter uses with responses
// in the engine's documented format and records every request. It is not a
// search engine: search answers are scripted.
type fakeMeili struct {
	mu       sync.Mutex
	reqs     []recorded
	nextTask int
	failTask map[int]string // task uid -> recorded failed-task body
	search   string         // body returned by POST /indexes/datasets/search
	status   int            // when set, every request answers this status
}

func newFakeMeili(t *testing.T) (*fakeMeili, *httptest.Server) {
	f := &fakeMeili{failTask: map[int]string{}, search: `{"hits":[],"query":"","processingTimeMs":0,"hitsPerPage":20,"page":1,"totalPages":0,"totalHits":0}`}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/meili/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fakeMeili) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, RawBody: string(raw)}
	_ = json.Unmarshal(raw, &rec.Body)
	f.reqs = append(f.reqs, rec)
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"message":"unavailable","code":"internal","type":"internal","link":"https://docs.meilisearch.com/errors#internal"}`)
		return
	}
	enqueue := func(typ string) {
		f.nextTask++
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"taskUid":%d,"indexUid":"datasets","status":"enqueued","type":%q,"enqueuedAt":"2024-01-01T00:00:00Z"}`, f.nextTask, typ)
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/health":
		fmt.Fprint(w, `{"status":"available"}`)
	case r.Method == "POST" && r.URL.Path == "/indexes":
		enqueue("indexCreation")
	case r.Method == "PATCH" && r.URL.Path == "/indexes/datasets/settings":
		enqueue("settingsUpdate")
	case r.Method == "POST" && r.URL.Path == "/indexes/datasets/documents":
		enqueue("documentAdditionOrUpdate")
	case r.Method == "POST" && r.URL.Path == "/indexes/datasets/documents/delete-batch":
		enqueue("documentDeletion")
	case r.Method == "DELETE" && r.URL.Path == "/indexes/datasets/documents":
		enqueue("documentDeletion")
	case r.Method == "POST" && r.URL.Path == "/indexes/datasets/search":
		if !strings.Contains(f.search, `"hits"`) {
			w.WriteHeader(http.StatusBadRequest)
		}
		fmt.Fprint(w, f.search)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/tasks/"):
		var uid int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/tasks/"), "%d", &uid)
		if body, ok := f.failTask[uid]; ok {
			fmt.Fprint(w, body)
			return
		}
		fmt.Fprintf(w, `{"uid":%d,"indexUid":"datasets","status":"succeeded","type":"documentAdditionOrUpdate","details":{},"duration":"PT0.001S","enqueuedAt":"2024-01-01T00:00:00Z","startedAt":"2024-01-01T00:00:00Z","finishedAt":"2024-01-01T00:00:00Z"}`, uid)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"no route %s %s","code":"not_found","type":"invalid_request","link":""}`, r.Method, r.URL.Path)
	}
}

func (f *fakeMeili) take() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.reqs
	f.reqs = nil
	return out
}

// writes leaves out the task polling, which depends on timing.
func writes(rs []recorded) []recorded {
	var out []recorded
	for _, r := range rs {
		if !strings.HasPrefix(r.Path, "/tasks/") {
			out = append(out, r)
		}
	}
	return out
}

func mustOpenMeili(t *testing.T, url string) *search.Meili {
	t.Helper()
	m, err := search.OpenMeili(context.Background(), search.MeiliConfig{URL: url, Key: "master-key", TaskPoll: 1, NoRetries: true})
	if err != nil {
		t.Fatalf("OpenMeili: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMeiliOpenConfiguresIndex(t *testing.T) {
	f, srv := newFakeMeili(t)
	f.failTask[1] = strings.Replace(mustRead(t, "task_failed.json"), `"invalid_document_id"`, `"index_already_exists"`, 1)
	mustOpenMeili(t, srv.URL)
	rs := writes(f.take())
	if len(rs) != 2 {
		t.Fatalf("requests %+v, want create index and settings", rs)
	}
	if rs[0].Method != "POST" || rs[0].Path != "/indexes" || asJSON(rs[0].Body) != `{"primaryKey":"id","uid":"datasets"}` {
		t.Errorf("create index: %s %s %s", rs[0].Method, rs[0].Path, rs[0].RawBody)
	}
	s := rs[1].Body
	checks := map[string]string{
		"rankingRules":         `["sort","words","typo","proximity","attribute","exactness","hv:desc","popularity:desc","updated:desc"]`,
		"searchableAttributes": `["title_folded","tags_folded","agency_folded","grams","description_folded","fields_folded","initials"]`,
		"typoTolerance":        `{"disableOnAttributes":["initials"],"disableOnNumbers":false,"disableOnWords":[],"enabled":true,"minWordSizeForTypos":{"oneTypo":5,"twoTypos":9}}`,
		"filterableAttributes": `["agency","category","open_class","format","frequency","tags"]`,
		"sortableAttributes":   `["updated","popularity","hv"]`,
		"localizedAttributes":  `[{"attributePatterns":["*_folded","grams"],"locales":["cmn"]}]`,
	}
	for k, want := range checks {
		if got := asJSON(s[k]); got != want {
			t.Errorf("settings %s = %s, want %s", k, got, want)
		}
	}
	syn, _ := s["synonyms"].(map[string]any)
	if got := asJSON(syn["社保"]); got != `["社会保险","社会保障"]` {
		t.Errorf("synonyms 社保 = %s, want folded expansions", got)
	}
	if got := asJSON(syn["bus"]); !strings.Contains(got, "公交") {
		t.Errorf("synonyms bus = %s", got)
	}
}

func TestMeiliUpsertSendsFoldedDocuments(t *testing.T) {
	f, srv := newFakeMeili(t)
	m := mustOpenMeili(t, srv.URL)
	f.take()
	pub := searchtest.Entry("pub", "醫療機構名錄", "全市ＡＢＣ醫院", datasets.Healthcare)
	closed := searchtest.Entry("closed", "病歷", "", datasets.Healthcare)
	closed.OpenClass = datasets.Closed
	if err := m.Upsert(context.Background(), pub, closed); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	rs := writes(f.take())
	if len(rs) != 2 {
		t.Fatalf("requests %+v", rs)
	}
	if rs[0].Path != "/indexes/datasets/documents" || rs[0].Query != "primaryKey=id" {
		t.Errorf("add: %s?%s", rs[0].Path, rs[0].Query)
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(rs[0].RawBody), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("documents %s: %v", rs[0].RawBody, err)
	}
	d := docs[0]
	for k, want := range map[string]string{
		"id": `"pub"`, "title": `"醫療機構名錄"`, "title_folded": `"医疗机构名录"`,
		"description_folded": `"全市abc医院"`, "open_class": `"open"`, "category": `"healthcare"`,
		"format": `["csv"]`, "hv": `1`, "agency": `"ag-1"`,
		"initials": `"gml jgml ljgml ml yljgml"`, // pinyin.IndexTerms of 醫療機構名錄 (yljgml)
	} {
		if got := asJSON(d[k]); got != want {
			t.Errorf("document %s = %s, want %s", k, got, want)
		}
	}
	if g, _ := d["grams"].(string); !slices.Contains(strings.Fields(g), "医疗") {
		t.Errorf("grams %q lack the bigram 医疗", g)
	}
	if rs[1].Path != "/indexes/datasets/documents/delete-batch" || rs[1].RawBody != `["closed"]` {
		t.Errorf("closed entry: %s %s, want delete-batch [closed]", rs[1].Path, rs[1].RawBody)
	}
}

func TestMeiliSearchRequestAndResponse(t *testing.T) {
	f, srv := newFakeMeili(t)
	m := mustOpenMeili(t, srv.URL)
	f.take()
	f.search = mustRead(t, "search_response.json")

	t.Run("relevance query re-ranks the recorded hits", func(t *testing.T) {
		r, err := m.Search(context.Background(), datasets.SearchQuery{Text: "停車", Categories: []datasets.Category{"transport", `x"y`}, Explain: true})
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		rs := writes(f.take())
		if len(rs) != 1 || rs[0].Path != "/indexes/datasets/search" {
			t.Fatalf("requests %+v", rs)
		}
		b := rs[0].Body
		for k, want := range map[string]string{
			"q":                `"停车"`,
			"filter":           `[["open_class = \"open\"","open_class = \"conditional\""],["category = \"transport\"","category = \"x\\\"y\""]]`,
			"facets":           `["agency","category","open_class","format","frequency","tags"]`,
			"hitsPerPage":      `100`,
			"page":             `1`,
			"showRankingScore": `true`,
		} {
			if got := asJSON(b[k]); got != want {
				t.Errorf("search body %s = %s, want %s", k, got, want)
			}
		}
		if _, ok := b["sort"]; ok {
			t.Errorf("relevance search sent sort %v", b["sort"])
		}
		// Not an initials query: the initials attribute is not searched.
		if got := asJSON(b["attributesToSearchOn"]); got != `["title_folded","tags_folded","agency_folded","grams","description_folded","fields_folded"]` {
			t.Errorf("attributesToSearchOn = %s", got)
		}
		if _, ok := b["showMatchesPosition"]; ok {
			t.Errorf("showMatchesPosition sent for a text query")
		}
		var got []string
		for _, h := range r.Hits {
			got = append(got, h.ID)
		}
		// Title matches before the description match; among the two title
		// matches the high-value one first despite a lower engine score.
		if !slices.Equal(got, []string{"hv", "other", "desc"}) {
			t.Errorf("order %v, want [hv other desc]", got)
		}
		if r.Total != 3 || r.Facets["category"]["transport"] != 2 || r.Facets["tags"]["停車"] != 2 {
			t.Errorf("total %d facets %v", r.Total, r.Facets)
		}
		if h := r.Hits[0].Highlights["title"]; len(h) != 1 || h[0] != "<mark>停車場</mark>信息" { // 停車場 via the synonym table
			t.Errorf("highlight %v", h)
		}
		if r.Hits[0].Explanation["boosts"] == nil {
			t.Errorf("no explanation")
		}
	})

	t.Run("initials query ranks initials-only matches last", func(t *testing.T) {
		f.search = mustRead(t, "search_initials_response.json")
		defer func() { f.search = mustRead(t, "search_response.json") }()
		r, err := m.Search(context.Background(), datasets.SearchQuery{Text: "GJJ", Explain: true})
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		b := writes(f.take())[0].Body
		if asJSON(b["q"]) != `"gjj"` || asJSON(b["showMatchesPosition"]) != `true` {
			t.Errorf("search body %v", b)
		}
		if _, ok := b["attributesToSearchOn"]; ok {
			t.Errorf("initials query restricted the attributes: %v", b["attributesToSearchOn"])
		}
		var got []string
		for _, h := range r.Hits {
			got = append(got, h.ID)
		}
		// The description match first despite a lower engine score.
		if !slices.Equal(got, []string{"text", "init"}) {
			t.Fatalf("order %v, want [text init]", got)
		}
		if fm := asJSON(r.Hits[1].Explanation["fields_matched"]); fm != `["initials"]` {
			t.Errorf("fields_matched of the initials match = %s", fm)
		}
		if fm := asJSON(r.Hits[0].Explanation["fields_matched"]); fm != `["description"]` {
			t.Errorf("fields_matched of the text match = %s", fm)
		}
	})

	t.Run("sorted query pages in the engine", func(t *testing.T) {
		if _, err := m.Search(context.Background(), datasets.SearchQuery{Text: "停車", Sort: "updated", Page: 2, PerPage: 5}); err != nil {
			t.Fatal(err)
		}
		b := writes(f.take())[0].Body
		if asJSON(b["sort"]) != `["updated:desc"]` || asJSON(b["page"]) != `2` || asJSON(b["hitsPerPage"]) != `5` {
			t.Errorf("body %v", b)
		}
	})

	t.Run("an engine error is translated", func(t *testing.T) {
		f.search = mustRead(t, "error_invalid_filter.json")
		_, err := m.Search(context.Background(), datasets.SearchQuery{Text: "停車"})
		if !datasets.IsCode(err, datasets.EINVALID) {
			t.Errorf("err %v, want EINVALID", err)
		}
	})
}

func TestMeiliSuggest(t *testing.T) {
	f, srv := newFakeMeili(t)
	m := mustOpenMeili(t, srv.URL)
	f.take()
	f.search = `{"hits":[{"id":"a","slug":"bus-lines","title":"公交線路"}],"query":"公交","processingTimeMs":0,"limit":5,"offset":0,"estimatedTotalHits":1}`
	sug, err := m.Suggest(context.Background(), "公交", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(sug) != 1 || sug[0] != (datasets.Suggestion{ID: "a", Slug: "bus-lines", Title: "公交線路"}) {
		t.Errorf("suggestions %+v", sug)
	}
	b := writes(f.take())[0].Body
	if asJSON(b["attributesToSearchOn"]) != `["title_folded"]` || asJSON(b["limit"]) != `5` || asJSON(b["q"]) != `"公交"` {
		t.Errorf("suggest body %v", b)
	}
}

func TestMeiliFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("a failed task is an error naming no internals", func(t *testing.T) {
		f, srv := newFakeMeili(t)
		m := mustOpenMeili(t, srv.URL)
		f.failTask[f.nextTask+1] = mustRead(t, "task_failed.json")
		err := m.Upsert(ctx, searchtest.Entry("bad id", "教育", "", datasets.Education))
		if !datasets.IsCode(err, datasets.EINVALID) || strings.Contains(datasets.ErrorMessage(err), "alphanumeric") {
			t.Errorf("err %v (message %q), want EINVALID with a safe message", err, datasets.ErrorMessage(err))
		}
	})
	t.Run("a server error is unavailable", func(t *testing.T) {
		f, srv := newFakeMeili(t)
		m := mustOpenMeili(t, srv.URL)
		f.status = http.StatusServiceUnavailable
		if err := m.Upsert(ctx, searchtest.Entry("a", "教育", "", datasets.Education)); !datasets.IsCode(err, datasets.EUNAVAILABLE) {
			t.Errorf("Upsert: %v, want EUNAVAILABLE", err)
		}
		if err := m.Ping(ctx); !datasets.IsCode(err, datasets.EUNAVAILABLE) {
			t.Errorf("Ping: %v, want EUNAVAILABLE", err)
		}
	})
	t.Run("an unreachable server is unavailable", func(t *testing.T) {
		_, srv := newFakeMeili(t)
		url := srv.URL
		srv.Close()
		if _, err := search.OpenMeili(ctx, search.MeiliConfig{URL: url}); !datasets.IsCode(err, datasets.EUNAVAILABLE) {
			t.Errorf("OpenMeili: %v, want EUNAVAILABLE", err)
		}
	})
}

// MeiliEnv names the Meilisearch server the contract and quality suites
// also run against.
const MeiliEnv = "MEILISEARCH_URL"

func mustRealMeili(t *testing.T) datasets.Index {
	t.Helper()
	skipWithoutMeili(t)
	base := os.Getenv(MeiliEnv)
	// Accept the server's own address too: http(s)://host:port?key=….
	if rest, ok := strings.CutPrefix(base, "http://"); ok {
		base = "meilisearch://" + rest
	} else if rest, ok := strings.CutPrefix(base, "https://"); ok {
		base = "meilisearch://" + rest
		if strings.Contains(base, "?") {
			base += "&secure=true"
		} else {
			base += "?secure=true"
		}
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	idx, err := search.Open(context.Background(), base+sep+"index=kt_"+fmt.Sprintf("%x", []byte(name))[:40])
	if err != nil {
		t.Fatalf("open %s: %v", MeiliEnv, err)
	}
	if err := idx.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func skipWithoutMeili(t *testing.T) {
	if os.Getenv(MeiliEnv) == "" {
		t.Skip("set " + MeiliEnv + " (e.g. meilisearch://127.0.0.1:7700?key=masterKey) to run against Meilisearch")
	}
}

func TestContractMeilisearch(t *testing.T) {
	skipWithoutMeili(t)
	searchtest.Run(t, mustRealMeili)
}

func TestQualityMeilisearch(t *testing.T) {
	skipWithoutMeili(t)
	searchtest.RunQuality(t, mustRealMeili)
}
