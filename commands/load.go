package commands

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// loaded is a stream as the write path needs it: each event's id, version
// and position, and its data decoded (nil for types the domain does not
// register). Its slices may be shared with the cache: read only.
type loaded struct {
	ids       []uuid.UUID
	versions  []uint64
	positions []eventstore.Position
	events    []domain.Event
}

func (l *loaded) len() int { return len(l.ids) }

// version is the stream's version: its last event's, 0 when empty.
func (l *loaded) version() uint64 {
	if n := len(l.versions); n > 0 {
		return l.versions[n-1]
	}
	return 0
}

// last is the stream's last event's position (Start when empty).
func (l *loaded) last() eventstore.Position {
	if n := len(l.positions); n > 0 {
		return l.positions[n-1]
	}
	return eventstore.Start
}

// extended returns l with recorded appended, never writing into l's arrays
// (other commands may be reading them).
func (l *loaded) extended(recorded []eventstore.Event) (*loaded, error) {
	n := l.len()
	out := &loaded{
		ids:       slices.Grow(l.ids[:n:n], len(recorded)),
		versions:  slices.Grow(l.versions[:n:n], len(recorded)),
		positions: slices.Grow(l.positions[:n:n], len(recorded)),
		events:    slices.Grow(l.events[:n:n], len(recorded)),
	}
	for i := range recorded {
		ev := &recorded[i]
		d, err := decode(ev)
		if err != nil {
			return nil, err
		}
		out.ids = append(out.ids, ev.ID)
		out.versions = append(out.versions, ev.Version)
		out.positions = append(out.positions, ev.Position)
		out.events = append(out.events, d)
	}
	return out, nil
}

// load reads a stream, from the cache and the store's tail of it. A stream
// that does not exist loads empty.
//
// Decoding every event of a stream on every command is most of a command's
// CPU; streams only ever grow, so the decoded prefix of a recently used
// stream is kept and only the events after it are read. The cache is a
// shortcut, never an authority: the tail read is what makes the load
// current, and anything unexpected (a gap, a stream gone) falls back to a
// full read.
func (e *engine) load(ctx context.Context, stream string) (*loaded, error) {
	if prefix, ok := e.streams.get(stream); ok {
		tail, err := e.store.ReadStream(ctx, stream, prefix.version()+1, eventstore.Forwards, 0)
		switch {
		case err != nil && !errors.Is(err, eventstore.ErrStreamNotFound):
			return nil, fmt.Errorf("commands: read %s: %w", stream, err)
		case err == nil && (len(tail) == 0 || tail[0].Version == prefix.version()+1):
			if len(tail) == 0 {
				return prefix, nil
			}
			l, err := prefix.extended(tail)
			if err != nil {
				return nil, err
			}
			e.streams.put(stream, l)
			return l, nil
		}
	}
	recorded, err := e.read(ctx, stream)
	if err != nil {
		return nil, err
	}
	l, err := (&loaded{}).extended(recorded)
	if err != nil {
		return nil, err
	}
	if l.len() > 0 && l.versions[0] == 1 && l.version() == uint64(l.len()) {
		e.streams.put(stream, l)
	} else {
		// Empty (nothing worth keeping) or with gaps (a damaged log that
		// Verify reports): not cached.
		e.streams.drop(stream)
	}
	return l, nil
}

// streamLRU keeps the decoded events of the most recently used streams.
type streamLRU struct {
	mu  sync.Mutex
	max int
	ll  *list.List // of *lruEntry, most recent first
	m   map[string]*list.Element
}

type lruEntry struct {
	stream string
	l      *loaded
}

func newStreamLRU(max int) *streamLRU {
	return &streamLRU{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *streamLRU) get(stream string) (*loaded, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[stream]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*lruEntry).l, true
}

func (c *streamLRU) put(stream string, l *loaded) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[stream]; ok {
		// Two commands may extend the same stream at once; keep the longer.
		if en := el.Value.(*lruEntry); l.version() >= en.l.version() {
			en.l = l
		}
		c.ll.MoveToFront(el)
		return
	}
	c.m[stream] = c.ll.PushFront(&lruEntry{stream: stream, l: l})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(*lruEntry).stream)
	}
}

func (c *streamLRU) drop(stream string) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[stream]; ok {
		c.ll.Remove(el)
		delete(c.m, stream)
	}
}
