package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/portal"
)

const rolePassword = "role-test-password-2026"

// MustUser adds a user with a role (bound to agency for publishers and
// reviewers) and returns a client signed in as them.
func (f *fixture) MustUser(tb testing.TB, role datasets.Role, agency, email string) *client {
	tb.Helper()
	if _, err := f.svc.AddUser(context.Background(), role, agency, email, string(role)+" 測試", rolePassword); err != nil {
		tb.Fatal(err)
	}
	c := f.client(tb)
	form := url.Values{"_csrf": {c.csrf("/login")}, "mode": {"login"}, "email": {email}, "password": {rolePassword}, "next": {"/"}}
	if resp, body := c.post("/login", form); resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("sign in %s: status %d\n%s", email, resp.StatusCode, body)
	}
	return c
}

func MustAgency(tb testing.TB, f *fixture, slug, name string) {
	tb.Helper()
	MustOK(tb, f.db.CreateAgency(context.Background(), &datasets.Agency{Slug: slug, Name: name}))
}

func TestRolePagesAreGated(t *testing.T) {
	f := MustSite(t)
	MustAgency(t, f, "other-bureau", "其他局")
	dev := f.MustUser(t, datasets.RoleDeveloper, "", "dev@example.org")
	pub := f.MustUser(t, datasets.RolePublisher, "env-bureau", "pub@example.org")
	otherPub := f.MustUser(t, datasets.RolePublisher, "other-bureau", "pub2@example.org")
	rev := f.MustUser(t, datasets.RoleReviewer, "env-bureau", "rev@example.org")
	admin := f.MustUser(t, datasets.RoleAdmin, "", "admin@example.org")

	for _, tc := range []struct {
		name string
		c    *client
		path string
		want int
	}{
		{"developer is refused the reviewer queue", dev, "/review/applications", http.StatusForbidden},
		{"developer is refused the opening review", dev, "/review/entries", http.StatusForbidden},
		{"developer is refused the publisher list", dev, "/publish", http.StatusForbidden},
		{"developer is refused the admin overview", dev, "/admin", http.StatusForbidden},
		{"publisher is refused the reviewer queue", pub, "/review/applications", http.StatusForbidden},
		{"reviewer is refused the admin users", rev, "/admin/users", http.StatusForbidden},
		{"publisher of another agency is refused this list", otherPub, "/publish?agency=env-bureau", http.StatusForbidden},
		{"developer sees their keys", dev, "/account/keys", http.StatusOK},
		{"developer sees their applications", dev, "/account/applications", http.StatusOK},
		{"developer sees usage", dev, "/account/usage", http.StatusOK},
		{"publisher sees their list", pub, "/publish", http.StatusOK},
		{"reviewer sees the queue", rev, "/review/applications", http.StatusOK},
		{"reviewer sees the opening review", rev, "/review/entries", http.StatusOK},
		{"admin sees the overview", admin, "/admin", http.StatusOK},
		{"admin sees users", admin, "/admin/users", http.StatusOK},
		{"admin sees any agency's list", admin, "/publish?agency=env-bureau", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.c.get(tc.path)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if !strings.Contains(body, "<h1>") {
				t.Error("no page heading")
			}
		})
	}
	t.Run("signed-out visitor is sent to sign in", func(t *testing.T) {
		resp, _ := f.client(t).get("/account/keys")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("publisher's list shows closed entries of their own agency only", func(t *testing.T) {
		_, body := pub.get("/publish")
		if !strings.Contains(body, "機密名單") || !strings.Contains(body, "草稿條目") {
			t.Error("own closed and draft entries missing")
		}
		_, body = otherPub.get("/publish")
		if strings.Contains(body, "機密名單") || strings.Contains(body, "空氣品質指標") {
			t.Error("another agency's entries shown")
		}
	})
	t.Run("navigation follows the role", func(t *testing.T) {
		if _, body := pub.get("/"); !strings.Contains(body, `href="/publish"`) || strings.Contains(body, `href="/admin"`) {
			t.Error("publisher navigation")
		}
		if _, body := rev.get("/"); !strings.Contains(body, `href="/review/applications"`) || strings.Contains(body, `href="/publish"`) {
			t.Error("reviewer navigation")
		}
	})
}

func TestRoleFormsNeedCSRF(t *testing.T) {
	f := MustSite(t)
	dev := f.MustUser(t, datasets.RoleDeveloper, "", "dev@example.org")
	pub := f.MustUser(t, datasets.RolePublisher, "env-bureau", "pub@example.org")
	rev := f.MustUser(t, datasets.RoleReviewer, "env-bureau", "rev@example.org")
	admin := f.MustUser(t, datasets.RoleAdmin, "", "admin@example.org")
	for _, tc := range []struct {
		name string
		c    *client
		path string
		form url.Values
	}{
		{"apply", dev, "/datasets/population/apply", url.Values{"scenario": {"x"}, "purpose": {"y"}}},
		{"create key", dev, "/account/keys", url.Values{"name": {"k"}}},
		{"revoke key", dev, "/account/keys/x/revoke", nil},
		{"withdraw application", dev, "/account/applications/x/withdraw", nil},
		{"new entry", pub, "/publish/new", url.Values{"title": {"新條目"}}},
		{"decide", rev, "/review/applications/x", url.Values{"decision": {"reject"}, "reason": {"no"}}},
		{"entry review", rev, "/review/entries/x", url.Values{"decision": {"reject"}}},
		{"add user", admin, "/admin/users", url.Values{"email": {"x@example.org"}, "role": {"developer"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp, _ := tc.c.post(tc.path, tc.form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("without token: status %d, want 403", resp.StatusCode)
			}
		})
	}
	t.Run("new entry with token is created and shows Validate problems next to fields", func(t *testing.T) {
		form := url.Values{"_csrf": {pub.csrf("/publish/new")}, "title": {""}, "category": {"environment"},
			"open_class": {"conditional"}, "frequency": {"monthly"}}
		resp, body := pub.post("/publish/new", form)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want a refusal", resp.StatusCode)
		}
		if !strings.Contains(body, `id="e-legal_basis-err"`) {
			t.Error("legal basis problem not shown next to its field")
		}
		form.Set("title", "新的空氣條目")
		form.Set("legal_basis", "《個人資料保護法》")
		form.Set("reason", "含個人資料")
		resp, _ = pub.post("/publish/new", form)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/publish/entries/") {
			t.Fatalf("create: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body := pub.get("/publish"); !strings.Contains(body, "新的空氣條目") {
			t.Error("new entry not on the list")
		}
	})
}

func TestImportShowsEveryBadRow(t *testing.T) {
	f := MustSite(t)
	pub := f.MustUser(t, datasets.RolePublisher, "env-bureau", "pub@example.org")
	list := "title,category,open_class,frequency\n好條目,environment,open,monthly\n壞條目一,environment,sometimes,monthly\n壞條目二,environment,maybe,monthly\n"
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	MustOK(t, mw.WriteField("_csrf", pub.csrf("/publish")))
	fw, err := mw.CreateFormFile("file", "list.csv")
	MustOK(t, err)
	fw.Write([]byte(list))
	MustOK(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/publish/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, body := pub.do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`<td class="num">2</td>`, `<td class="num">3</td>`, "sometimes", "maybe"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(body, "好條目") {
		t.Error("an all-or-nothing import wrote the good row")
	}
}

// A developer withdraws a submitted application from their applications
// page; another developer cannot withdraw it, and a decided one offers no
// button.
func TestDeveloperWithdrawsAnApplication(t *testing.T) {
	f := MustSite(t)
	dev := f.MustUser(t, datasets.RoleDeveloper, "", "dev@example.org")
	other := f.MustUser(t, datasets.RoleDeveloper, "", "other@example.org")
	ctx := context.Background()
	u, err := f.db.UserByEmail(ctx, "dev@example.org")
	MustOK(t, err)
	d, err := f.db.Dataset(ctx, "population")
	MustOK(t, err)
	d.Fields = []datasets.Field{{Name: "地区", Type: datasets.TypeText}}
	MustOK(t, f.db.UpdateDataset(ctx, d, datasets.Change{Actor: "test", Summary: "fields"}))
	a, err := f.svc.Apply(ctx, u, portal.ApplyInput{Scenario: "人口研究", Purpose: "統計分析", Volume: "100/day",
		Requests: []datasets.AccessRequest{{DatasetID: d.ID, Fields: []string{"地区"}, Modes: []datasets.AccessMode{datasets.Query}}},
		From:     time.Now(), To: time.Now().AddDate(0, 6, 0)})
	MustOK(t, err)
	action := "/account/applications/" + a.ID + "/withdraw"
	_, body := dev.get("/account/applications")
	if !strings.Contains(body, `action="`+action+`"`) {
		t.Fatalf("no withdraw form for the submitted application:\n%s", body)
	}
	if resp, _ := other.post(action, url.Values{"_csrf": {other.csrf("/account/applications")}}); resp.StatusCode < 400 {
		t.Fatalf("another developer withdrew it: status %d", resp.StatusCode)
	}
	resp, _ := dev.post(action, url.Values{"_csrf": {dev.csrf("/account/applications")}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/applications?withdrawn=1" {
		t.Fatalf("withdraw: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	got, err := f.db.Application(ctx, a.ID)
	MustOK(t, err)
	if got.State != datasets.AppWithdrawn {
		t.Fatalf("application is %s, want withdrawn", got.State)
	}
	if _, body := dev.get("/account/applications?withdrawn=1"); strings.Contains(body, `action="`+action+`"`) {
		t.Error("a withdrawn application still offers the button")
	}
}
