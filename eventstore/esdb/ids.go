package esdb

import (
	"context"
	"fmt"
	"sync"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// idIndex maps every event id of the log to where it is, so that an append
// of ids recorded before is answered like the first append, and an id
// reused anywhere else is refused (eventstore.ErrInvalidEvent).
//
// EventStoreDB keeps no index by event id: its own idempotency only looks
// at the place an exact expectation names, or, for "any", at a bounded
// cache of the stream's recent writes. So the store keeps one, fed from
// $all. It is built on the first append (reads that never append pay
// nothing) and brought up to the end of the log before every append, which
// also brings in what other processes appended. It costs memory in
// proportion to the log, about 50 bytes an event.
//
// Bringing it up to date is shared: an append needs a round of reading $all
// that started after the append did (so it sees every append acknowledged
// before), and concurrent appends share rounds, so a burst of N appends
// costs about two reads of the log's tail, not N.
//
// Two appends racing to record the same id in two different streams, from
// two processes or at the same instant, are not caught; a retry of one
// append (the case idempotency exists for) is, because it targets the same
// stream and the expected revision orders the two.
type idIndex struct {
	mu       sync.Mutex
	through  eventstore.Position // every event up to here is indexed
	refs     map[uuid.UUID]idRef
	streams  []string
	streamNo map[string]uint32

	started, done uint64        // rounds of catching up started, and the last that succeeded
	running       bool          // a round is under way
	finished      chan struct{} // closed when the round under way ends
}

// idRef is where an event is: its stream (by number, names are kept once)
// and its version.
type idRef struct {
	stream  uint32
	version uint64
}

// idEntry is an id read from the log, waiting to be indexed.
type idEntry struct {
	id      uuid.UUID
	stream  string
	version uint64
}

// add indexes entries read up to position through. ix.mu is held.
func (ix *idIndex) add(entries []idEntry, through eventstore.Position) {
	if ix.refs == nil {
		ix.refs = map[uuid.UUID]idRef{}
		ix.streamNo = map[string]uint32{}
	}
	for _, e := range entries {
		no, ok := ix.streamNo[e.stream]
		if !ok {
			no = uint32(len(ix.streams))
			ix.streams = append(ix.streams, e.stream)
			ix.streamNo[e.stream] = no
		}
		ix.refs[e.id] = idRef{stream: no, version: e.version}
	}
	ix.through = through
}

// syncIDs returns once the index holds every event recorded before the
// call, running a round of catching up or waiting for one that started
// after the call.
func (s *Store) syncIDs(ctx context.Context, c *esdbclient.Client) error {
	ix := &s.ids
	ix.mu.Lock()
	need := ix.started + 1 // the next round to start begins after this call
	for ix.done < need {
		if ix.running {
			finished := ix.finished
			ix.mu.Unlock()
			select {
			case <-finished:
			case <-ctx.Done():
				return ctx.Err()
			}
			ix.mu.Lock()
			continue
		}
		ix.started++
		round := ix.started
		ix.running, ix.finished = true, make(chan struct{})
		ix.mu.Unlock()
		err := s.catchUp(ctx, c)
		ix.mu.Lock()
		ix.running = false
		close(ix.finished)
		if err != nil {
			// Waiters start a round of their own.
			ix.mu.Unlock()
			return err
		}
		ix.done = round
	}
	ix.mu.Unlock()
	return nil
}

// idFlush is how many ids a round collects before indexing them.
const idFlush = 4096

// catchUp indexes what was recorded after ix.through. Only one runs at a
// time (syncIDs sees to it); lookups go on meanwhile.
func (s *Store) catchUp(ctx context.Context, c *esdbclient.Client) error {
	ix := &s.ids
	ix.mu.Lock()
	from := ix.through
	ix.mu.Unlock()
	var (
		batch   []idEntry
		reached = from
	)
	flush := func() {
		ix.mu.Lock()
		ix.add(batch, reached)
		ix.mu.Unlock()
		batch = batch[:0]
	}
	err := walkAll(ctx, c, s.scope.start(from), readAllChunk, func(re *esdbclient.RecordedEvent, p eventstore.Position) (bool, error) {
		if name, ok := s.scope.visible(re); ok {
			batch = append(batch, idEntry{id: re.EventID, stream: name, version: re.EventNumber + 1})
		}
		reached = p
		if len(batch) == idFlush {
			flush()
		}
		return false, nil
	})
	flush()
	return err
}

// recorded answers an append whose ids are all recorded already, in this
// stream, consecutively and in this order, with the same types and data:
// ok is true and res is what the first append answered. When none of the
// ids is recorded, ok is false. Any other use of recorded ids is an
// eventstore.ErrInvalidEvent.
func (s *Store) recorded(ctx context.Context, c *esdbclient.Client, stream string, events []eventstore.NewEvent) (res eventstore.AppendResult, ok bool, err error) {
	if err := s.syncIDs(ctx, c); err != nil {
		return eventstore.AppendResult{}, false, fmt.Errorf("indexing event ids: %w", err)
	}
	ix := &s.ids
	ix.mu.Lock()
	refs := make([]idRef, 0, len(events))
	for i := range events {
		if ref, ok := ix.refs[events[i].ID]; ok {
			refs = append(refs, ref)
		}
	}
	var where []string
	for _, ref := range refs {
		where = append(where, ix.streams[ref.stream])
	}
	ix.mu.Unlock()

	switch {
	case len(refs) == 0:
		return eventstore.AppendResult{}, false, nil
	case len(refs) < len(events):
		return eventstore.AppendResult{}, false, fmt.Errorf("%w: %d of the %d events appended to %q are recorded already", eventstore.ErrInvalidEvent, len(refs), len(events), stream)
	}
	for i, ref := range refs {
		if where[i] != stream || ref.version != refs[0].version+uint64(i) {
			return eventstore.AppendResult{}, false, fmt.Errorf("%w: event id %s is recorded already, as %q version %d", eventstore.ErrInvalidEvent, events[i].ID, where[i], ref.version)
		}
	}
	got, err := s.readStream(ctx, c, stream, esdbclient.ReadStreamOptions{Direction: esdbclient.Forwards, From: streamRevision(refs[0].version)}, uint64(len(events)))
	if err != nil {
		return eventstore.AppendResult{}, false, err
	}
	if len(got) != len(events) {
		return eventstore.AppendResult{}, false, fmt.Errorf("%q holds %d events from version %d, the id index expects %d", stream, len(got), refs[0].version, len(events))
	}
	for i := range events {
		if got[i].ID != events[i].ID {
			return eventstore.AppendResult{}, false, fmt.Errorf("%q version %d holds event %s, the id index expects %s", stream, got[i].Version, got[i].ID, events[i].ID)
		}
		if !eventstore.SameEvent(&got[i], &events[i]) {
			return eventstore.AppendResult{}, false, fmt.Errorf("%w: event id %s is recorded already in %q with a different type or data", eventstore.ErrInvalidEvent, events[i].ID, stream)
		}
	}
	last := got[len(got)-1]
	return eventstore.AppendResult{Version: last.Version, Position: last.Position}, true, nil
}
