package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/search"
	"kaifang/datasets/sqlstore"
	"kaifang/portal"
	"kaifang/web"
)

// fixture is a site on real embedded stores: SQLite and bleve in a temp dir.
type fixture struct {
	app *fiber.App
	db  *sqlstore.Store
	svc *portal.Service
}

func MustSite(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "kaifang.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	idx, err := search.Open(ctx, "bleve://"+filepath.Join(dir, "index"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { idx.Close() })
	blobs := MustBlobs(tb, dir)
	svc := &portal.Service{Catalog: db, Rows: db, Blobs: blobs, Accounts: db, Access: db, Secret: []byte("test-secret-0123456789abcdef"), TempDir: dir}

	a := &datasets.Agency{Slug: "env-bureau", Name: "環境部", Description: "空氣品質監測"}
	MustOK(tb, db.CreateAgency(ctx, a))
	mk := func(slug, title string, class datasets.OpenClass, state datasets.State) *datasets.Dataset {
		d := &datasets.Dataset{
			Slug: slug, Title: title, Description: title + "的說明", Agency: a.Ref(), Category: datasets.Environment,
			OpenClass: class, Frequency: datasets.Monthly, Formats: []string{"csv"}, Tags: []string{"空氣"},
			AccessModes: []datasets.AccessMode{datasets.Bulk, datasets.Query}, State: state, Fields: []datasets.Field{},
		}
		if class != datasets.Open {
			d.Reason, d.LegalBasis = "含個人資料", "《個人資料保護法》"
		}
		MustOK(tb, db.CreateDataset(ctx, d, datasets.Change{Actor: "system", Action: "create"}))
		return d
	}
	open := mk("aqi", "空氣品質指標", datasets.Open, datasets.Published)
	mk("population", "分省年末常住人口", datasets.Conditional, datasets.Published)
	mk("secret-list", "機密名單", datasets.Closed, datasets.Draft)
	mk("draft-entry", "草稿條目", datasets.Open, datasets.Draft)

	f, err := os.Open("testdata/tw_moenv_aqi_hourly_aqx_p_432.csv")
	MustOK(tb, err)
	defer f.Close()
	v, err := svc.AddVersion(ctx, open.ID, portal.Upload{Body: f, Filename: "aqi.csv", Size: -1, Actor: "system"})
	MustOK(tb, err)
	if v.State != datasets.VersionReady {
		tb.Fatalf("version not ready: %s", v.Error)
	}
	open, err = db.Dataset(ctx, open.ID)
	MustOK(tb, err)
	open.Fields = v.Columns
	MustOK(tb, db.UpdateDataset(ctx, open, datasets.Change{Actor: "system", Action: "update"}))
	if _, err := search.NewIndexer(db, idx, nil).Sync(ctx); err != nil {
		tb.Fatal(err)
	}

	app := fiber.New()
	MustOK(tb, web.Register(app, web.Deps{Catalog: db, Rows: db, Index: idx, Portal: svc, Secret: []byte("web-test-secret-0123456789")}))
	return &fixture{app: app, db: db, svc: svc}
}

func MustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// client keeps cookies between requests, like a browser.
type client struct {
	tb      testing.TB
	app     *fiber.App
	cookies map[string]string
}

func (f *fixture) client(tb testing.TB) *client {
	return &client{tb: tb, app: f.app, cookies: map[string]string{}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.tb.Helper()
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.app.Test(req, -1)
	if err != nil {
		c.tb.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		c.cookies[ck.Name] = ck.Value
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) csrf(path string) string {
	c.tb.Helper()
	_, body := c.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.tb.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func TestSecurityHeaders(t *testing.T) {
	f := MustSite(t)
	c := f.client(t)
	for _, path := range []string{"/", "/search?q=空氣", "/datasets/aqi", "/agencies/env-bureau", "/login", "/datasets/no-such-entry"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := c.get(path)
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP = %q, want script-src 'self' and no unsafe-*", csp)
			}
			if !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("framing not denied: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := resp.Header.Get("Referrer-Policy"); got == "" {
				t.Error("no Referrer-Policy")
			}
		})
	}
	t.Run("session cookie", func(t *testing.T) {
		resp, _ := f.client(t).get("/")
		var ck *http.Cookie
		for _, x := range resp.Cookies() {
			if x.Name == "kf_session" {
				ck = x
			}
		}
		if ck == nil {
			t.Fatal("no session cookie")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("session cookie HttpOnly=%v SameSite=%v", ck.HttpOnly, ck.SameSite)
		}
	})
	t.Run("hashed asset cached for a year", func(t *testing.T) {
		_, body := c.get("/")
		m := regexp.MustCompile(`href="(/static/app\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no hashed stylesheet link on the home page")
		}
		resp, css := c.get(m[1])
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(css, "focus-visible") {
			t.Errorf("asset: status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if resp, _ := c.get("/static/app.css"); resp.StatusCode != 404 {
			t.Errorf("unhashed asset name: status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("no inline script", func(t *testing.T) {
		_, body := c.get("/datasets/aqi")
		for _, m := range regexp.MustCompile(`<script([^>]*)>`).FindAllStringSubmatch(body, -1) {
			if !strings.Contains(m[1], "src=") && !strings.Contains(m[1], `type="application/`) {
				t.Errorf("inline executable script: <script%s>", m[1])
			}
		}
	})
}

func TestCSRF(t *testing.T) {
	f := MustSite(t)
	form := url.Values{"email": {"dev@example.org"}, "password": {"correct horse battery"}, "mode": {"login"}}
	t.Run("missing token is refused", func(t *testing.T) {
		c := f.client(t)
		c.get("/login")
		resp, body := c.post("/login", form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>") {
			t.Errorf("status %d, want 403 page", resp.StatusCode)
		}
	})
	t.Run("token of another session is refused", func(t *testing.T) {
		other := f.client(t).csrf("/login")
		c := f.client(t)
		c.get("/login")
		bad := url.Values{"_csrf": {other}}
		for k, v := range form {
			bad[k] = v
		}
		if resp, _ := c.post("/login", bad); resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("own token is accepted", func(t *testing.T) {
		c := f.client(t)
		ok := url.Values{"_csrf": {c.csrf("/login")}}
		for k, v := range form {
			ok[k] = v
		}
		// Unknown user: the portal's answer, not the CSRF refusal.
		resp, body := c.post("/login", ok)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `role="alert"`) {
			t.Errorf("status %d, want 401 with the form again", resp.StatusCode)
		}
	})
}

func TestRegisterLoginLogout(t *testing.T) {
	f := MustSite(t)
	c := f.client(t)
	form := url.Values{"_csrf": {c.csrf("/login?register=1")}, "mode": {"register"}, "name": {"王開發"},
		"email": {"wang@example.org"}, "password": {"a long enough password"}, "next": {"/developers"}}
	resp, _ := c.post("/login", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/developers" {
		t.Fatalf("register: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := c.get("/"); !strings.Contains(body, "王開發") {
		t.Error("home page does not show the signed-in user")
	}
	resp, _ = c.post("/logout", url.Values{"_csrf": {c.csrf("/")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
	if _, body := c.get("/"); strings.Contains(body, "王開發") {
		t.Error("still signed in after logout")
	}
	t.Run("off-site next is ignored", func(t *testing.T) {
		c := f.client(t)
		form := url.Values{"_csrf": {c.csrf("/login")}, "mode": {"login"}, "email": {"wang@example.org"},
			"password": {"a long enough password"}, "next": {"//evil.example/x"}}
		resp, _ := c.post("/login", form)
		if resp.Header.Get("Location") != "/" {
			t.Errorf("Location %q, want /", resp.Header.Get("Location"))
		}
	})
}

func TestLanguageSwitch(t *testing.T) {
	f := MustSite(t)
	cases := []struct{ lang, htmlLang, want, notWant string }{
		{"", "zh-Hant", "高價值領域", "High-value categories"},
		{"zh-Hans", "zh-Hans", "高价值领域", "高價值領域"},
		{"en", "en", "High-value categories", "高價值領域"},
	}
	for _, tc := range cases {
		t.Run("to "+tc.htmlLang, func(t *testing.T) {
			c := f.client(t)
			if tc.lang != "" {
				resp, _ := c.get("/lang?to=" + tc.lang + "&next=" + url.QueryEscape("/search?q=x"))
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/search?q=x" {
					t.Fatalf("switch: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
				}
			}
			_, body := c.get("/")
			if !strings.Contains(body, `<html lang="`+tc.htmlLang+`">`) {
				t.Errorf("html lang is not %s", tc.htmlLang)
			}
			if !strings.Contains(body, tc.want) || strings.Contains(body, tc.notWant) {
				t.Errorf("home page: want %q and not %q", tc.want, tc.notWant)
			}
		})
	}
	t.Run("unknown language keeps the default", func(t *testing.T) {
		c := f.client(t)
		c.get("/lang?to=xx&next=/")
		if _, body := c.get("/"); !strings.Contains(body, `<html lang="zh-Hant">`) {
			t.Error("default language lost")
		}
	})
	t.Run("off-site next goes home", func(t *testing.T) {
		resp, _ := f.client(t).get("/lang?to=en&next=" + url.QueryEscape("https://evil.example/"))
		if resp.Header.Get("Location") != "/" {
			t.Errorf("Location %q, want /", resp.Header.Get("Location"))
		}
	})
}

func TestNonPublicEntriesAre404(t *testing.T) {
	f := MustSite(t)
	c := f.client(t)
	for _, tc := range []struct{ name, path, title string }{
		{"closed", "/datasets/secret-list", "機密名單"},
		{"closed api page", "/datasets/secret-list/api", "機密名單"},
		{"draft", "/datasets/draft-entry", "草稿條目"},
		{"missing", "/datasets/no-such-entry", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.get(tc.path)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status %d, want 404", resp.StatusCode)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "找不到頁面") {
				t.Errorf("not the HTML error page: %s", resp.Header.Get("Content-Type"))
			}
			if tc.title != "" && strings.Contains(body, tc.title) {
				t.Error("the page shows the entry's title")
			}
		})
	}
	t.Run("not in search or agency list", func(t *testing.T) {
		for _, p := range []string{"/search?q=機密", "/search?q=草稿", "/agencies/env-bureau", "/"} {
			if _, body := c.get(p); strings.Contains(body, "機密名單") || strings.Contains(body, "草稿條目") {
				t.Errorf("%s lists a non-public entry", p)
			}
		}
	})
}

var ldRE = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

func TestDatasetPage(t *testing.T) {
	f := MustSite(t)
	c := f.client(t)
	t.Run("open entry", func(t *testing.T) {
		resp, body := c.get("/datasets/aqi")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		m := ldRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no JSON-LD")
		}
		var ld map[string]any
		if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
			t.Fatalf("JSON-LD does not parse: %v\n%s", err, m[1])
		}
		if ld["@type"] != "Dataset" || ld["name"] != "空氣品質指標" || ld["@context"] != "https://schema.org" {
			t.Errorf("JSON-LD: %v", ld)
		}
		dist, _ := ld["distribution"].([]any)
		if len(dist) == 0 || !strings.Contains(dist[0].(map[string]any)["contentUrl"].(string), "/api/v1/datasets/aqi/download?format=csv") {
			t.Errorf("JSON-LD distribution: %v", ld["distribution"])
		}
		for _, want := range []string{
			`href="/api/v1/datasets/aqi/download?format=csv"`, // download button
			"基隆",              // first row of the preview
			`id="chart-data"`, // chart data block
			"SiteName",        // a field of the schema
			"無條件開放",           // class badge
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	t.Run("conditional entry offers apply, not data", func(t *testing.T) {
		_, body := c.get("/datasets/population")
		if !strings.Contains(body, `href="/datasets/population/apply"`) {
			t.Error("no apply button")
		}
		if strings.Contains(body, "/download?") || strings.Contains(body, `id="chart-data"`) {
			t.Error("conditional entry offers downloads or data")
		}
		if m := ldRE.FindStringSubmatch(body); m == nil || !json.Valid([]byte(m[1])) {
			t.Error("no valid JSON-LD")
		}
	})
	t.Run("apply needs sign-in", func(t *testing.T) {
		resp, _ := c.get("/datasets/population/apply")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("api page has examples with a key placeholder", func(t *testing.T) {
		_, body := c.get("/datasets/population/api")
		if !strings.Contains(body, "YOUR_API_KEY") || !strings.Contains(body, "import requests") || !strings.Contains(body, "fetch(") {
			t.Error("examples missing")
		}
	})
}

func TestSearchPage(t *testing.T) {
	f := MustSite(t)
	c := f.client(t)
	_, body := c.get("/search?q=" + url.QueryEscape("空气")) // simplified query, traditional title
	if !strings.Contains(body, `href="/datasets/aqi"`) {
		t.Fatal("the AQI entry is not found for 空气")
	}
	if !strings.Contains(body, "<mark>") {
		t.Error("no highlight")
	}
	if !strings.Contains(body, "/search?category=environment") && !strings.Contains(body, "category=environment") {
		t.Error("no category facet link")
	}
	_, body = c.get("/search?open_class=conditional")
	if !strings.Contains(body, `href="/datasets/population"`) || strings.Contains(body, `href="/datasets/aqi"`) {
		t.Error("open_class facet does not filter")
	}
	resp, _ := c.get("/search?open_class=closed")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("closed class filter: status %d, want 400", resp.StatusCode)
	}
}

func TestAgencyPage(t *testing.T) {
	f := MustSite(t)
	resp, body := f.client(t).get("/agencies/env-bureau")
	if resp.StatusCode != 200 || !strings.Contains(body, "空氣品質指標") || !strings.Contains(body, "分省年末常住人口") {
		t.Errorf("status %d; open list incomplete", resp.StatusCode)
	}
	if resp, _ := f.client(t).get("/agencies/nobody"); resp.StatusCode != 404 {
		t.Errorf("unknown agency: status %d", resp.StatusCode)
	}
}

func MustBlobs(tb testing.TB, dir string) datasets.Blobs {
	tb.Helper()
	b, err := blob.OpenLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}
