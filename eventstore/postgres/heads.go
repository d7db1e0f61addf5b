package postgres

import "sync"

// head is a stream's last event as far as this process knows: its version
// and hash, which is all the next append needs to chain onto it.
type head struct {
	version uint64
	hash    string
}

// headCache remembers the heads of recently written or read streams so that
// most appends skip the read of the stream's last event and cost a single
// INSERT. It is only a hint: the INSERT checks that the head still exists
// with that hash and UNIQUE (stream, version) refuses a stale version, so a
// wrong entry costs a retry, never a wrong chain.
type headCache struct {
	mu  sync.Mutex
	m   map[string]head
	max int
}

func newHeadCache(max int) *headCache {
	return &headCache{m: make(map[string]head), max: max}
}

func (c *headCache) get(stream string) (head, bool) {
	if c.max <= 0 {
		return head{}, false
	}
	c.mu.Lock()
	h, ok := c.m[stream]
	c.mu.Unlock()
	return h, ok
}

// put records h unless a later head of the stream is known already:
// concurrent appends and reads of one stream may finish out of order.
func (c *headCache) put(stream string, h head) {
	if c.max <= 0 || h.version == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[stream]; ok {
		if old.version >= h.version {
			return
		}
	} else if len(c.m) >= c.max {
		// Evict about half, in the map's random iteration order: cheaper
		// than keeping an LRU list on every append, and a miss only costs
		// one read.
		n := len(c.m) / 2
		for k := range c.m {
			if n == 0 {
				break
			}
			delete(c.m, k)
			n--
		}
	}
	c.m[stream] = h
}

func (c *headCache) forget(stream string) {
	c.mu.Lock()
	delete(c.m, stream)
	c.mu.Unlock()
}
