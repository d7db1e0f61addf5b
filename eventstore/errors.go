package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrVersionConflict is matched (errors.Is) by every backend's
	// *VersionConflictError.
	ErrVersionConflict = errors.New("eventstore: version conflict")
	// ErrStreamNotFound is returned when reading a stream that has no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrInvalidEvent is returned for an event the store refuses to record
	// (no type, data that is not JSON, an ID reused in a different place).
	ErrInvalidEvent = errors.New("eventstore: invalid event")
)

// VersionConflictError is the one concurrency error of all backends.
type VersionConflictError struct {
	Stream   string
	Expected ExpectedVersion
	// Actual is the stream's version when the append was refused, when the
	// backend reports it (EventStoreDB may not).
	Actual uint64
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("eventstore: version conflict on %q: expected %s, stream is at version %d", e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrVersionConflict) true.
func (e *VersionConflictError) Is(target error) bool { return target == ErrVersionConflict }
