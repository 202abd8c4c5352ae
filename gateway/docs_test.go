package gateway

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"kaifang/portal"
)

// Every route of the route table is in the gateway's OpenAPI document.
func TestEveryRouteIsDocumented(t *testing.T) {
	var svc *portal.Service
	e := sqliteLocal(t, withPortal(&svc)) // with every optional route mounted
	resp, body := MustGet(t, e.url+"/api/v1/openapi.json")
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	MustJSON(t, body, &doc)
	if resp.StatusCode != 200 || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	param := regexp.MustCompile(`:(\w+)`)
	for _, r := range e.srv.App().GetRoutes(true) {
		// fiber adds HEAD to every GET; "/" is the observe middleware.
		if r.Method == "HEAD" || r.Method == "USE" || r.Path == "/" {
			continue
		}
		p := param.ReplaceAllString(r.Path, "{$1}")
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in the document", r.Method, p)
		}
	}
}

func TestDocsPages(t *testing.T) {
	e := sqliteLocal(t)
	for _, path := range []string{"/docs", "/docs/" + e.open.Slug} {
		resp, body := MustGet(t, e.url+path)
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
			t.Fatalf("%s: %d CSP %q", path, resp.StatusCode, csp)
		}
		if !strings.Contains(string(body), `<script src="/docs/assets/redoc.standalone.js"></script>`) {
			t.Fatalf("%s does not load the embedded bundle", path)
		}
	}
	resp, body := MustGet(t, e.url+"/docs/assets/redoc.standalone.js")
	if resp.StatusCode != 200 || len(body) < 100_000 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("bundle: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = MustGet(t, e.url+"/docs/assets/..%2f..%2fgo.mod")
	MustProblem(t, resp, body, 404)
	// The dataset document lists the real fields with examples from the first rows.
	resp, body = MustGet(t, e.url+"/api/v1/datasets/"+e.open.Slug+"/openapi.json")
	var doc map[string]any
	MustJSON(t, body, &doc)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"PM2.5__gte"`) || !strings.Contains(string(body), "基隆") {
		t.Fatalf("dataset document: %d", resp.StatusCode)
	}
	_ = json.Valid
}
