package commands

import (
	"context"
	"sync"

	"github.com/zhaoshang/zhaoshang/domain"
)

// streamCache keeps the folded state of a small, rarely written stream (the
// policy, the units) that almost every command consults, keyed by the
// stream's version. Each use costs one read of the stream's last event to
// learn its version; the stream is folded again only when that changed.
//
// A cached state is never modified after it is published (a newer version is
// a new fold), so concurrent commands can read it without locks. Callers must
// not Apply to it.
type streamCache[S any] struct {
	stream string
	fold   func([]domain.Event) S

	mu      sync.Mutex
	loaded  bool
	version uint64
	state   S
}

func newStreamCache[S any](stream string, fold func([]domain.Event) S) *streamCache[S] {
	return &streamCache[S]{stream: stream, fold: fold}
}

func (c *streamCache[S]) get(ctx context.Context, e *engine) (S, error) {
	var zero S
	head, err := e.headVersion(ctx, c.stream)
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	if c.loaded && c.version == head {
		s := c.state
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()

	recorded, err := e.read(ctx, c.stream)
	if err != nil {
		return zero, err
	}
	evs, err := decodeAll(recorded)
	if err != nil {
		return zero, err
	}
	s := c.fold(evs)
	var v uint64
	if n := len(recorded); n > 0 {
		v = recorded[n-1].Version
	}
	c.mu.Lock()
	// Two commands may refold at once; the newer fold wins.
	if !c.loaded || v >= c.version {
		c.loaded, c.version, c.state = true, v, s
	}
	c.mu.Unlock()
	return s, nil
}
