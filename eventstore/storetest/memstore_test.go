package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/storetest"
)

// memStore is a minimal in-memory Store used to check the suite itself,
// including the two hooks no embedded backend exercises: appends can be
// held open (a reserved position that commits later, as in PostgreSQL) and
// readers never read at or past the oldest held position.
type memStore struct {
	mu      sync.Mutex
	seq     uint64
	log     []eventstore.Event // committed, sorted by position
	held    map[uint64]bool    // reserved positions not yet committed
	streams map[string][]int   // stream → sequences of its events
	byID    map[uuid.UUID]uint64
	events  map[uint64]*eventstore.Event
	notify  *eventstore.Notifier
}

func newMemStore() *memStore {
	return &memStore{
		held:    map[uint64]bool{},
		streams: map[string][]int{},
		byID:    map[uuid.UUID]uint64{},
		events:  map[uint64]*eventstore.Event{},
		notify:  eventstore.NewNotifier(),
	}
}

func (m *memStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, error) {
	res, commit, err := m.begin(stream, exp, evs)
	if err == nil && commit != nil {
		commit()
	}
	return res, err
}

// begin decides and reserves an append; commit makes it visible.
func (m *memStore) begin(stream string, exp eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, func(), error) {
	if err := eventstore.CheckStreamName(stream); err != nil {
		return eventstore.AppendResult{}, nil, err
	}
	if len(evs) == 0 {
		return eventstore.AppendResult{}, nil, fmt.Errorf("%w: no events", eventstore.ErrInvalidEvent)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[uuid.UUID]bool{}
	found := 0
	for i := range evs {
		if err := eventstore.CheckNew(&evs[i]); err != nil {
			return eventstore.AppendResult{}, nil, err
		}
		if seen[evs[i].ID] {
			return eventstore.AppendResult{}, nil, fmt.Errorf("%w: duplicate id", eventstore.ErrInvalidEvent)
		}
		seen[evs[i].ID] = true
		if _, ok := m.byID[evs[i].ID]; ok {
			found++
		}
	}
	if found == len(evs) {
		var last *eventstore.Event
		for i := range evs {
			e := m.events[m.byID[evs[i].ID]]
			if e.Stream != stream || !eventstore.SameEvent(e, &evs[i]) || (last != nil && e.Version != last.Version+1) {
				return eventstore.AppendResult{}, nil, fmt.Errorf("%w: reused id", eventstore.ErrInvalidEvent)
			}
			last = e
		}
		return eventstore.AppendResult{Version: last.Version, Position: last.Position}, nil, nil
	}
	if found > 0 {
		return eventstore.AppendResult{}, nil, fmt.Errorf("%w: partly reused ids", eventstore.ErrInvalidEvent)
	}
	seqs := m.streams[stream]
	current, prev := uint64(len(seqs)), ""
	if current > 0 {
		prev = m.events[uint64(seqs[current-1])].Hash
	}
	if !exp.Allows(current) {
		return eventstore.AppendResult{}, nil, &eventstore.VersionConflictError{Stream: stream, Expected: exp, Actual: current}
	}
	var added []uint64
	for i := range evs {
		m.seq++
		current++
		e := eventstore.Stamp(&evs[i], stream, current, prev, time.Now())
		e.Data = append([]byte(nil), e.Data...)
		e.Position = eventstore.Position{Commit: m.seq, Prepare: m.seq}
		prev = e.Hash
		m.events[m.seq] = &e
		m.byID[e.ID] = m.seq
		m.streams[stream] = append(m.streams[stream], int(m.seq))
		m.held[m.seq] = true
		added = append(added, m.seq)
	}
	commit := func() {
		m.mu.Lock()
		for _, s := range added {
			delete(m.held, s)
			m.log = append(m.log, *m.events[s])
		}
		slices.SortFunc(m.log, func(a, b eventstore.Event) int { return a.Position.Compare(b.Position) })
		m.mu.Unlock()
		m.notify.Notify()
	}
	return eventstore.AppendResult{Version: current, Position: eventstore.Position{Commit: m.seq, Prepare: m.seq}}, commit, nil
}

func (m *memStore) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, max int) ([]eventstore.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []eventstore.Event
	for _, e := range m.log {
		if e.Stream == stream {
			mine = append(mine, e)
		}
	}
	if len(mine) == 0 {
		return nil, eventstore.ErrStreamNotFound
	}
	var out []eventstore.Event
	if dir == eventstore.Forwards {
		for _, e := range mine {
			if e.Version >= from {
				out = append(out, e)
			}
		}
	} else {
		for i := len(mine) - 1; i >= 0; i-- {
			if mine[i].Version <= from {
				out = append(out, mine[i])
			}
		}
	}
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (m *memStore) ReadAll(ctx context.Context, after eventstore.Position, max int) ([]eventstore.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []eventstore.Event
	for _, e := range m.log {
		if m.heldBefore(e.Position.Commit) {
			break
		}
		if e.Position.Compare(after) > 0 {
			out = append(out, e)
		}
		if max > 0 && len(out) == max {
			break
		}
	}
	return out, nil
}

func (m *memStore) heldBefore(seq uint64) bool {
	for s := range m.held {
		if s < seq {
			return true
		}
	}
	return false
}

func (m *memStore) Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error {
	return eventstore.Follow(ctx, m.ReadAll, m.notify, 50*time.Millisecond, after, h)
}

func (m *memStore) Head(ctx context.Context) (eventstore.Position, error) {
	all, _ := m.ReadAll(ctx, eventstore.Start, 0)
	if len(all) == 0 {
		return eventstore.Start, nil
	}
	return all[len(all)-1].Position, nil
}

func (m *memStore) Close() error { return nil }

// TestSuiteAgainstReference runs the suite, hooks included, on memStore.
func TestSuiteAgainstReference(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "memory",
		New:  func(testing.TB) eventstore.Store { return newMemStore() },
		Tamper: func(t testing.TB, s eventstore.Store, stream string, version uint64) {
			m := s.(*memStore)
			m.mu.Lock()
			defer m.mu.Unlock()
			for i := range m.log {
				if e := &m.log[i]; e.Stream == stream && e.Version == version {
					e.Data = append([]byte(nil), e.Data...)
					e.Data[len(e.Data)/2] ^= 0x01
					return
				}
			}
			t.Fatalf("no event %s v%d", stream, version)
		},
		HoldOpen: func(t testing.TB, s eventstore.Store, stream string, ev eventstore.NewEvent) func() {
			_, commit, err := s.(*memStore).begin(stream, eventstore.Any(), []eventstore.NewEvent{ev})
			if err != nil {
				t.Fatalf("hold open: %v", err)
			}
			return commit
		},
	})
}
