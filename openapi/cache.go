package openapi

import (
	"container/list"
	"sync"
)

// Cache keeps the most recently used dataset documents. Keys name an
// immutable version (and the entry's last update, since titles and
// descriptions change without a new version).
type Cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of string keys, front = newest
	items map[string]*cacheItem
}

type cacheItem struct {
	doc  *DatasetDoc
	elem *list.Element
	once *sync.Once
	err  error
}

// NewCache holds up to max documents.
func NewCache(max int) *Cache {
	return &Cache{max: max, order: list.New(), items: map[string]*cacheItem{}}
}

// Get returns the document under key, building it once with build when
// absent; concurrent callers for one key wait for the one build. A failed
// build is not cached.
func (c *Cache) Get(key string, build func() (*DatasetDoc, error)) (*DatasetDoc, error) {
	c.mu.Lock()
	it, ok := c.items[key]
	if ok {
		c.order.MoveToFront(it.elem)
	} else {
		it = &cacheItem{once: &sync.Once{}}
		it.elem = c.order.PushFront(key)
		c.items[key] = it
		for c.order.Len() > c.max {
			old := c.order.Back()
			c.order.Remove(old)
			delete(c.items, old.Value.(string))
		}
	}
	c.mu.Unlock()
	it.once.Do(func() { it.doc, it.err = build() })
	if it.err != nil {
		c.mu.Lock()
		if cur, ok := c.items[key]; ok && cur == it {
			c.order.Remove(it.elem)
			delete(c.items, key)
		}
		c.mu.Unlock()
		return nil, it.err
	}
	return it.doc, nil
}

// Len is how many documents are held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
