package gateway

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// withPortal mounts the portal and access APIs on the env's own store, with
// a KeyAuthorizer as the gateway's Authorizer, and hands the service back.
func withPortal(svc **portal.Service) envOpt {
	return func(d *Deps) {
		st := d.Catalog.(interface {
			datasets.Catalog
			datasets.Rows
			datasets.Accounts
			datasets.Access
		})
		s := &portal.Service{Catalog: st, Rows: st, Blobs: d.Blobs, Accounts: st, Access: st,
			Secret: []byte("gateway test secret, 32 bytes!!")}
		*svc = s
		d.Portal = s
		d.Authorizer = NewKeyAuthorizer(s, memory.NewStore())
	}
}

// secrets are the values of one entry's marked row that must never leave
// without a key granted for that entry.
type secrets struct{ name, id string }

func (s secrets) in(body []byte) string {
	for _, v := range []string{s.name, s.id} {
		if bytes.Contains(body, []byte(v)) {
			return v
		}
	}
	return ""
}

var (
	openSecret   = secrets{"王開放", "11010119700101001X"}
	condSecret   = secrets{"趙條件", "11010519491231002X"}
	closedSecret = secrets{"錢非開", "44030519851212003X"}
	// condMasked is condSecret.id under MaskIDCard: what a valid key sees.
	condMasked = "110105********002X"
)

// MustPeopleEntry adds an entry of class with the people fixture, its
// marked row carrying sec, open for every access mode.
func MustPeopleEntry(tb testing.TB, e *env, slug string, class datasets.OpenClass, sec secrets) *datasets.Dataset {
	tb.Helper()
	d := MustDataset(tb, e, slug, "居民測試 "+slug, class)
	d.AccessModes = []datasets.AccessMode{datasets.Verify, datasets.Query, datasets.Bulk}
	if err := e.store.UpdateDataset(context.Background(), d, datasets.Change{Actor: "system", Action: "update"}); err != nil {
		tb.Fatalf("UpdateDataset: %v", err)
	}
	csv := strings.NewReplacer("{{NAME}}", sec.name, "{{ID}}", sec.id).Replace(string(MustRead(tb, "testdata/people.csv")))
	MustVersion(tb, e, d, "people.csv", []byte(csv), true)
	got, err := e.store.Dataset(context.Background(), d.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// accessKeys are one key of every kind the table walks.
type accessKeys map[string]string

// MustAccessKeys approves, for cond, every mode on every field with the
// name and ID card masked, and makes the keys: valid, wrong-scope (a grant
// for another entry), expired, revoked and unknown.
func MustAccessKeys(tb testing.TB, e *env, svc *portal.Service, cond, other *datasets.Dataset) accessKeys {
	tb.Helper()
	ctx := context.Background()
	dev := &datasets.User{ID: "dev-table", Role: datasets.RoleDeveloper}
	now := time.Now().UTC()
	key := func(d *datasets.Dataset, from, to time.Time) string {
		s, _ := MustTableKey(tb, e, svc, dev, d, from, to)
		return s
	}
	ks := accessKeys{"none": ""}
	ks["valid"] = key(cond, now.Add(-time.Hour), now.Add(24*time.Hour))
	ks["wrong-scope"] = key(other, now.Add(-time.Hour), now.Add(24*time.Hour))
	ks["revoked"] = key(cond, now.Add(-time.Hour), now.Add(24*time.Hour))
	ka, err := svc.AuthenticateKey(ctx, ks["revoked"])
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.RevokeKey(ctx, dev, ka.Key.ID); err != nil {
		tb.Fatal(err)
	}
	// Expired: issued while its grant was in force (the portal's clock is
	// set back for the issue), ended a day ago.
	svc.Now = func() time.Time { return now.Add(-48 * time.Hour) }
	ks["expired"] = key(cond, now.Add(-72*time.Hour), now.Add(-24*time.Hour))
	svc.Now = nil
	ks["unknown"] = "kf_" + strings.Repeat("a", 52)
	return ks
}

// MustTableKey approves, for d, every mode on every field with the name and
// ID card masked, for the period from–to, and returns a key of dev for it.
func MustTableKey(tb testing.TB, e *env, svc *portal.Service, dev *datasets.User, d *datasets.Dataset, from, to time.Time) (string, *datasets.APIKey) {
	tb.Helper()
	ctx := context.Background()
	all := []datasets.AccessMode{datasets.Verify, datasets.Query, datasets.Bulk}
	fields := []string{"name", "id_card", "district", "score"}
	a := &datasets.Application{ApplicantID: dev.ID, AgencyID: e.ag.ID, Scenario: "身份核驗", Purpose: "測試",
		Requests: []datasets.AccessRequest{{DatasetID: d.ID, Fields: fields, Modes: all}},
		From:     from, To: to, State: datasets.AppSubmitted, DueAt: time.Now().UTC()}
	if err := e.store.CreateApplication(ctx, a, datasets.ApplicationEvent{Actor: dev.ID, To: datasets.AppSubmitted}); err != nil {
		tb.Fatal(err)
	}
	a.State = datasets.AppApproved
	g := datasets.Grant{ApplicationID: a.ID, HolderID: dev.ID, AgencyID: e.ag.ID, DatasetID: d.ID, Fields: fields, Modes: all,
		Masks: map[string]datasets.MaskRule{"id_card": datasets.MaskIDCard, "name": datasets.MaskName},
		Rate:  10000, RatePeriod: datasets.PerMinute, Quota: 100000, QuotaPeriod: datasets.PerDay, From: from, To: to}
	if err := e.store.DecideApplication(ctx, a, datasets.AppSubmitted, datasets.ApplicationEvent{Actor: "rev"}, []datasets.Grant{g}); err != nil {
		tb.Fatal(err)
	}
	s, k, err := svc.CreateKey(ctx, dev, a.ID, "table")
	if err != nil {
		tb.Fatal(err)
	}
	return s, k
}

// route is one gateway data route of the table.
type route struct {
	name, method, path, body string // path after /api/v1/datasets/{slug}
	data                     bool   // serves rows (or answers about them): needs a grant on conditional entries
}

var tableRoutes = []route{
	{"records json", "GET", "/records?fields=name,id_card,district,score&format=json", "", true},
	{"records csv", "GET", "/records?fields=name,id_card,district,score&format=csv", "", true},
	{"records ndjson", "GET", "/records?fields=name,id_card,district,score&format=ndjson", "", true},
	{"download original", "GET", "/download", "", true},
	{"download csv", "GET", "/download?format=csv", "", true},
	{"download json", "GET", "/download?format=json", "", true},
	{"download xlsx", "GET", "/download?format=xlsx", "", true},
	{"verify", "POST", "/verify", `{"values":{"id_card":"{{ID}}"}}`, true},
	{"openapi", "GET", "/openapi.json", "", false},
	{"dataset", "GET", "", "", false},
	{"versions", "GET", "/versions", "", false},
}

// wantStatus is the access table:
//   - open entries answer 200 whatever key is sent: a key is ignored there,
//     since open data needs none and refusing it would only break clients
//     that send their key everywhere; nothing beyond the open data is shown;
//   - conditional entries show their metadata (entry, versions, API
//     document without examples) to anyone, and their data only to a key
//     with a grant in force: no key or an unknown key 401; a key for another
//     entry, expired or revoked 403; the valid key 200, except the original
//     file, which cannot carry the grant's masks (403);
//   - closed entries do not exist: 404 always.
func wantStatus(class datasets.OpenClass, r route, kind string) int {
	switch class {
	case datasets.Open:
		return 200
	case datasets.Closed:
		return 404
	}
	if !r.data {
		return 200
	}
	switch kind {
	case "none", "unknown":
		return 401
	case "valid":
		if r.name == "download original" {
			return 403
		}
		return 200
	}
	return 403
}

// readable returns body with any zip (XLSX) unpacked, so that a search for
// a value sees the cells and not compressed bytes.
func readable(tb testing.TB, body []byte) []byte {
	tb.Helper()
	if !bytes.HasPrefix(body, []byte("PK\x03\x04")) {
		return body
	}
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		tb.Fatalf("a zip body that does not open: %v", err)
	}
	var out bytes.Buffer
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		io.Copy(&out, r)
		r.Close()
	}
	return out.Bytes()
}

func TestAccessTable(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, dbURL string) {
		var svc *portal.Service
		// The table sends more than one address may per minute; the limits
		// are not what it tests.
		lots := limiter.Rate{Period: time.Minute, Limit: 10000}
		e := MustEnv(t, dbURL, blobtest.MustOpenLocal(t), withPortal(&svc),
			withRateStore(memory.NewStore(), Limits{Downloads: lots, Records: lots, Search: lots, Default: lots}))
		open := MustPeopleEntry(t, e, "people-open", datasets.Open, openSecret)
		cond := MustPeopleEntry(t, e, "people-cond", datasets.Conditional, condSecret)
		closed := MustPeopleEntry(t, e, "people-closed", datasets.Closed, closedSecret)
		other := MustPeopleEntry(t, e, "people-other", datasets.Conditional, secrets{"鄭別的", "11010619800808004X"})
		keys := MustAccessKeys(t, e, svc, cond, other)

		entries := []struct {
			d   *datasets.Dataset
			sec secrets
		}{{open, openSecret}, {cond, condSecret}, {closed, closedSecret}}
		for _, en := range entries {
			for _, r := range tableRoutes {
				for _, kind := range []string{"none", "unknown", "wrong-scope", "expired", "revoked", "valid"} {
					t.Run(string(en.d.OpenClass)+"/"+r.name+"/"+kind, func(t *testing.T) {
						var body io.Reader
						if r.body != "" {
							body = strings.NewReader(strings.ReplaceAll(r.body, "{{ID}}", en.sec.id))
						}
						req, err := http.NewRequest(r.method, e.url+"/api/v1/datasets/"+en.d.Slug+r.path, body)
						if err != nil {
							t.Fatal(err)
						}
						if r.body != "" {
							req.Header.Set("Content-Type", "application/json")
						}
						if k := keys[kind]; k != "" {
							// Both ways of sending a key, alternately.
							if len(r.name)%2 == 0 {
								req.Header.Set("X-API-Key", k)
							} else {
								req.Header.Set("Authorization", "Bearer "+k)
							}
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						raw, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						if err != nil {
							t.Fatal(err)
						}
						want := wantStatus(en.d.OpenClass, r, kind)
						if resp.StatusCode != want {
							t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, want, raw)
						}
						if want >= 400 {
							if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
								t.Errorf("a refusal with content type %q", ct)
							}
						}
						got := readable(t, raw)
						// Nothing of the closed entry leaves, ever; nothing of
						// the conditional one without the valid key; with it,
						// only masked.
						if v := closedSecret.in(got); v != "" {
							t.Fatalf("the closed entry's %q is in the body", v)
						}
						if v := condSecret.in(got); v != "" {
							t.Fatalf("the conditional entry's raw %q is in the body (key %s)", v, kind)
						}
						if en.d.OpenClass == datasets.Conditional && kind == "valid" && want == 200 &&
							(strings.HasPrefix(r.name, "records") || strings.HasPrefix(r.name, "download")) {
							if !bytes.Contains(got, []byte(condMasked)) || !bytes.Contains(got, []byte("趙**")) {
								t.Fatalf("the valid key does not get the masked row: %.400s", got)
							}
							if cc := resp.Header.Get("Cache-Control"); strings.HasPrefix(r.name, "download") && !strings.Contains(cc, "private") {
								t.Errorf("conditional download is cacheable by shared caches: %q", cc)
							}
						}
						if en.d.OpenClass == datasets.Open && want == 200 && r.data && r.name != "verify" {
							if v := openSecret.in(got); v == "" {
								t.Fatalf("the open entry's row is missing: %.300s", got)
							}
						}
						if r.name == "verify" && want == 200 && !strings.Contains(string(got), `"match":true`) {
							t.Fatalf("verify of the marked row: %s", got)
						}
					})
				}
			}
		}

		t.Run("every admitted and refused keyed use is audited", func(t *testing.T) {
			n, err := svc.VerifyAudit(context.Background())
			if err != nil {
				t.Fatalf("VerifyAudit: %v", err)
			}
			// Per conditional data route: valid, wrong-scope, expired and
			// revoked are known keys (8 routes × 4).
			if n < 32 {
				t.Fatalf("%d audit records, want at least 32", n)
			}
		})
	})
}

// A gateway caches keys; a key revoked in the store directly, as another
// gateway process does, is still refused on its next request on every data
// route, with nothing of the rows, masked or not, in the answer. So are
// keys whose application or grant was revoked behind the cache's back.
func TestRevokedBehindTheCache(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		var svc *portal.Service
		lots := limiter.Rate{Period: time.Minute, Limit: 10000}
		e := MustEnv(t, dbURL, blobtest.MustOpenLocal(t), withPortal(&svc),
			withRateStore(memory.NewStore(), Limits{Downloads: lots, Records: lots, Search: lots, Default: lots}))
		cond := MustPeopleEntry(t, e, "people-cond", datasets.Conditional, condSecret)
		dev := &datasets.User{ID: "dev-cache", Role: datasets.RoleDeveloper}
		now := time.Now().UTC()
		for _, how := range []struct {
			name   string
			revoke func(t *testing.T, k *datasets.APIKey)
		}{
			{"key", func(t *testing.T, k *datasets.APIKey) {
				if err := e.store.RevokeKey(ctx, k.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}},
			{"application", func(t *testing.T, k *datasets.APIKey) {
				a, err := e.store.Application(ctx, k.ApplicationID)
				if err != nil {
					t.Fatal(err)
				}
				a.State = datasets.AppRevoked
				if err := e.store.DecideApplication(ctx, a, datasets.AppApproved, datasets.ApplicationEvent{Actor: "other process"}, nil); err != nil {
					t.Fatal(err)
				}
			}},
			{"grant", func(t *testing.T, k *datasets.APIKey) {
				if err := e.store.RevokeGrants(ctx, k.ApplicationID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(how.name, func(t *testing.T) {
				secret, k := MustTableKey(t, e, svc, dev, cond, now.Add(-time.Hour), now.Add(24*time.Hour))
				get := func(r route) (*http.Response, []byte) {
					var body io.Reader
					if r.body != "" {
						body = strings.NewReader(strings.ReplaceAll(r.body, "{{ID}}", condSecret.id))
					}
					req, _ := http.NewRequest(r.method, e.url+"/api/v1/datasets/"+cond.Slug+r.path, body)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-API-Key", secret)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					return resp, readable(t, raw)
				}
				// Served, and now cached.
				if resp, body := get(tableRoutes[0]); resp.StatusCode != 200 || !bytes.Contains(body, []byte(condMasked)) {
					t.Fatalf("before the revocation: status %d: %.300s", resp.StatusCode, body)
				}
				how.revoke(t, k)
				for _, r := range tableRoutes {
					if !r.data {
						continue
					}
					resp, body := get(r)
					if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/problem+json" {
						t.Fatalf("%s after the revocation: status %d %s: %.300s", r.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
					}
					for _, v := range []string{condSecret.name, condSecret.id, condMasked, "趙**", "district"} {
						if bytes.Contains(body, []byte(v)) {
							t.Fatalf("%s after the revocation: %q in the refusal: %s", r.name, v, body)
						}
					}
				}
				recs, err := e.store.AuditRecords(ctx, 0, 10000)
				if err != nil {
					t.Fatal(err)
				}
				var mine []datasets.AuditRecord
				for _, r := range recs {
					if r.KeyID == k.ID {
						mine = append(mine, r)
					}
				}
				if len(mine) < 2 || mine[0].Status != 200 || mine[1].Status != 403 || mine[1].Rows != 0 {
					t.Fatalf("audit records of the key: %+v; want 200, then the refused use as 403 with no rows", mine)
				}
				if _, err := svc.VerifyAudit(ctx); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}
