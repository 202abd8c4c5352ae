package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	sredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"kaifang/datasets/blob/blobtest"
	"kaifang/datasets/sqlstore/sqltest"
)

const redisEnv = "KAIFANG_TEST_REDIS"

// MustRedisStore opens the Redis store under a key prefix unique to the
// test, or skips naming the variable.
func MustRedisStore(tb testing.TB) limiter.Store {
	tb.Helper()
	u := os.Getenv(redisEnv)
	if u == "" {
		tb.Skip("set " + redisEnv + " (e.g. redis://127.0.0.1:6379/0) to run against Redis")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	st, err := RedisStore(u + "?prefix=kaifang-test-" + hex.EncodeToString(b))
	if err != nil {
		tb.Fatalf("RedisStore: %v", err)
	}
	return st
}

func TestRateLimits(t *testing.T) {
	rateStores := []struct {
		name string
		open func(testing.TB) limiter.Store
	}{
		{"memory", func(testing.TB) limiter.Store {
			return memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "t", CleanUpInterval: time.Minute})
		}},
		{"redis", MustRedisStore},
	}
	for _, rs := range rateStores {
		t.Run(rs.name, func(t *testing.T) {
			l, err := ParseLimits("records=3/m,downloads=2/h,search=5/10s")
			if err != nil {
				t.Fatal(err)
			}
			e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withRateStore(rs.open(t), l))
			records := e.url + "/api/v1/datasets/" + e.open.Slug + "/records?limit=1"
			for i := 1; i <= 3; i++ {
				resp, body := MustGet(t, records)
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
				}
				if got := resp.Header.Get("RateLimit-Policy"); got != `"records";q=3;w=60` {
					t.Fatalf("RateLimit-Policy %q", got)
				}
				rem := strconv.Itoa(3 - i)
				if got := resp.Header.Get("X-RateLimit-Remaining"); got != rem {
					t.Fatalf("X-RateLimit-Remaining %q, want %s", got, rem)
				}
				if got := resp.Header.Get("RateLimit"); got[:len(`"records";r=`+rem+`;t=`)] != `"records";r=`+rem+`;t=` {
					t.Fatalf("RateLimit %q", got)
				}
				if resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("X-RateLimit-Reset") == "" {
					t.Fatalf("X-RateLimit headers %v", resp.Header)
				}
			}
			resp, body := MustGet(t, records)
			MustProblem(t, resp, body, 429)
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 60 {
				t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
			// Other groups keep their own budget.
			resp, _ = MustGet(t, e.url+"/api/v1/datasets/"+e.open.Slug+"/download")
			if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Policy") != `"downloads";q=2;w=3600` {
				t.Fatalf("download: %d %q", resp.StatusCode, resp.Header.Get("RateLimit-Policy"))
			}
			resp, _ = MustGet(t, e.url+"/api/v1/datasets")
			if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Policy") != `"search";q=5;w=10` {
				t.Fatalf("search: %d %q", resp.StatusCode, resp.Header.Get("RateLimit-Policy"))
			}
			// Probes are never limited.
			resp, _ = MustGet(t, e.url+"/healthz")
			if resp.Header.Get("RateLimit") != "" {
				t.Fatalf("healthz is rate limited")
			}
		})
	}
}

// A rate store that fails lets requests through, counts the failure and
// makes readiness fail, instead of crashing the process.
func TestRateLimitFailsOpen(t *testing.T) {
	client := mustRedisClient(t)
	st, err := sredis.NewStoreWithOptions(client, limiter.StoreOptions{Prefix: "kaifang-test-failopen"})
	if err != nil {
		t.Fatal(err)
	}
	e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withRateStore(st, Limits{}))
	if resp, _ := MustGet(t, e.url+"/readyz"); resp.StatusCode != 200 {
		t.Fatalf("readyz before the failure: %d", resp.StatusCode)
	}
	_ = client.Close() // Redis is gone from the gateway's point of view
	for range 3 {
		resp, body := MustGet(t, e.url+"/api/v1/datasets/"+e.open.Slug)
		if resp.StatusCode != 200 || resp.Header.Get("RateLimit") != "" {
			t.Fatalf("with the store down: %d %q %s", resp.StatusCode, resp.Header.Get("RateLimit"), body)
		}
	}
	resp, body := MustGet(t, e.url+"/readyz")
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"ratelimit"`) {
		t.Fatalf("readyz with the store down: %d %s", resp.StatusCode, body)
	}
	_, body = MustGet(t, e.url+"/metrics")
	if !strings.Contains(string(body), "kaifang_ratelimit_store_errors_total 3") {
		t.Fatalf("store errors not counted")
	}
}

func TestTrustedProxy(t *testing.T) {
	l, _ := ParseLimits("default=1/m")
	store := memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "t", CleanUpInterval: time.Minute})
	e := MustEnv(t, sqltest.SQLiteURL(t), blobtest.MustOpenLocal(t), withRateStore(store, l), func(d *Deps) {
		d.TrustedProxies = []string{"127.0.0.0/8"}
	})
	get := func(xff string) int {
		resp, _ := MustGet(t, e.url+"/api/v1/agencies", "X-Forwarded-For", xff)
		return resp.StatusCode
	}
	if get("203.0.113.9") != 200 || get("203.0.113.10") != 200 {
		t.Fatal("two clients behind the proxy share a budget")
	}
	if get("203.0.113.9") != 429 {
		t.Fatal("the same client behind the proxy was not limited")
	}
	// A client cannot pick its address by prepending to the header.
	if get("198.51.100.1, 203.0.113.9") != 429 {
		t.Fatal("a forged leftmost address escaped the limit")
	}
}

func TestParseLimits(t *testing.T) {
	l, err := ParseLimits("downloads=60/m, records=600/m,search=300/m,default=10/30s")
	if err != nil {
		t.Fatal(err)
	}
	if l.Downloads.Limit != 60 || l.Downloads.Period != time.Minute || l.Default.Limit != 10 || l.Default.Period != 30*time.Second {
		t.Fatalf("%+v", l)
	}
	if d, _ := ParseLimits(""); d.Records != DefaultLimits.Records {
		t.Fatalf("empty spec does not give defaults: %+v", d)
	}
	for _, bad := range []string{"records", "records=0/m", "records=5/fortnight", "uploads=1/m", "records=-1/s", "records=1/0s"} {
		t.Run(bad, func(t *testing.T) {
			if _, err := ParseLimits(bad); err == nil {
				t.Fatalf("accepted %q", bad)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	ps, err := parseProxies([]string{"10.0.0.0/8", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr    string
		trusted bool
	}{{"10.1.2.3", true}, {"192.168.1.1", true}, {"192.168.1.2", false}, {"::ffff:10.0.0.1", true}, {"8.8.8.8", false}} {
		if got := ps.trusted(netip.MustParseAddr(tc.addr)); got != tc.trusted {
			t.Errorf("trusted(%s) = %v", tc.addr, got)
		}
	}
	if _, err := parseProxies([]string{"not-an-ip"}); err == nil {
		t.Fatal("bad proxy accepted")
	}
}
