package projections

import (
	"sync"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// memo keeps the answers of the queries that compute over every unit
// (rankings, assessments) for the position they were computed at: a
// dashboard polled by many people asks the same ranking again and again
// between two events. An answer is reused only at the same position, so it
// is exactly what a fresh computation would give; the memo empties itself
// when the views move on, and never holds more than memoSize answers.
type memo struct {
	mu  sync.Mutex
	pos eventstore.Position
	m   map[any]any
	off bool // benchmarks time the computation itself
}

const memoSize = 256

// get returns the answer for key at pos, if computed.
func (c *memo) get(pos eventstore.Position, key any) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.pos != pos || c.m == nil {
		return nil, false
	}
	v, ok := c.m[key]
	return v, ok
}

func (c *memo) put(pos eventstore.Position, key, val any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return
	}
	if c.pos != pos || c.m == nil || len(c.m) >= memoSize {
		c.pos, c.m = pos, map[any]any{}
	}
	c.m[key] = val
}
