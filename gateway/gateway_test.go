package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore/sqltest"
)

func MustJSON(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, b)
	}
}

// MustProblem checks that a response is an RFC 9457 document with status.
func MustProblem(tb testing.TB, resp *http.Response, body []byte, status int) Problem {
	tb.Helper()
	if resp.StatusCode != status {
		tb.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	MustJSON(tb, body, &p)
	if p.Status != status || p.Type == "" || p.Title == "" {
		tb.Fatalf("problem document incomplete: %+v", p)
	}
	return p
}

func sqliteLocal(t *testing.T, opts ...envOpt) *env {
	return MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), opts...)
}

func TestCatalogRoutes(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string, blobs datasets.Blobs) {
		e := MustEnv(t, dbURL, blobs)
		t.Run("list falls back to the catalogue without an index", func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/datasets?per_page=10")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var page struct {
				Items   []datasets.Dataset `json:"items"`
				Total   int                `json:"total"`
				Page    int                `json:"page"`
				PerPage int                `json:"per_page"`
				Facets  map[string]any     `json:"facets"`
			}
			MustJSON(t, body, &page)
			if page.Total != 3 || len(page.Items) != 3 || page.Page != 1 || page.PerPage != 10 || page.Facets == nil {
				t.Fatalf("want the 3 public entries, got total %d items %d page %d per_page %d", page.Total, len(page.Items), page.Page, page.PerPage)
			}
			for _, d := range page.Items {
				if d.OpenClass == datasets.Closed || d.Slug == e.closed.Slug {
					t.Fatalf("closed entry listed: %s", d.Slug)
				}
			}
		})
		t.Run("get by slug and by uuid", func(t *testing.T) {
			for _, id := range []string{e.open.Slug, e.open.ID} {
				resp, body := MustGet(t, e.url+"/api/v1/datasets/"+id)
				var d datasets.Dataset
				MustJSON(t, body, &d)
				if resp.StatusCode != 200 || d.ID != e.open.ID || d.Title != "空氣品質指標(AQI)" {
					t.Fatalf("GET %s: %d %s", id, resp.StatusCode, body)
				}
				if strings.Contains(string(body), e.open.CurrentVersion.BlobKey) || strings.Contains(string(body), e.open.CurrentVersion.RowTable) {
					t.Fatalf("internal storage names leaked: %s", body)
				}
			}
		})
		t.Run("versions lists ready versions", func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.open.Slug+"/versions")
			var out struct {
				Items []datasets.Version `json:"items"`
				Total int                `json:"total"`
			}
			MustJSON(t, body, &out)
			if resp.StatusCode != 200 || out.Total != 1 || out.Items[0].SHA256 != e.open.CurrentVersion.SHA256 {
				t.Fatalf("versions: %d %s", resp.StatusCode, body)
			}
		})
		t.Run("agencies", func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/agencies")
			if resp.StatusCode != 200 || !strings.Contains(string(body), "環境部") {
				t.Fatalf("agencies: %d %s", resp.StatusCode, body)
			}
			resp, body = MustGet(t, e.url+"/api/v1/agencies/moenv")
			var a datasets.Agency
			MustJSON(t, body, &a)
			if resp.StatusCode != 200 || a.ID != e.ag.ID {
				t.Fatalf("agency: %d %s", resp.StatusCode, body)
			}
			resp, body = MustGet(t, e.url+"/api/v1/agencies/nobody")
			MustProblem(t, resp, body, 404)
		})
	})
}

// Closed entries do not exist on any route, whatever the store.
func TestClosedEntryIsNotFoundEverywhere(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string, blobs datasets.Blobs) {
		e := MustEnv(t, dbURL, blobs)
		for _, id := range []string{e.closed.Slug, e.closed.ID} {
			for _, path := range []string{"", "/versions", "/download", "/download?format=csv", "/records", "/records?format=csv", "/openapi.json"} {
				resp, body := MustGet(t, e.url+"/api/v1/datasets/"+id+path)
				p := MustProblem(t, resp, body, 404)
				if strings.Contains(string(body), e.closed.Title) {
					t.Fatalf("%s%s leaks the title: %+v", id, path, p)
				}
			}
			resp, body := MustGet(t, e.url+"/docs/"+id)
			MustProblem(t, resp, body, 404)
		}
		_, body := MustGet(t, e.url+"/api/v1/datasets?per_page=100")
		if strings.Contains(string(body), e.closed.ID) {
			t.Fatalf("closed entry in the list")
		}
	})
}

func TestConditionalEntryNeedsCredentials(t *testing.T) {
	e := sqliteLocal(t)
	for _, path := range []string{"/download", "/download?format=csv", "/records"} {
		t.Run(path, func(t *testing.T) {
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.cond.Slug+path)
			MustProblem(t, resp, body, 401)
		})
	}
	resp, _ := MustGet(t, e.url+"/api/v1/datasets/"+e.cond.Slug)
	if resp.StatusCode != 200 {
		t.Fatalf("a conditional entry is listed publicly, got %d", resp.StatusCode)
	}
	// Its document has no example rows, since its rows are not public.
	resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.cond.Slug+"/openapi.json")
	if resp.StatusCode != 200 || strings.Contains(string(body), "基隆") {
		t.Fatalf("conditional document: %d, leaks rows: %v: %.300s", resp.StatusCode, strings.Contains(string(body), "基隆"), body)
	}
}

func TestErrorsAreProblems(t *testing.T) {
	e := sqliteLocal(t)
	cases := []struct {
		name, method, path string
		status             int
	}{
		{"unknown route", "GET", "/api/v1/nothing", 404},
		{"unknown dataset", "GET", "/api/v1/datasets/no-such-thing", 404},
		{"wrong method", "POST", "/api/v1/datasets", 405},
		{"bad page", "GET", "/api/v1/datasets?page=0", 400},
		{"bad category", "GET", "/api/v1/datasets?category=weapons", 400},
		{"closed class asked for", "GET", "/api/v1/datasets?open_class=closed", 400},
		{"text search without index", "GET", "/api/v1/datasets?q=%E7%A9%BA%E6%B0%A3", 400},
		{"suggest needs q", "GET", "/api/v1/suggest", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := MustDo(t, tc.method, e.url+tc.path)
			p := MustProblem(t, resp, body, tc.status)
			if p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-Id") {
				t.Fatalf("request id %q vs header %q", p.RequestID, resp.Header.Get("X-Request-Id"))
			}
		})
	}
	t.Run("problems name the parameter", func(t *testing.T) {
		resp, body := MustGet(t, e.url+"/api/v1/datasets?per_page=1000")
		p := MustProblem(t, resp, body, 400)
		if len(p.Errors) != 1 || p.Errors[0].Field != "per_page" {
			t.Fatalf("errors: %+v", p.Errors)
		}
	})
}

func TestRequestID(t *testing.T) {
	e := sqliteLocal(t)
	resp, _ := MustGet(t, e.url+"/healthz", "X-Request-Id", "client-chosen-id-123")
	if got := resp.Header.Get("X-Request-Id"); got != "client-chosen-id-123" {
		t.Fatalf("sane id not passed through: %q", got)
	}
	resp, _ = MustGet(t, e.url+"/healthz", "X-Request-Id", "bad id <script>")
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, "<") {
		t.Fatalf("insane id not replaced: %q", got)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := sqliteLocal(t)
	resp, body := MustGet(t, e.url+"/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	resp, body = MustGet(t, e.url+"/readyz")
	var r struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
		Failed []string          `json:"failed"`
	}
	MustJSON(t, body, &r)
	if resp.StatusCode != 200 || r.Status != "ok" || r.Checks["database"] != "ok" || r.Checks["blobs"] != "ok" || r.Checks["ratelimit"] != "ok" {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	// A store that goes away is reported by name; when it comes back the
	// next probe is ready again, without a restart.
	down := true
	e.srv.d.Checks["search"] = func(ctx context.Context) error {
		if down {
			return datasets.Errorf(datasets.EUNAVAILABLE, "search engine unreachable")
		}
		return nil
	}
	resp, body = MustGet(t, e.url+"/readyz")
	r = struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
		Failed []string          `json:"failed"`
	}{}
	MustJSON(t, body, &r)
	if resp.StatusCode != 503 || len(r.Failed) != 1 || r.Failed[0] != "search" {
		t.Fatalf("readyz with search down: %d %s", resp.StatusCode, body)
	}
	down = false
	resp, _ = MustGet(t, e.url+"/readyz")
	if resp.StatusCode != 200 {
		t.Fatalf("readyz after recovery: %d", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	e := sqliteLocal(t)
	MustGet(t, e.url+"/api/v1/datasets/"+e.open.Slug)
	MustGet(t, e.url+"/api/v1/datasets/missing-one")
	MustGet(t, e.url+"/api/v1/datasets/"+e.open.Slug+"/download")
	resp, body := MustGet(t, e.url+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("metrics %d", resp.StatusCode)
	}
	for _, want := range []string{
		`kaifang_http_requests_total{method="GET",route="/api/v1/datasets/:id",status="200"} 1`,
		`kaifang_http_requests_total{method="GET",route="/api/v1/datasets/:id",status="404"} 1`,
		`kaifang_http_request_duration_seconds_bucket{method="GET",route="/api/v1/datasets/:id",status="200"`,
		`kaifang_http_response_bytes_total{route="/api/v1/datasets/:id/download"} ` + strconv.Itoa(len(e.openFile)),
		`kaifang_ratelimit_store_errors_total 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
