package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// withKeys wires a KeyAuthorizer over the env's own store into the gateway
// and hands the portal service back through svc.
func withKeys(svc **portal.Service, store limiter.Store) envOpt {
	return func(d *Deps) {
		st := d.Catalog.(*sqlstore.Store)
		s := &portal.Service{Catalog: st, Rows: st, Access: st, Secret: []byte("gateway test secret, 32 bytes!!")}
		*svc = s
		d.Authorizer = NewKeyAuthorizer(s, store)
	}
}

// keySet holds one key of each kind for the conditional entry.
type keySet struct{ valid, wrongScope, expired, revoked string }

// mustApprove approves an application of dev for e.cond (SiteName and AQI,
// SiteName hashed) in modes from from to to, with a rate a minute and a
// quota a day.
// mustQueryKey approves a query grant for dev, valid from an hour ago for a
// day, with rate and quota, and returns a new key of it.
func mustQueryKey(tb testing.TB, e *env, svc *portal.Service, dev *datasets.User, rate, quota int64) string {
	tb.Helper()
	now := time.Now().UTC()
	a := mustApprove(tb, e, dev, []datasets.AccessMode{datasets.Query}, now.Add(-time.Hour), now.Add(24*time.Hour), rate, quota)
	s, _, err := svc.CreateKey(context.Background(), dev, a.ID, "k")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustApprove(tb testing.TB, e *env, dev *datasets.User, modes []datasets.AccessMode, from, to time.Time, rate, quota int64) *datasets.Application {
	tb.Helper()
	ctx := context.Background()
	a := &datasets.Application{ApplicantID: dev.ID, AgencyID: e.ag.ID, Scenario: "test", Purpose: "test",
		Requests: []datasets.AccessRequest{{DatasetID: e.cond.ID, Fields: []string{"SiteName", "AQI"}, Modes: modes}},
		From:     from, To: to, State: datasets.AppSubmitted, DueAt: time.Now().UTC()}
	if err := e.store.CreateApplication(ctx, a, datasets.ApplicationEvent{Actor: dev.ID, To: datasets.AppSubmitted}); err != nil {
		tb.Fatal(err)
	}
	a.State = datasets.AppApproved
	g := datasets.Grant{ApplicationID: a.ID, HolderID: dev.ID, AgencyID: e.ag.ID, DatasetID: e.cond.ID,
		Fields: []string{"SiteName", "AQI"}, Modes: modes, Masks: map[string]datasets.MaskRule{"SiteName": datasets.MaskHash},
		Rate: rate, RatePeriod: datasets.PerMinute, Quota: quota, QuotaPeriod: datasets.PerDay, From: a.From, To: to}
	if err := e.store.DecideApplication(ctx, a, datasets.AppSubmitted, datasets.ApplicationEvent{Actor: "rev"}, []datasets.Grant{g}); err != nil {
		tb.Fatal(err)
	}
	return a
}

// MustKeys approves an application for e.cond (query on SiteName and AQI,
// SiteName hashed) with the given rate, and makes the keys of every case.
func MustKeys(tb testing.TB, e *env, svc *portal.Service, rate int64) keySet {
	tb.Helper()
	ctx := context.Background()
	dev := &datasets.User{ID: "dev-1", Role: datasets.RoleDeveloper}
	now := time.Now().UTC()
	approve := func(modes []datasets.AccessMode, to time.Time) *datasets.Application {
		return mustApprove(tb, e, dev, modes, now.Add(-time.Hour), to, rate, 100000)
	}
	key := func(a *datasets.Application) string {
		s, _, err := svc.CreateKey(ctx, dev, a.ID, "k")
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	var ks keySet
	ks.valid = key(approve([]datasets.AccessMode{datasets.Query}, now.Add(24*time.Hour)))
	ks.wrongScope = key(approve([]datasets.AccessMode{datasets.Bulk}, now.Add(24*time.Hour)))
	ks.revoked = key(approve([]datasets.AccessMode{datasets.Query}, now.Add(24*time.Hour)))
	k, err := svc.AuthenticateKey(ctx, ks.revoked)
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.RevokeKey(ctx, dev, k.Key.ID); err != nil {
		tb.Fatal(err)
	}
	// Expired: a key whose grant ended a second ago.
	exp := approve([]datasets.AccessMode{datasets.Query}, now.Add(2*time.Second))
	ks.expired = key(exp)
	svc.Now = func() time.Time { return time.Now().Add(3 * time.Second) } // the portal's clock runs past it
	return ks
}

func TestConditionalRecordsByKey(t *testing.T) {
	var svc *portal.Service
	e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withKeys(&svc, memory.NewStore()))
	ks := MustKeys(t, e, svc, 1000)
	for _, tc := range []struct {
		name, slug, header, key string
		want                    int
	}{
		{"open without key", e.open.Slug, "", "", 200},
		{"conditional without key", e.cond.Slug, "", "", 401},
		{"conditional unknown key", e.cond.Slug, "X-API-Key", "kf_nosuchkey", 401},
		{"conditional wrong scope", e.cond.Slug, "X-API-Key", ks.wrongScope, 403},
		{"conditional expired", e.cond.Slug, "Authorization", "Bearer " + ks.expired, 403},
		{"conditional revoked", e.cond.Slug, "X-API-Key", ks.revoked, 403},
		{"conditional valid", e.cond.Slug, "Authorization", "Bearer " + ks.valid, 200},
		{"closed valid key", e.closed.Slug, "X-API-Key", ks.valid, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := "?fields=SiteName,AQI"
			var h []string
			if tc.header != "" {
				h = []string{tc.header, tc.key}
			}
			resp, body := MustGet(t, e.url+"/api/v1/datasets/"+tc.slug+"/records"+q, h...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want >= 400 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q", ct)
				}
				if strings.Contains(string(body), "基隆") {
					t.Errorf("a refused response carries row data: %s", body)
				}
			}
		})
	}
	t.Run("ungranted field is named", func(t *testing.T) {
		resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.cond.Slug+"/records?fields=SiteName,County", "X-API-Key", ks.valid)
		if resp.StatusCode != 403 || !strings.Contains(string(body), "County") || strings.Contains(string(body), "基隆") {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		resp, _ = MustGet(t, e.url+"/api/v1/datasets/"+e.cond.Slug+"/records?County=基隆市&fields=AQI", "X-API-Key", ks.valid)
		if resp.StatusCode != 403 {
			t.Fatalf("filtering on an ungranted field: status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("per-key headers", func(t *testing.T) {
		resp, _ := MustGet(t, e.url+"/api/v1/datasets/"+e.cond.Slug+"/records?fields=AQI", "X-API-Key", ks.valid)
		if p := resp.Header.Get("RateLimit-Policy"); !strings.Contains(p, `"key-rate";q=1000;w=60`) || !strings.Contains(p, `"key-quota";q=100000;w=86400`) {
			t.Errorf("RateLimit-Policy = %q", p)
		}
	})
	t.Run("every keyed request is in the audit chain", func(t *testing.T) {
		n, err := svc.VerifyAudit(context.Background())
		if err != nil || n < 6 {
			t.Fatalf("VerifyAudit = %d, %v; want the keyed requests recorded", n, err)
		}
		recs, _ := e.store.AuditRecords(context.Background(), 0, 100)
		var statuses []int
		for _, r := range recs {
			statuses = append(statuses, r.Status)
		}
		for _, want := range []int{200, 403} {
			if !containsInt(statuses, want) {
				t.Errorf("no audit record with status %d in %v", want, statuses)
			}
		}
	})
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestFilterPageAndAudit runs the enforcement pieces the records handler
// calls, on a bare fiber app with the gateway's error handler.
func TestFilterPageAndAudit(t *testing.T) {
	var svc *portal.Service
	e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withKeys(&svc, memory.NewStore()))
	ks := MustKeys(t, e, svc, 1000)
	auth := NewKeyAuthorizer(svc, memory.NewStore())
	app := fiber.New(fiber.Config{ErrorHandler: ErrorHandler})
	app.Get("/r", auth.AuditMiddleware(), func(c *fiber.Ctx) error {
		if err := auth.Authorize(c, e.cond, datasets.Query); err != nil {
			return err
		}
		page := datasets.RowPage{
			Columns: []datasets.Column{{Name: "SiteName", Type: datasets.TypeText}, {Name: "County", Type: datasets.TypeText}, {Name: "AQI", Type: datasets.TypeInteger}},
			Rows:    [][]any{{"基隆", "基隆市", int64(57)}, {"汐止", "新北市", int64(40)}},
		}
		auth.FilterPage(c, &page)
		return c.JSON(page)
	})
	req, _ := http.NewRequest("GET", "/r?fields=SiteName,AQI", nil)
	req.Header.Set("X-API-Key", ks.valid)
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	var page datasets.RowPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(page)
	if len(page.Columns) != 2 || page.Columns[0].Name != "SiteName" || page.Columns[1].Name != "AQI" {
		t.Fatalf("columns %v, want SiteName, AQI only", page.Columns)
	}
	if strings.Contains(string(b), "基隆") || strings.Contains(string(b), "新北市") {
		t.Fatalf("ungranted or masked values left: %s", b)
	}
	// County sat between the granted columns: every row loses it and
	// keeps the rest in order (the rows are narrowed in place).
	for i, want := range []float64{57, 40} {
		if len(page.Rows[i]) != 2 || page.Rows[i][1] != want {
			t.Errorf("row %d is %v, want the masked name and AQI %v", i, page.Rows[i], want)
		}
	}
	recs, err := e.store.AuditRecords(context.Background(), 0, 1000)
	if err != nil || len(recs) == 0 {
		t.Fatal("no audit record", err)
	}
	last := recs[len(recs)-1]
	if last.Rows != 2 || last.Status != 200 || last.Mode != datasets.Query {
		t.Errorf("last audit record %+v, want 2 rows, 200, query", last)
	}
}

// TestKeyLimitAcrossGateways runs two gateways on one PostgreSQL and one
// Redis: 500 concurrent requests on a key allowed 100 a minute give exactly
// 100 successes, and a key revoked through one is refused by the other.
func TestKeyLimitAcrossGateways(t *testing.T) {
	redisURL := os.Getenv("KAIFANG_TEST_REDIS")
	if redisURL == "" {
		t.Skip("set KAIFANG_TEST_REDIS (e.g. redis://127.0.0.1:6379/0) to run the shared-limit test")
	}
	dbURL := sqltest.PostgresURL(t)
	prefix := "kt" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	sep := "?"
	if strings.Contains(redisURL, "?") {
		sep = "&"
	}
	mustRedis := func() limiter.Store {
		s, err := RedisStore(redisURL + sep + "prefix=" + prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	blobs := blobtest.MustOpenLocal(t)
	var svc1, svc2 *portal.Service
	e1 := MustEnv(t, dbURL, blobs, withKeys(&svc1, mustRedis()), withRateStore(mustRedis(), Limits{}))
	// The second gateway opens the same database (its fixture adds its own agency and entries).
	st2, err := sqlstore.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	svc2 = &portal.Service{Catalog: st2, Rows: st2, Access: st2, Secret: []byte("gateway test secret, 32 bytes!!")}
	srv2, err := New(Deps{Catalog: st2, Rows: st2, Blobs: blobs, Version: "test", RateStore: mustRedis(),
		Authorizer: NewKeyAuthorizer(svc2, mustRedis())})
	if err != nil {
		t.Fatal(err)
	}
	url2 := mustListen(t, srv2)
	ks := MustKeys(t, e1, svc1, 100)

	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			base := e1.url
			if i%2 == 1 {
				base = url2
			}
			req, _ := http.NewRequest("GET", base+"/api/v1/datasets/"+e1.cond.Slug+"/records?fields=AQI&limit=1", nil)
			req.Header.Set("X-API-Key", ks.valid)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 100 || limited.Load() != 400 {
		t.Fatalf("%d ok, %d limited, %d other; want exactly 100 ok and 400 limited", ok.Load(), limited.Load(), other.Load())
	}
	// Revoke through the first process's service; the second refuses at once.
	dev := &datasets.User{ID: "dev-1", Role: datasets.RoleDeveloper}
	ka, err := svc1.AuthenticateKey(context.Background(), ks.valid)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc1.RevokeKey(context.Background(), dev, ka.Key.ID); err != nil {
		t.Fatal(err)
	}
	resp, _ := MustGet(t, url2+"/api/v1/datasets/"+e1.cond.Slug+"/records?fields=AQI", "X-API-Key", ks.valid)
	if resp.StatusCode != 403 {
		t.Fatalf("revoked key on the other gateway: status %d, want 403", resp.StatusCode)
	}
	if n, err := svc2.VerifyAudit(context.Background()); err != nil || n < 501 {
		t.Fatalf("VerifyAudit after two gateways = %d, %v; want one unbroken chain of every request", n, err)
	}
}

func mustListen(tb testing.TB, srv *Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Listen(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// BenchmarkKeyedRecords measures one keyed records request end to end (key
// lookup, per-grant limit on the memory store, masking, audit) over real
// HTTP on each database. cpu-µs/op is the process's user+system CPU per
// request (client included; the PostgreSQL server's own CPU is not).
func BenchmarkKeyedRecords(b *testing.B) {
	for _, backend := range sqltest.Names {
		b.Run(backend, func(b *testing.B) {
			sqltest.Require(b, backend)
			var svc *portal.Service
			big := limiter.Rate{Period: time.Second, Limit: 1 << 40}
			e := MustEnv(b, sqltest.URL(b, backend), blobtest.MustOpenLocal(b), withKeys(&svc, memory.NewStore()),
				withRateStore(memory.NewStore(), Limits{Records: big, Default: big, Search: big, Downloads: big}))
			ks := MustKeys(b, e, svc, 1<<40)
			for _, tc := range []struct{ name, slug, key string }{{"keyed", e.cond.Slug, ks.valid}, {"open", e.open.Slug, ""}} {
				b.Run(tc.name, func(b *testing.B) {
					benchRecords(b, e.url+"/api/v1/datasets/"+tc.slug+"/records?fields=SiteName,AQI&limit=10", tc.key)
				})
			}
		})
	}
}

func benchRecords(b *testing.B, url, key string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func() {
		req, _ := http.NewRequest("GET", url, nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("status %d", resp.StatusCode)
		}
	}
	get()
	b.SetParallelism(8) // 8 × GOMAXPROCS concurrent requests
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			get()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A request with a key the gateway has admitted is limited by the key's
// grant, not by the caller's address; everything else — no key, a key
// nobody issued, a known key on an open entry or on an unknown one — still
// spends the address's allowance before any work is done.
func TestAdmittedKeysAreLimitedByTheirGrant(t *testing.T) {
	var svc *portal.Service
	e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withKeys(&svc, memory.NewStore()),
		withRateStore(memory.NewStore(), Limits{Records: limiter.Rate{Period: time.Minute, Limit: 3}}))
	ks := MustKeys(t, e, svc, 1000)
	get := func(slug, key string) int {
		t.Helper()
		var h []string
		if key != "" {
			h = []string{"X-API-Key", key}
		}
		resp, _ := MustGet(t, e.url+"/api/v1/datasets/"+slug+"/records?fields=SiteName,AQI&limit=1", h...)
		return resp.StatusCode
	}
	// The first use of the key is looked up, and limited by address (1 of 3).
	if s := get(e.cond.Slug, ks.valid); s != 200 {
		t.Fatalf("first keyed request: %d", s)
	}
	for i := range 10 {
		if s := get(e.cond.Slug, ks.valid); s != 200 {
			t.Fatalf("keyed request %d after admission: %d, want 200 (the grant allows 1000 a minute)", i+2, s)
		}
	}
	// A known key on the open entry: the address limit (2 of 3, 3 of 3, spent).
	for i, want := range []int{200, 200, 429} {
		if s := get(e.open.Slug, ks.valid); s != want {
			t.Fatalf("known key on the open entry, request %d: %d, want %d", i+1, s, want)
		}
	}
	for name, key := range map[string]string{"no key": "", "unknown key": "kf_nosuchkeyatall", "known key, unknown entry": ks.valid} {
		slug := e.cond.Slug
		if name == "no key" {
			slug = e.open.Slug
		}
		if name == "known key, unknown entry" {
			slug = "no-such-entry"
		}
		want := 429
		if name == "known key, unknown entry" {
			want = 404 // counted after the fact: its answer was already a refusal
		}
		if s := get(slug, key); s != want {
			t.Errorf("%s with the address limit spent: %d, want %d", name, s, want)
		}
	}
	if s := get(e.cond.Slug, ks.valid); s != 200 {
		t.Fatalf("the admitted key after the address is spent: %d, want 200", s)
	}
}
