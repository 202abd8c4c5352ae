package gateway

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3"
	smemory "github.com/ulule/limiter/v3/drivers/store/memory"
	"github.com/valyala/fasthttp"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// countingStore counts the units a store was asked for and the calls.
type countingStore struct {
	limiter.Store
	calls, units atomic.Int64
}

func (c *countingStore) Increment(ctx context.Context, key string, n int64, r limiter.Rate) (limiter.Context, error) {
	c.calls.Add(1)
	c.units.Add(n)
	return c.Store.Increment(ctx, key, n, r)
}

// leaseStores runs f on the memory store and, when KAIFANG_TEST_REDIS is
// set, on the pipelined Redis store the gateway uses.
func leaseStores(t *testing.T, f func(t *testing.T, st limiter.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, smemory.NewStore()) })
	t.Run("redis", func(t *testing.T) {
		_, st := pipedStore(t)
		f(t, st)
	})
}

// hammer sends n takes on key through each of the processes at once and
// returns how many were admitted.
func hammer(t *testing.T, procs []*keyLimits, key string, rate limiter.Rate, n int) int64 {
	t.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			lc, err := procs[i%len(procs)].take(time.Now().Add(time.Minute), key, rate)
			if err != nil {
				t.Error(err)
				return
			}
			if !lc.Reached {
				ok.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok.Load()
}

// Two gateways taking a large allowance in leases never admit more than
// it, lose at most a lease's worth each, and ask the store far less often
// than once per request.
func TestLeasesNeverExceedTheLimit(t *testing.T) {
	leaseStores(t, func(t *testing.T, st limiter.Store) {
		cs := &countingStore{Store: st}
		procs := []*keyLimits{newKeyLimits(cs), newKeyLimits(cs)}
		rate := limiter.Rate{Period: time.Hour, Limit: 4096}
		ok := hammer(t, procs, "key:key-rate:g-large", rate, 6000)
		if ok > rate.Limit {
			t.Fatalf("admitted %d of a limit of %d", ok, rate.Limit)
		}
		if ok < rate.Limit-2*leaseMax {
			t.Errorf("admitted %d of %d: more than a lease per process lost", ok, rate.Limit)
		}
		// Leases for the admitted; refusals from memory once the store
		// said the allowance is spent.
		if c := cs.calls.Load(); c > rate.Limit/4 {
			t.Errorf("%d store calls for 6000 requests: leases are not used", c)
		}
		t.Logf("admitted %d of %d with %d store calls", ok, rate.Limit, cs.calls.Load())
	})
}

// A small allowance is taken one unit at a time, so it stays exact: the
// two-process test's 100 a minute admits exactly 100 of 500.
func TestSmallAllowancesStayExact(t *testing.T) {
	leaseStores(t, func(t *testing.T, st limiter.Store) {
		cs := &countingStore{Store: st}
		procs := []*keyLimits{newKeyLimits(cs), newKeyLimits(cs)}
		rate := limiter.Rate{Period: time.Minute, Limit: 100}
		if ok := hammer(t, procs, "key:key-rate:g-small", rate, 500); ok != 100 {
			t.Fatalf("admitted %d, want exactly 100", ok)
		}
		if u, c := cs.units.Load(), cs.calls.Load(); u != c || c > 100+2 {
			t.Errorf("%d units in %d calls: a small allowance was leased in blocks, or refusals asked the store", u, c)
		}
	})
}

// Units leased in one window are never used after the store's window ends:
// the lease ends no later than the store's key expires, and the next
// request asks the store again.
func TestLeasesDoNotOutliveTheirWindow(t *testing.T) {
	leaseStores(t, func(t *testing.T, st limiter.Store) {
		cs := &countingStore{Store: st}
		kl := newKeyLimits(cs)
		rate := limiter.Rate{Period: 2 * time.Second, Limit: 1 << 20}
		key := "key:key-rate:g-window"
		var started time.Time // no earlier than the store's window began
		for i := range 3 {    // one unit to learn the window, then a lease
			if _, err := kl.take(time.Now().Add(time.Minute), key, rate); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				started = time.Now()
			}
		}
		l := kl.leaseFor(key)
		l.mu.Lock()
		until, avail := l.until, l.avail
		l.mu.Unlock()
		if avail == 0 && time.Now().Before(until) {
			t.Fatal("no lease was taken")
		}
		if end := started.Add(rate.Period); until.After(end) {
			t.Fatalf("lease usable until %s, after the window's end %s", until, end)
		}
		time.Sleep(time.Until(until) + 10*time.Millisecond)
		before := cs.calls.Load()
		if _, err := kl.take(time.Now().Add(time.Minute), key, rate); err != nil {
			t.Fatal(err)
		}
		if cs.calls.Load() != before+1 {
			t.Fatal("a unit leased in an ended window was used")
		}
	})
}

func TestLeaseSize(t *testing.T) {
	for _, c := range []struct{ limit, remaining, want int64 }{
		{100, -1, 1}, {100, 100, 1}, {6400, -1, leaseMax}, {1 << 30, 1 << 30, leaseMax},
		{1 << 30, 160, 10}, {1 << 30, 15, 1}, {1 << 30, 0, 1}, {0, -1, 1},
	} {
		if got := leaseSize(c.limit, c.remaining); got != c.want {
			t.Errorf("leaseSize(%d, %d) = %d, want %d", c.limit, c.remaining, got, c.want)
		}
	}
}

// Through the gateway: a grant's quota is enforced as its rate is (429
// naming the quota, with Retry-After, and nothing of the rows), and a large
// allowance taken in leases still tells each caller what is left, one
// fewer per request.
func TestGrantQuotaAndRemaining(t *testing.T) {
	leaseStores(t, func(t *testing.T, st limiter.Store) {
		var svc *portal.Service
		e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withKeys(&svc, st))
		dev := &datasets.User{ID: "dev-1", Role: datasets.RoleDeveloper}
		key := func(rate, quota int64) string { return mustQueryKey(t, e, svc, dev, rate, quota) }
		url := e.url + "/api/v1/datasets/" + e.cond.Slug + "/records?fields=SiteName,AQI"

		small := key(1000, 3)
		for i := range 3 {
			if resp, body := MustGet(t, url, "X-API-Key", small); resp.StatusCode != 200 {
				t.Fatalf("request %d of a quota of 3: %d %s", i+1, resp.StatusCode, body)
			}
		}
		resp, body := MustGet(t, url, "X-API-Key", small)
		if resp.StatusCode != 429 || !strings.Contains(string(body), "quota") || resp.Header.Get("Retry-After") == "" ||
			strings.Contains(string(body), "AQI\"") {
			t.Fatalf("past the quota: %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}

		large := key(1_000_000, 1_000_000)
		last := int64(-1)
		for i := range 6 {
			resp, body := MustGet(t, url, "X-API-Key", large)
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
			}
			left, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Remaining"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if last >= 0 && left != last-1 {
				t.Fatalf("remaining went %d → %d, want one fewer per request", last, left)
			}
			last = left
		}
		if last != 1_000_000-6 {
			t.Errorf("after 6 requests %d remain, want %d", last, 1_000_000-6)
		}
	})
}

// BenchmarkKeyLimit measures limit() on a grant whose allowance is large:
// nearly every request is answered from a lease in memory, so what is
// left is limit()'s own per-request cost (headers, contexts, map lookups).
func BenchmarkKeyLimit(b *testing.B) {
	k := &KeyAuthorizer{limits: newKeyLimits(smemory.NewStore())}
	g := &datasets.Grant{ID: "g-bench", Rate: 1 << 40, RatePeriod: datasets.PerMinute, Quota: 1 << 40, QuotaPeriod: datasets.PerDay}
	app := fiber.New()
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	defer app.ReleaseCtx(c)
	b.ReportAllocs()
	for b.Loop() {
		if err := k.limit(c, g); err != nil {
			b.Fatal(err)
		}
	}
}
