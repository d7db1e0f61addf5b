package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// ReadStream reads a stream forwards or backwards from a version
// (inclusive). A stream without events answers eventstore.ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	if err := eventstore.CheckStreamName(stream); err != nil {
		return nil, err
	}
	count := uint64(math.MaxUint64)
	if limit > 0 {
		count = uint64(limit)
	}
	opts := esdbclient.ReadStreamOptions{Direction: esdbclient.Forwards, From: streamRevision(max(from, 1))}
	empty := false
	if dir == eventstore.Backwards {
		opts.Direction = esdbclient.Backwards
		opts.From = streamRevision(from)
		if from == 0 {
			// Nothing is at or before version 0, but whether the stream
			// exists still decides between no events and ErrStreamNotFound.
			opts.From, count, empty = esdbclient.End{}, 1, true
		}
	}
	var out []eventstore.Event
	err := s.h.do(func(c *esdbclient.Client) error {
		var err error
		out, err = s.readStream(ctx, c, stream, opts, count)
		return err
	})
	if err != nil {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("eventstore/esdb: read %q: %w", stream, err)
	}
	if empty {
		return []eventstore.Event{}, nil
	}
	return out, nil
}

// readStream reads a stream by the name the caller knows it by. The client
// reports a missing stream on the first Recv, not on ReadStream.
func (s *Store) readStream(ctx context.Context, c *esdbclient.Client, stream string, opts esdbclient.ReadStreamOptions, count uint64) ([]eventstore.Event, error) {
	rs, err := c.ReadStream(ctx, s.scope.physical(stream), opts, count)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []eventstore.Event{}
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if hasCode(err, esdbclient.ErrorCodeResourceNotFound) {
			return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
		}
		if err != nil {
			return nil, err
		}
		e, err := decodeEvent(ev.OriginalEvent(), stream)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

// readAllChunk is how many events ReadAll asks for at a time.
const readAllChunk = 1024

// ReadAll reads up to limit events of the global log after a position
// (exclusive), in order, leaving out EventStoreDB's own events. limit <= 0
// reads to the end. EventStoreDB serves $all in commit order and only what
// is committed, so no event can appear later before one already read.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	var out []eventstore.Event
	err := s.h.do(func(c *esdbclient.Client) error {
		var err error
		out, err = s.readAll(ctx, c, after, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: read all after %s: %w", after, err)
	}
	return out, nil
}

func (s *Store) readAll(ctx context.Context, c *esdbclient.Client, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	out := []eventstore.Event{}
	chunk := uint64(readAllChunk)
	if limit > 0 && uint64(limit)+1 < chunk {
		chunk = uint64(limit) + 1
	}
	err := walkAll(ctx, c, s.scope.start(after), chunk, func(re *esdbclient.RecordedEvent, _ eventstore.Position) (bool, error) {
		name, ok := s.scope.visible(re)
		if !ok {
			return false, nil
		}
		e, err := decodeEvent(re, name)
		if err != nil {
			return false, err
		}
		out = append(out, e)
		return limit > 0 && len(out) == limit, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// walkAll reads $all forwards after bound (exclusive), chunk events at a
// time, handing fn every event, EventStoreDB's own included, until fn says
// to stop or the log ends. A forwards read from a position includes the
// event there, which the previous chunk already handed over: everything at
// or before the last position handed over is skipped.
func walkAll(ctx context.Context, c *esdbclient.Client, bound eventstore.Position, chunk uint64, fn func(re *esdbclient.RecordedEvent, p eventstore.Position) (stop bool, err error)) error {
	for {
		rs, err := c.ReadAll(ctx, esdbclient.ReadAllOptions{Direction: esdbclient.Forwards, From: fromPosition(bound)}, chunk)
		if err != nil {
			return err
		}
		n, advanced, stop, err := func() (n uint64, advanced, stop bool, err error) {
			defer rs.Close()
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return n, advanced, false, nil
				}
				if err != nil {
					return n, advanced, false, err
				}
				n++
				re := ev.OriginalEvent()
				p := toPosition(re.Position)
				if p.Compare(bound) <= 0 {
					continue
				}
				bound, advanced = p, true
				if stop, err := fn(re, p); stop || err != nil {
					return n, advanced, stop, err
				}
			}
		}()
		switch {
		case err != nil:
			return err
		case stop || n < chunk:
			return nil
		case !advanced:
			return fmt.Errorf("$all did not advance past %s", bound)
		}
	}
}
