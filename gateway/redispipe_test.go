package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	libredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	sredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

// mustRedisClient connects to the test Redis (closed after the test), or
// skips naming the variable.
func mustRedisClient(t *testing.T) *libredis.Client {
	t.Helper()
	u := os.Getenv(redisEnv)
	if u == "" {
		t.Skip("set " + redisEnv + " (e.g. redis://127.0.0.1:6379/0) to run against Redis")
	}
	opt, err := libredis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := libredis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// pipedStore opens the ulule Redis store over a pipelined client with a
// prefix of its own, or skips naming the variable.
func pipedStore(t *testing.T) (*pipelinedRedis, limiter.Store) {
	t.Helper()
	p := newPipelinedRedis(mustRedisClient(t))
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	st, err := sredis.NewStoreWithOptions(p, limiter.StoreOptions{Prefix: "kaifang-pipe-" + hex.EncodeToString(b)})
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// Concurrent checks share pipelines, and the counter still admits exactly
// its limit: 400 requests on a key allowed 100 a minute get 100 yeses.
func TestPipelinedLimitsStayExact(t *testing.T) {
	p, st := pipedStore(t)
	lim := limiter.New(st, limiter.Rate{Period: time.Minute, Limit: 100})
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			lc, err := lim.Get(context.Background(), "one-key")
			if err != nil {
				t.Error(err)
				return
			}
			if lc.Reached {
				refused.Add(1)
			} else {
				ok.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 100 || refused.Load() != 300 {
		t.Fatalf("admitted %d, refused %d; want 100 and 300", ok.Load(), refused.Load())
	}
	if p.calls.Load() != 400 {
		t.Fatalf("%d script calls reached Redis, want 400", p.calls.Load())
	}
	if p.pipelines.Load() >= 400 {
		t.Fatalf("400 concurrent calls went out in %d pipelines: nothing was shared", p.pipelines.Load())
	}
	t.Logf("400 calls in %d pipelines", p.pipelines.Load())
}

// A caller whose context has ended spends nothing; a Redis that lost its
// scripts (restart, SCRIPT FLUSH) is reloaded through the pipeline.
func TestPipelinedGoneCallerAndLostScripts(t *testing.T) {
	p, st := pipedStore(t)
	rate := limiter.Rate{Period: time.Minute, Limit: 5}
	lim := limiter.New(st, rate)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lim.Get(ctx, "k"); err == nil {
		t.Fatal("a cancelled check answered without error")
	}
	lc, err := lim.Peek(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if lc.Remaining != 5 {
		t.Fatalf("a cancelled check spent allowance: %d of 5 left", lc.Remaining)
	}
	if err := p.Client.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		lc, err := lim.Get(context.Background(), "k")
		if err != nil {
			t.Fatalf("check %d after SCRIPT FLUSH: %v", i+1, err)
		}
		if lc.Reached != (i == 5) {
			t.Fatalf("check %d: reached=%v", i+1, lc.Reached)
		}
	}
}
