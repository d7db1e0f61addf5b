package eventstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Actor is who caused an event: the authenticated subject, their role and the
// unit they act for. Stamped by the server from the bearer token, never taken
// from a request body.
type Actor struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	Unit    string `json:"unit,omitempty"`
}

// NewEvent is an event proposed for appending. The store assigns the stream,
// version, global position, recorded_at and the hash-chain fields.
type NewEvent struct {
	// ID makes an append idempotent: appending the same IDs again answers
	// like the first append and writes nothing.
	ID         uuid.UUID
	Type       string
	Data       json.RawMessage
	OccurredAt time.Time
	Actor      Actor
	// CommandID, CorrelationID and CausationID tie the event to the command
	// that produced it and to the chain of work it belongs to.
	CommandID     string
	CorrelationID string
	CausationID   string
}

// Event is a recorded event: the envelope every reader sees.
type Event struct {
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	Position      Position        `json:"position"`
	Type          string          `json:"type"`
	Data          json.RawMessage `json:"data"`
	OccurredAt    time.Time       `json:"occurred_at"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Actor         Actor           `json:"actor"`
	CommandID     string          `json:"command_id,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CausationID   string          `json:"causation_id,omitempty"`
	PrevHash      string          `json:"prev_hash"`
	Hash          string          `json:"hash"`
}

// AppendResult answers an append: the stream's version after it (the version
// of its last event) and the global position of the last event written.
type AppendResult struct {
	Version  uint64
	Position Position
}

// Position is a place in the global log, totally ordered by (Commit, Prepare).
//
// The embedded store uses one sequence number for both. PostgreSQL uses the
// committing transaction's xid8 as Commit and the row's sequence as Prepare,
// the order in which a reader that only reads below pg_snapshot_xmin can
// never skip a late commit. EventStoreDB uses its commit and prepare
// positions. The zero Position is before the first event.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event of the log.
var Start = Position{}

// Compare orders two positions: -1, 0 or +1.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Position{} }

// String renders "N" when both parts are equal (the embedded store) and
// "C-P" otherwise. ParsePosition reads either form back.
func (p Position) String() string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Commit, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "-" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads the form String writes. The empty string is Start.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Start, nil
	}
	c, p, two := strings.Cut(s, "-")
	cv, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: not a position (want N or C-P)", s)
	}
	if !two {
		return Position{Commit: cv, Prepare: cv}, nil
	}
	pv, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: not a position (want N or C-P)", s)
	}
	return Position{Commit: cv, Prepare: pv}, nil
}

// MarshalText writes the String form, so positions are strings in JSON.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads the String form.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// TimePrecision is the precision every stored timestamp is truncated to, the
// finest PostgreSQL keeps, so that a hash computed at append time can be
// recomputed from any backend's copy.
const TimePrecision = time.Microsecond

// NormalizeTime is the form of a timestamp that is stored and hashed: UTC,
// truncated to microseconds.
func NormalizeTime(t time.Time) time.Time { return t.UTC().Truncate(TimePrecision) }
