package bench

import (
	"context"
	"errors"
	"sort"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// memLog is a generated log served as a read-only event store, so that the
// in-memory rebuild and its decode-only floor go through
// projections.Replay — the runner's own pipeline — from a source that costs
// nothing to read. The events are served as they are, not copied.
type memLog struct {
	evs []eventstore.Event // in global order
}

var errReadOnly = errors.New("bench: the in-memory log is read-only")

var _ eventstore.Store = memLog{}

// after is the index of the first event after pos.
func (m memLog) after(pos eventstore.Position) int {
	return sort.Search(len(m.evs), func(i int) bool { return m.evs[i].Position.Compare(pos) > 0 })
}

func (m memLog) ReadAll(ctx context.Context, after eventstore.Position, max int) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i := m.after(after)
	j := len(m.evs)
	if max > 0 {
		j = min(j, i+max)
	}
	return m.evs[i:j:j], nil
}

func (m memLog) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, max int) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []eventstore.Event
	for i := range m.evs {
		if m.evs[i].Stream == stream {
			all = append(all, m.evs[i])
		}
	}
	if len(all) == 0 {
		return nil, eventstore.ErrStreamNotFound
	}
	var out []eventstore.Event
	if dir == eventstore.Backwards {
		for i := len(all) - 1; i >= 0 && (max <= 0 || len(out) < max); i-- {
			if all[i].Version <= from {
				out = append(out, all[i])
			}
		}
		return out, nil
	}
	for i := range all {
		if all[i].Version >= from && (max <= 0 || len(out) < max) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// Subscribe delivers the whole log after pos, then waits for ctx: a
// read-only log has no live events.
func (m memLog) Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error {
	for i := m.after(after); i < len(m.evs); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := h(m.evs[i]); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

func (m memLog) Head(context.Context) (eventstore.Position, error) {
	if len(m.evs) == 0 {
		return eventstore.Start, nil
	}
	return m.evs[len(m.evs)-1].Position, nil
}

func (m memLog) Append(context.Context, string, eventstore.ExpectedVersion, []eventstore.NewEvent) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, errReadOnly
}

func (memLog) Close() error { return nil }
