package dashboards

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/dohyo/dohyo/search"
)

// resultCache keeps panel results for a short time, keyed by the query as
// run (after variable substitution) and its aligned time range, so that a
// dashboard opened again, the same panel on several dashboards, or several
// viewers of one dashboard share one search. Concurrent requests for a key
// being computed wait for that computation (single flight) instead of
// starting their own; the computation is cancelled only when every caller
// waiting for it has gone. Errors are not cached. The cache is bounded by
// an estimate of its results' bytes, evicting the least recently used.
type resultCache struct {
	ttl      time.Duration
	maxBytes int64
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // of *cacheEntry
	lru     *list.List               // front: most recently used
	flights map[string]*flight
	bytes   int64
	st      CacheStats
}

type cacheEntry struct {
	key     string
	res     *search.Result
	size    int64
	expires time.Time
}

type flight struct {
	done    chan struct{}
	res     *search.Result
	err     error
	waiters int
	cancel  context.CancelFunc
}

// CacheStats counts what the result cache did.
type CacheStats struct {
	// Hits were answered from the cache, Shared by joining a search
	// another caller had started, Misses ran a search.
	Hits, Shared, Misses int64
	Evictions            int64
	Entries              int
	Bytes                int64
}

func newResultCache(ttl time.Duration, maxBytes int64, now func() time.Time) *resultCache {
	return &resultCache{ttl: ttl, maxBytes: maxBytes, now: now, entries: map[string]*list.Element{}, lru: list.New(), flights: map[string]*flight{}}
}

func (c *resultCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Entries, st.Bytes = len(c.entries), c.bytes
	return st
}

// How a result was obtained.
const (
	fromSearch = iota
	fromCache
	fromShared
)

// get returns the cached result for key, or runs fn (once for all
// concurrent callers of the same key) and caches its result. noCache
// skips the lookup but still shares and stores the result.
func (c *resultCache) get(ctx context.Context, key string, noCache bool, fn func(ctx context.Context) (*search.Result, error)) (*search.Result, int, error) {
	c.mu.Lock()
	if !noCache {
		if el, ok := c.entries[key]; ok {
			e := el.Value.(*cacheEntry)
			if c.now().Before(e.expires) {
				c.lru.MoveToFront(el)
				c.st.Hits++
				c.mu.Unlock()
				return e.res, fromCache, nil
			}
			c.remove(el)
		}
	}
	how := fromShared
	f, ok := c.flights[key]
	if ok {
		c.st.Shared++
	} else {
		how = fromSearch
		c.st.Misses++
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = f
		go func() {
			res, err := fn(fctx)
			cancel()
			c.mu.Lock()
			f.res, f.err = res, err
			delete(c.flights, key)
			if err == nil {
				c.store(key, res)
			}
			c.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		c.mu.Lock()
		f.waiters--
		c.mu.Unlock()
		return f.res, how, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
		}
		c.mu.Unlock()
		return nil, how, ctx.Err()
	}
}

// store adds a result; the caller holds c.mu.
func (c *resultCache) store(key string, res *search.Result) {
	size := resultSize(key, res)
	if size > c.maxBytes/4 {
		return // one result may not take over the cache
	}
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	e := &cacheEntry{key: key, res: res, size: size, expires: c.now().Add(c.ttl)}
	c.entries[key] = c.lru.PushFront(e)
	c.bytes += size
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
		c.st.Evictions++
	}
}

func (c *resultCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// resultSize estimates the memory a result holds.
func resultSize(key string, r *search.Result) int64 {
	n := int64(len(key)+len(r.Query)) + 256
	rows := func(list []map[string]string) {
		for _, m := range list {
			n += 48
			for k, v := range m {
				n += int64(len(k)+len(v)) + 32
			}
		}
	}
	rows(r.Records)
	rows(r.Messages)
	for _, f := range r.Fields {
		n += int64(len(f.Name)+len(f.FieldType)) + 32
	}
	for _, w := range r.Warnings {
		n += int64(len(w))
	}
	return n
}
