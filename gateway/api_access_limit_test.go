package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	"github.com/valyala/fasthttp"

	"kaifang/datasets"
	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// The per-key limit headers a caller reads, byte for byte: the policy of
// the grant's rate and quota, and the quota's count (the last counter
// taken while the rate is not spent), one fewer on each request within one
// window whose end does not move. Each grant is told its own policy.
func TestKeyLimitHeaders(t *testing.T) {
	var svc *portal.Service
	e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withKeys(&svc, memory.NewStore()))
	dev := &datasets.User{ID: "dev-1", Role: datasets.RoleDeveloper}
	key := func(rate, quota int64) string { return mustQueryKey(t, e, svc, dev, rate, quota) }
	url := e.url + "/api/v1/datasets/" + e.cond.Slug + "/records?fields=SiteName,AQI"

	// get sends one keyed request and checks its headers: want is the
	// RateLimit value up to t=, whose number must be the seconds from the
	// request to the X-RateLimit-Reset it came with, period seconds after
	// the window opened (at opened or later; 0: with this request). It
	// returns the reset.
	get := func(k, policy, want, limit, remaining string, period, opened int64) int64 {
		t.Helper()
		before := time.Now().Unix()
		if opened == 0 {
			opened = before
		}
		resp, body := MustGet(t, url, "X-API-Key", k)
		after := time.Now().Unix()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		h := resp.Header
		if got := h.Get("RateLimit-Policy"); got != policy {
			t.Errorf("RateLimit-Policy %q, want %q", got, policy)
		}
		if got := h.Get("X-RateLimit-Limit"); got != limit {
			t.Errorf("X-RateLimit-Limit %q, want %q", got, limit)
		}
		if got := h.Get("X-RateLimit-Remaining"); got != remaining {
			t.Errorf("X-RateLimit-Remaining %q, want %q", got, remaining)
		}
		reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
		if err != nil || reset < opened+period || reset > after+period {
			t.Fatalf("X-RateLimit-Reset %q, want the Unix time %d s after the window opened", h.Get("X-RateLimit-Reset"), period)
		}
		rl := h.Get("RateLimit")
		left, ok := strings.CutPrefix(rl, want)
		if !ok {
			t.Fatalf("RateLimit %q, want %q followed by the seconds left", rl, want)
		}
		if secs, err := strconv.ParseInt(left, 10, 64); err != nil || secs < reset-after || secs > reset-before {
			t.Errorf("RateLimit %q: t= is not the seconds until X-RateLimit-Reset %d", rl, reset)
		}
		if ra := h.Get("Retry-After"); ra != "" {
			t.Errorf("Retry-After %q on an admitted request", ra)
		}
		return reset
	}

	large := key(1000, 100000)
	policy := `"key-rate";q=1000;w=60, "key-quota";q=100000;w=86400`
	opened := time.Now().Unix()
	r1 := get(large, policy, `"key-quota";r=99999;t=`, "100000", "99999", 86400, 0)
	r2 := get(large, policy, `"key-quota";r=99998;t=`, "100000", "99998", 86400, opened)
	if r1 != r2 {
		t.Errorf("X-RateLimit-Reset moved from %d to %d within one window", r1, r2)
	}
	get(key(1, 100), `"key-rate";q=1;w=60, "key-quota";q=100;w=86400`, `"key-quota";r=99;t=`, "100", "99", 86400, 0)
}

// A spent rate refuses with its own counter in the headers (over HTTP the
// address limit, charged for a refused key, writes over them) and a
// Retry-After of RateLimit's t=, at least a second.
func TestKeyLimitSpentRate(t *testing.T) {
	k := &KeyAuthorizer{limits: newKeyLimits(memory.NewStore())}
	app := fiber.New()
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	defer app.ReleaseCtx(c)
	g := &datasets.Grant{ID: "g-spent", Rate: 1, RatePeriod: datasets.PerMinute, Quota: 100, QuotaPeriod: datasets.PerDay}
	opened := time.Now().Unix()
	if err := k.limit(c, g); err != nil {
		t.Fatal(err)
	}
	err := k.limit(c, g)
	after := time.Now().Unix()
	if !datasets.IsCode(err, datasets.ERATELIMIT) || !strings.Contains(err.Error(), "this key's rate of 1 requests per 1m0s is spent") {
		t.Fatalf("second request at a rate of 1: %v, want the rate named as spent", err)
	}
	h := func(name string) string { return string(c.Response().Header.Peek(name)) }
	if got := h("RateLimit-Policy"); got != `"key-rate";q=1;w=60, "key-quota";q=100;w=86400` {
		t.Errorf("RateLimit-Policy %q", got)
	}
	if h("X-RateLimit-Limit") != "1" || h("X-RateLimit-Remaining") != "0" {
		t.Errorf("X-RateLimit-Limit %q, X-RateLimit-Remaining %q, want 1 and 0", h("X-RateLimit-Limit"), h("X-RateLimit-Remaining"))
	}
	reset, perr := strconv.ParseInt(h("X-RateLimit-Reset"), 10, 64)
	if perr != nil || reset < opened+60 || reset > after+60 {
		t.Fatalf("X-RateLimit-Reset %q, want the Unix time a minute after the first request", h("X-RateLimit-Reset"))
	}
	left, ok := strings.CutPrefix(h("RateLimit"), `"key-rate";r=0;t=`)
	secs, perr := strconv.ParseInt(left, 10, 64)
	if !ok || perr != nil || secs < reset-after || secs > reset-opened {
		t.Fatalf("RateLimit %q, want the rate's count and the seconds until %d", h("RateLimit"), reset)
	}
	if got, want := h("Retry-After"), strconv.FormatInt(max(secs, 1), 10); got != want {
		t.Errorf("Retry-After %q, want %q", got, want)
	}
	if !strings.HasSuffix(err.Error(), "retry after "+strconv.FormatInt(max(secs, 1), 10)+" s") {
		t.Errorf("the error %q does not tell the Retry-After", err)
	}
}

// A grant whose rate or quota changed is told, and limited by, its new
// numbers at once, though the numbers of each grant are kept between
// requests.
func TestKeyLimitFollowsAChangedGrant(t *testing.T) {
	k := &KeyAuthorizer{limits: newKeyLimits(memory.NewStore())}
	app := fiber.New()
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	defer app.ReleaseCtx(c)
	g := &datasets.Grant{ID: "g-changed", Rate: 1000, RatePeriod: datasets.PerMinute, Quota: 5000, QuotaPeriod: datasets.PerDay}
	for _, want := range []string{
		`"key-rate";q=1000;w=60, "key-quota";q=5000;w=86400`,
		`"key-rate";q=10;w=1, "key-quota";q=5000;w=2592000`,
	} {
		if err := k.limit(c, g); err != nil {
			t.Fatal(err)
		}
		if got := string(c.Response().Header.Peek("RateLimit-Policy")); got != want {
			t.Errorf("RateLimit-Policy %q, want %q", got, want)
		}
		g.Rate, g.RatePeriod, g.QuotaPeriod = 10, datasets.PerSecond, datasets.PerMonth
	}
}
