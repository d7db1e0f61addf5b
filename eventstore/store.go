package eventstore

import (
	"context"
	"math"
)

// Direction of a stream read.
type Direction uint8

const (
	Forwards Direction = iota
	Backwards
)

// End, as the from-version of a backwards read, starts at the last event.
const End uint64 = math.MaxUint64

// Handler receives subscribed events one at a time, in global order. Returning
// an error stops the subscription with that error.
type Handler func(Event) error

// Store is the event store every backend implements.
type Store interface {
	// Append writes events to the end of stream atomically, if the stream's
	// version satisfies expected. Appending events whose IDs were all
	// appended before, to the same stream in the same order, writes nothing
	// and answers like the first append. A refused condition is a
	// *VersionConflictError.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events []NewEvent) (AppendResult, error)
	// ReadStream reads up to max events of a stream, forwards from version
	// from (inclusive, 1 is the first event) or backwards from version from
	// (inclusive; End is the last event). max <= 0 means all. A stream with
	// no events answers ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, from uint64, dir Direction, max int) ([]Event, error)
	// ReadAll reads up to max events of the global log after position
	// after (exclusive), in global order. It never returns an event while
	// an earlier one may still commit.
	ReadAll(ctx context.Context, after Position, max int) ([]Event, error)
	// Subscribe delivers every event after position after (exclusive), in
	// global order and each once: first those already recorded, then live
	// ones as they commit. It blocks until ctx is done (returning ctx.Err())
	// or h returns an error (returning it). Resume by passing the position
	// of the last event handled.
	Subscribe(ctx context.Context, after Position, h Handler) error
	// Head is the position of the last event a reader can see now.
	Head(ctx context.Context) (Position, error)
	Close() error
}
