package esdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// maxAnyAttempts bounds how often an append with eventstore.Any rereads the
// stream after another writer took the version it had stamped its events
// for. Each lost race means another append succeeded, so this only runs
// out under heavy contention on one stream.
const maxAnyAttempts = 64

// Append stamps the events (recorded_at, version, prev_hash, hash) after the
// stream's last event and appends them at exactly that revision, so the hash
// chain can never fork. Appending events whose ids are all recorded already,
// in this stream and order, writes nothing and answers like the first
// append did; ids recorded anywhere else are refused (see idIndex).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent) (eventstore.AppendResult, error) {
	if err := eventstore.CheckStreamName(stream); err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(events) == 0 {
		return eventstore.AppendResult{}, fmt.Errorf("%w: no events to append to %q", eventstore.ErrInvalidEvent, stream)
	}
	ids := make(map[uuid.UUID]bool, len(events))
	for i := range events {
		if err := eventstore.CheckNew(&events[i]); err != nil {
			return eventstore.AppendResult{}, err
		}
		if ids[events[i].ID] {
			return eventstore.AppendResult{}, fmt.Errorf("%w: event id %s appears twice in one append", eventstore.ErrInvalidEvent, events[i].ID)
		}
		ids[events[i].ID] = true
	}
	var res eventstore.AppendResult
	err := s.h.do(func(c *esdbclient.Client) error {
		var err error
		res, err = s.appendWith(ctx, c, stream, expected, events)
		return err
	})
	if err != nil {
		if errors.Is(err, eventstore.ErrVersionConflict) || errors.Is(err, eventstore.ErrInvalidEvent) {
			return eventstore.AppendResult{}, err
		}
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
	}
	return res, nil
}

func (s *Store) appendWith(ctx context.Context, c *esdbclient.Client, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent) (eventstore.AppendResult, error) {
	want, exact := expected.Exact()
	for attempt := 1; ; attempt++ {
		// Recorded before (a retry): answer like the first append, whatever
		// the expected version says now.
		if res, ok, err := s.recorded(ctx, c, stream, events); err != nil || ok {
			return res, err
		}
		// The last event: the version to check and the hash to chain to.
		tail, err := s.readStream(ctx, c, stream, esdbclient.ReadStreamOptions{Direction: esdbclient.Backwards, From: esdbclient.End{}}, 1)
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			return eventstore.AppendResult{}, err
		}
		var (
			current  uint64
			prevHash string
		)
		if len(tail) > 0 {
			current, prevHash = tail[0].Version, tail[0].Hash
		}
		if exact && current != want {
			// What moved the stream since the ids were checked may have been
			// a retry of this very append, which then answers for both.
			if res, ok, err := s.recorded(ctx, c, stream, events); err != nil || ok {
				return res, err
			}
			return eventstore.AppendResult{}, conflict(stream, expected, current, nil)
		}

		// recorded_at is this process's clock: the store side's, by the
		// design (the server's own "created" time is not in the hash).
		recordedAt := s.now()
		data := make([]esdbclient.EventData, len(events))
		for i := range events {
			e := eventstore.Stamp(&events[i], stream, current+uint64(i)+1, prevHash, recordedAt)
			prevHash = e.Hash
			if data[i], err = encodeEvent(&e); err != nil {
				return eventstore.AppendResult{}, err
			}
		}
		wr, err := c.AppendToStream(ctx, s.scope.physical(stream), esdbclient.AppendToStreamOptions{ExpectedRevision: appendRevision(expected, current)}, data...)
		switch {
		case err == nil:
			return s.appendResult(ctx, c, stream, current, events, wr)
		case hasCode(err, esdbclient.ErrorCodeWrongExpectedVersion):
			// Another append reached the stream between the read and ours.
		case isInvalidArgument(err):
			// EventStoreDB refuses a write it cannot take (over its maximum
			// append size, for one): the events, not the moment, are wrong.
			return eventstore.AppendResult{}, fmt.Errorf("%w: EventStoreDB refused the append to %q: %w", eventstore.ErrInvalidEvent, stream, err)
		default:
			return eventstore.AppendResult{}, err
		}

		if !exact && attempt < maxAnyAttempts {
			if err := pause(ctx, attempt); err != nil {
				return eventstore.AppendResult{}, err
			}
			continue
		}
		// Likewise for the append that got there first.
		if res, ok, rerr := s.recorded(ctx, c, stream, events); rerr != nil || ok {
			return res, rerr
		}
		actual, ok := actualVersion(err)
		if !ok {
			actual = current
		}
		return eventstore.AppendResult{}, conflict(stream, expected, actual, err)
	}
}

// pause waits a little, at random, before an append with Any tries again,
// so writers that collided do not collide again in lockstep.
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(min(attempt, 20)) * time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// appendResult is the answer to a successful append. EventStoreDB reports
// one position for a whole write, which is the event's own for a
// one-event write; for a longer one the last event is read back for its
// position. A server answering for an identical earlier write reports that
// write's revision and position, which is the answer wanted.
func (s *Store) appendResult(ctx context.Context, c *esdbclient.Client, stream string, current uint64, events []eventstore.NewEvent, wr *esdbclient.WriteResult) (eventstore.AppendResult, error) {
	version := wr.NextExpectedVersion + 1
	if len(events) == 1 && version == current+1 && (wr.CommitPosition != 0 || wr.PreparePosition != 0) {
		return eventstore.AppendResult{
			Version:  version,
			Position: eventstore.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition},
		}, nil
	}
	got, err := s.readStream(ctx, c, stream, esdbclient.ReadStreamOptions{Direction: esdbclient.Backwards, From: streamRevision(version)}, 1)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("reading back the appended events: %w", err)
	}
	if len(got) != 1 || got[0].ID != events[len(events)-1].ID {
		return eventstore.AppendResult{}, fmt.Errorf("the server placed the append at revision %d, but the event there is not the last one appended", wr.NextExpectedVersion)
	}
	return eventstore.AppendResult{Version: got[0].Version, Position: got[0].Position}, nil
}

// isInvalidArgument reports the server refusing a request as malformed (the
// client wraps the raw gRPC status, which status.FromError finds).
func isInvalidArgument(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.InvalidArgument
}
