package gateway

import (
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// The records API looks its entry up on every request. That lookup — a
// three-table join whose JSON columns are decoded in Go — cost more than the
// row query it guards (BENCHMARKS.md, records API), so the records path
// keeps published entries for a short time. Staleness is bounded three ways:
//
//   - a write made through this process's catalogue (a Store with
//     CatalogGeneration) empties the cache at once;
//   - a write made by another process is seen after at most entryTTL;
//   - and meanwhile the row query itself carries a datasets.RowGuard, so the
//     database returns no row of an entry that was closed, withdrawn or
//     reclassified since it was cached: a stale cache can lag on a title or
//     on which version is current, never open data that is no longer open.

// entryTTL is how long a cached entry is used without asking the catalogue.
const entryTTL = 2 * time.Second

// entryCacheMax bounds the cache; when full it is emptied and refilled.
const entryCacheMax = 4096

type generationer interface{ CatalogGeneration() uint64 }

type cachedEntry struct {
	d    *datasets.Dataset
	gen  uint64
	born time.Time
}

type entryCache struct {
	mu  sync.RWMutex
	m   map[string]cachedEntry
	gen func() uint64
}

func newEntryCache(cat datasets.Catalog) *entryCache {
	ec := &entryCache{m: map[string]cachedEntry{}, gen: func() uint64 { return 0 }}
	if g, ok := cat.(generationer); ok {
		ec.gen = g.CatalogGeneration
	}
	return ec
}

// get returns the cached entry for key if it is fresh.
func (ec *entryCache) get(key string) (*datasets.Dataset, uint64, bool) {
	gen := ec.gen()
	ec.mu.RLock()
	e, ok := ec.m[key]
	ec.mu.RUnlock()
	if ok && e.gen == gen && time.Since(e.born) < entryTTL {
		return e.d, gen, true
	}
	return nil, gen, false
}

// put stores d as read when the catalogue generation was gen (read before
// the lookup, so a write that raced with it makes the entry stale at once).
func (ec *entryCache) put(key string, d *datasets.Dataset, gen uint64) {
	ec.mu.Lock()
	if len(ec.m) >= entryCacheMax {
		clear(ec.m)
	}
	ec.m[key] = cachedEntry{d: d, gen: gen, born: time.Now()}
	ec.mu.Unlock()
}

// cachedPublicDataset is publicDataset through the entry cache. The entry
// returned is shared: callers must not modify it, and must put a RowGuard
// on every row query they run for it (guardOf).
// The boolean says whether the entry came from the cache.
func (s *Server) cachedPublicDataset(c *fiber.Ctx) (*datasets.Dataset, bool, error) {
	id := c.Params("id")
	d, gen, ok := s.entries.get(id) // gen is read before the lookup below
	if ok {
		return d, true, nil
	}
	d, err := s.publicDataset(c)
	if err != nil {
		return nil, false, err
	}
	s.entries.put(id, d, gen)
	return d, false, nil
}

// stale drops the cached entry of the request and reports whether the
// catalogue now says something else about it than d: gone from the public
// catalogue, another open class or another current version.
func (s *Server) entryStale(c *fiber.Ctx, d *datasets.Dataset) bool {
	s.entries.mu.Lock()
	delete(s.entries.m, c.Params("id"))
	s.entries.mu.Unlock()
	now, err := s.publicDataset(c)
	if err != nil {
		return true
	}
	return now.OpenClass != d.OpenClass || versionNumber(now) != versionNumber(d)
}

func versionNumber(d *datasets.Dataset) int {
	if d.CurrentVersion == nil {
		return 0
	}
	return d.CurrentVersion.Number
}

// guardOf is the row guard for an entry admitted under its open class.
func guardOf(d *datasets.Dataset) *datasets.RowGuard {
	return &datasets.RowGuard{DatasetID: d.ID, OpenClass: d.OpenClass}
}
