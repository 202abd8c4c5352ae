package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

func mustPortalApp(tb testing.TB, url string) (*fiber.App, *portal.Service) {
	tb.Helper()
	st := sqltest.MustOpen(tb, url)
	blobs, err := blob.OpenLocal(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	svc := &portal.Service{Catalog: st, Rows: st, Blobs: blobs, Accounts: st, Secret: []byte("gateway-test-secret-0123456789"),
		TempDir: tb.TempDir(), MaxUpload: 64 << 10}
	ctx := context.Background()
	for _, a := range []*datasets.Agency{{Slug: "agency-a", Name: "甲局"}, {Slug: "agency-b", Name: "乙局"}} {
		if err := st.CreateAgency(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
	app := fiber.New(fiber.Config{ErrorHandler: ErrorHandler, StreamRequestBody: true})
	portalRoutes(app.Group("/api/v1"), svc)
	return app, svc
}

func call(tb testing.TB, app *fiber.App, method, path, token, body string) (int, map[string]any, http.Header) {
	tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"_raw": string(b)}
	}
	return resp.StatusCode, m, resp.Header
}

func mustToken(tb testing.TB, app *fiber.App, email string) string {
	tb.Helper()
	st, m, _ := call(tb, app, "POST", "/api/v1/login", "", `{"email":"`+email+`","password":"a long enough password"}`)
	if st != 201 {
		tb.Fatalf("login %s: %d %v", email, st, m)
	}
	return m["token"].(string)
}

func TestPortalAPI(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		app, svc := mustPortalApp(t, url)
		ctx := context.Background()
		for _, u := range []struct {
			role   datasets.Role
			agency string
			email  string
		}{{datasets.RolePublisher, "agency-a", "pa@x.org"}, {datasets.RoleReviewer, "agency-a", "ra@x.org"}, {datasets.RolePublisher, "agency-b", "pb@x.org"}} {
			if _, err := svc.AddUser(ctx, u.role, u.agency, u.email, "n", "a long enough password"); err != nil {
				t.Fatal(err)
			}
		}
		st, m, _ := call(t, app, "POST", "/api/v1/register", "", `{"email":"dev@x.org","name":"Dev","password":"a long enough password"}`)
		if st != 201 || m["role"] != "developer" || m["password_hash"] != nil {
			t.Fatalf("register: %d %v", st, m)
		}
		pa, ra, pb := mustToken(t, app, "pa@x.org"), mustToken(t, app, "ra@x.org"), mustToken(t, app, "pb@x.org")

		st, m, h := call(t, app, "GET", "/api/v1/agencies/agency-a/entries", "", "")
		if st != 401 || h.Get("WWW-Authenticate") == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
			t.Errorf("no token: %d %v %v", st, m, h)
		}
		if st, _, _ := call(t, app, "GET", "/api/v1/me", "kf_pat_nonsense", ""); st != 401 {
			t.Errorf("bad token: %d", st)
		}

		st, m, _ = call(t, app, "POST", "/api/v1/agencies/agency-a/open-list", pa,
			`{"slug":"bus-lines","title":"公交线路","frequency":"monthly","formats":["csv"]}`)
		if st != 201 || m["state"] != "draft" {
			t.Fatalf("create entry: %d %v", st, m)
		}
		if st, _, _ := call(t, app, "POST", "/api/v1/agencies/agency-a/open-list", pb, `{"title":"x"}`); st != 403 {
			t.Errorf("publisher of B creating in A: %d, want 403", st)
		}
		if st, m, _ := call(t, app, "POST", "/api/v1/agencies/agency-a/open-list", pa, `{"title":"x","colour":"red"}`); st != 400 {
			t.Errorf("unknown field: %d %v, want 400", st, m)
		}
		if st, _, _ := call(t, app, "PATCH", "/api/v1/datasets/bus-lines", pb, `{"title":"hijack"}`); st != 404 {
			t.Errorf("publisher of B editing A's draft: %d, want 404", st)
		}
		if st, m, _ := call(t, app, "PATCH", "/api/v1/datasets/bus-lines", pa, `{"description":"全市公交"}`); st != 200 || m["description"] != "全市公交" {
			t.Errorf("patch: %d %v", st, m)
		}
		if st, _, _ := call(t, app, "POST", "/api/v1/datasets/bus-lines/submit", pa, ""); st != 200 {
			t.Fatalf("submit: %d", st)
		}
		st, m, _ = call(t, app, "GET", "/api/v1/reviews/entries", ra, "")
		if st != 200 || m["total"] != float64(1) {
			t.Errorf("queue: %d %v", st, m)
		}
		st, m, _ = call(t, app, "POST", "/api/v1/datasets/bus-lines/review", ra, `{"decision":"approve","legality":{"ok":true,"note":"合法"}}`)
		if st != 400 || len(m["errors"].([]any)) != 2 {
			t.Errorf("approve without two checks: %d %v", st, m)
		}
		st, m, _ = call(t, app, "POST", "/api/v1/datasets/bus-lines/review", ra,
			`{"decision":"approve","legality":{"ok":true,"note":"合法"},"confidentiality":{"ok":true,"note":"无涉密"},"privacy":{"ok":true,"note":"无个人信息"}}`)
		if st != 200 || m["state"] != "published" {
			t.Fatalf("approve: %d %v", st, m)
		}

		st, m, _ = call(t, app, "GET", "/api/v1/agencies/agency-a/open-list", "", "")
		if st != 200 || m["total"] != float64(1) {
			t.Errorf("public list: %d %v", st, m)
		}
		st, m, h = call(t, app, "GET", "/api/v1/agencies/agency-a/open-list?format=csv", "", "")
		if raw, _ := m["_raw"].(string); st != 200 || !strings.HasPrefix(raw, "\uFEFFslug,title") || !strings.Contains(raw, "bus-lines,公交线路") || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Errorf("csv list: %d %q", st, m["_raw"])
		}
		if st, _, h := call(t, app, "GET", "/api/v1/agencies/agency-a/open-list?format=xlsx", "", ""); st != 200 || !strings.Contains(h.Get("Content-Type"), "spreadsheetml") {
			t.Errorf("xlsx list: %d", st)
		}
		st, m, _ = call(t, app, "GET", "/api/v1/datasets/bus-lines/history", ra, "")
		if st != 200 || len(m["reviews"].([]any)) != 1 || len(m["changes"].([]any)) != 4 {
			t.Errorf("history: %d %v", st, m)
		}
		if st, _, _ := call(t, app, "GET", "/api/v1/datasets/bus-lines/history", pb, ""); st != 403 {
			t.Errorf("history by another agency: %d, want 403", st)
		}

		t.Run("upload", func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v1/datasets/bus-lines/versions?filename=lines.csv", strings.NewReader("线路,站数\n1路,20\n2路,18\n"))
			req.Header.Set("Authorization", "Bearer "+pa)
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 201 || !strings.Contains(string(b), `"rows":2`) {
				t.Errorf("upload: %d %s", resp.StatusCode, b)
			}
			big := httptest.NewRequest("POST", "/api/v1/datasets/bus-lines/versions?filename=big.csv", strings.NewReader(strings.Repeat("x", 65<<10)))
			big.Header.Set("Authorization", "Bearer "+pa)
			resp, err = app.Test(big, -1)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 413 {
				t.Errorf("upload over the limit: %d, want 413", resp.StatusCode)
			}
			other := httptest.NewRequest("POST", "/api/v1/datasets/bus-lines/versions?filename=x.csv", strings.NewReader("a\n1\n"))
			other.Header.Set("Authorization", "Bearer "+pb)
			if resp, _ := app.Test(other, -1); resp.StatusCode != 403 {
				t.Errorf("upload by another agency: %d, want 403", resp.StatusCode)
			}
		})
		t.Run("import", func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v1/agencies/agency-a/open-list/import?filename=list.csv", strings.NewReader("数据名称,开放类型\n路灯,无条件开放\n,有条件开放\n"))
			req.Header.Set("Authorization", "Bearer "+pa)
			resp, _ := app.Test(req, -1)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || !strings.Contains(string(b), `"row":2`) {
				t.Errorf("bad import: %d %s", resp.StatusCode, b)
			}
		})
		t.Run("tokens", func(t *testing.T) {
			st, m, _ := call(t, app, "POST", "/api/v1/me/tokens", pa, `{"name":"ci","expires_in_days":7}`)
			if st != 201 {
				t.Fatalf("create token: %d %v", st, m)
			}
			tok := m["token"].(string)
			id := m["token_info"].(map[string]any)["id"].(string)
			if st, _, _ := call(t, app, "DELETE", "/api/v1/me/tokens/"+id, pb, ""); st != 404 {
				t.Errorf("revoking another's token: %d", st)
			}
			if st, _, _ := call(t, app, "DELETE", "/api/v1/me/tokens/"+id, pa, ""); st != 204 {
				t.Errorf("revoke: %d", st)
			}
			if st, _, _ := call(t, app, "GET", "/api/v1/me", tok, ""); st != 401 {
				t.Errorf("revoked token still works: %d", st)
			}
		})
		t.Run("login throttle", func(t *testing.T) {
			var st int
			var h http.Header
			for range portal.LoginFailureLimit + 1 {
				st, _, h = call(t, app, "POST", "/api/v1/login", "", `{"email":"pb@x.org","password":"wrong wrong wrong"}`)
			}
			if st != 429 || h.Get("Retry-After") == "" {
				t.Errorf("after %d failures: %d retry-after %q", portal.LoginFailureLimit+1, st, h.Get("Retry-After"))
			}
		})
	})
}
