package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/ulule/limiter/v3"
)

// Per-grant rate and quota counters live in the shared limiter store (Redis
// when several gateways run), and every admitted request must be counted
// there. Asking the store once per request cost two round trips per keyed
// request (rate, then quota): on PostgreSQL it took a third of the keyed
// throughput (BENCHMARKS.md, "Session five"). So a gateway takes units from
// a counter in leases: one Increment of n units, then n requests admitted
// from memory.
//
// What a lease may never do is admit more than the limit: the store counts
// every leased unit before any is used, and a lease is used only inside the
// window it was counted in (see leaseUntil). What it may do is admit fewer:
// units a process leased and did not use before its window ended are lost,
// so near the end of an allowance the other processes see it spent a little
// early. To keep that small, a lease is never more than a 64th of the limit
// nor a 16th of what remains, nor more than leaseMax: a grant of 100 a
// minute (the two-process test's) leases one unit at a time, exactly as
// without leases; only large allowances are leased in blocks.

// leaseMax bounds one lease.
const leaseMax = 32

// leaseSize is how many units to ask for, given the counter's limit and
// what remained after the last lease (remaining < 0: not known yet).
func leaseSize(limit, remaining int64) int64 {
	n := min(leaseMax, limit/64)
	if remaining >= 0 {
		n = min(n, remaining/16)
	}
	return max(n, 1)
}

// lease is what one process holds of one counter.
type lease struct {
	mu        sync.Mutex
	avail     int64     // leased units not used yet
	until     time.Time // the units are void from then on
	remaining int64     // the store's remaining after the last lease; -1 unknown
	reset     int64     // the store's reset (Unix seconds) at the last lease
	reached   bool      // the store refused the last lease: spent until the window ends
}

// keyLimits holds a gateway's leases, by counter key.
type keyLimits struct {
	store  limiter.Store
	mu     sync.Mutex
	leases map[string]*lease
}

func newKeyLimits(store limiter.Store) *keyLimits {
	return &keyLimits{store: store, leases: map[string]*lease{}}
}

// leaseFor returns the lease of key, dropping stale ones when the map grows.
func (kl *keyLimits) leaseFor(key string) *lease {
	kl.mu.Lock()
	defer kl.mu.Unlock()
	l, ok := kl.leases[key]
	if !ok {
		if len(kl.leases) >= 10000 {
			now := time.Now()
			for k, old := range kl.leases {
				if old.mu.TryLock() {
					if !now.Before(old.until) {
						delete(kl.leases, k)
					}
					old.mu.Unlock()
				}
			}
		}
		l = &lease{remaining: -1}
		kl.leases[key] = l
	}
	return l
}

// take spends one unit of key's counter under rate and returns what the
// caller is told: the limit, what remains (the store's count plus the units
// this process holds), the reset, and whether the unit was refused. A store
// call, if one is made, must answer by deadline; its context is made only
// then, because most takes are answered from the lease without one.
func (kl *keyLimits) take(deadline time.Time, key string, rate limiter.Rate) (limiter.Context, error) {
	l := kl.leaseFor(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Before(l.until) {
		if l.avail > 0 {
			l.avail--
			return l.context(rate, false), nil
		}
		if l.reached {
			// A counter only grows within its window: refused until it
			// ends, without asking the store again.
			return l.context(rate, true), nil
		}
	} else {
		// The window this process knew has ended, or it never knew one:
		// ask for one unit, which also tells when the store's window ends.
		l.remaining, l.avail = -1, 0
	}
	// Holding l.mu here makes the other requests on this counter wait for
	// this one answer instead of each asking the store.
	n := int64(1)
	if l.remaining >= 0 {
		n = leaseSize(rate.Limit, l.remaining)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	lc, err := kl.store.Increment(ctx, key, n, rate)
	cancel()
	if err != nil {
		return limiter.Context{}, err
	}
	until := leaseUntil(lc.Reset)
	switch {
	case !lc.Reached && rate.Limit-lc.Remaining == n:
		// The count is what this call added: it opened the window, which
		// the store started no earlier than now, so it ends no earlier
		// than now + the period. (Without this, leases of a per-second
		// rate would be usable only until the second turns.)
		until = now.Add(rate.Period)
	case lc.Reset == l.reset && l.until.After(until):
		// The same window (two windows of a second or more never end in
		// the same second), whose end this process learned when it opened it.
		until = l.until
	}
	l.remaining, l.reset, l.reached = lc.Remaining, lc.Reset, lc.Reached
	l.until = until
	if lc.Reached {
		// Refused. A lease of n > 1 that overshot may have had room for
		// some units; they stay counted and unused (the bounded loss
		// described above).
		l.avail = 0
		return l.context(rate, true), nil
	}
	l.avail = n - 1
	return l.context(rate, false), nil
}

// leaseUntil is when leased units stop being usable, for a window this
// process did not open: the start of the second in which the store's
// window ends. The store reports its reset in whole seconds, rounded down,
// so this is never after the window's true end: a unit counted in one
// window is never used in the next. In the window's last fraction of a
// second every request asks the store for its own unit, as without leases.
func leaseUntil(reset int64) time.Time {
	return time.Unix(reset, 0)
}

// context is what the caller is told after the lease changed.
func (l *lease) context(rate limiter.Rate, reached bool) limiter.Context {
	return limiter.Context{
		Limit:     rate.Limit,
		Remaining: min(rate.Limit, l.remaining+l.avail),
		Reset:     l.reset,
		Reached:   reached,
	}
}
