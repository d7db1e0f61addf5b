package eventstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// HashEncodingVersion names the canonical encoding below. A change to the
// encoding is a new version, never an edit: old events keep their hashes.
const HashEncodingVersion = "zhaoshang/event/v1"

// hashTimeLayout is RFC 3339 in UTC with exactly six fractional digits.
const hashTimeLayout = "2006-01-02T15:04:05.000000Z"

// CanonicalEncoding is the byte string an event's hash is the SHA-256 of:
// the line "zhaoshang/event/v1\n", then each field as a netstring-like
// record "<decimal byte length>:<bytes>\n", in this order: id, stream,
// version (decimal), type, occurred_at, recorded_at (both UTC, six
// fractional digits), actor subject, actor role, actor unit, command_id,
// correlation_id, causation_id, data (the JSON bytes exactly as stored),
// prev_hash (lowercase hex, empty for a stream's first event).
// docs/eventstore.md shows how to recompute it with other tools.
func CanonicalEncoding(e *Event) []byte {
	b := make([]byte, 0, 256+len(e.Data))
	b = append(b, HashEncodingVersion...)
	b = append(b, '\n')
	field := func(s []byte) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, '\n')
	}
	str := func(s string) { field([]byte(s)) }
	str(e.ID.String())
	str(e.Stream)
	str(strconv.FormatUint(e.Version, 10))
	str(e.Type)
	str(e.OccurredAt.UTC().Format(hashTimeLayout))
	str(e.RecordedAt.UTC().Format(hashTimeLayout))
	str(e.Actor.Subject)
	str(e.Actor.Role)
	str(e.Actor.Unit)
	str(e.CommandID)
	str(e.CorrelationID)
	str(e.CausationID)
	field(e.Data)
	str(e.PrevHash)
	return b
}

// ComputeHash is the lowercase hex SHA-256 of CanonicalEncoding(e).
func ComputeHash(e *Event) string {
	sum := sha256.Sum256(CanonicalEncoding(e))
	return hex.EncodeToString(sum[:])
}

// CheckNew validates a proposed event before any backend writes it.
func CheckNew(ne *NewEvent) error {
	if ne.ID == uuid.Nil {
		return fmt.Errorf("%w: event id is missing", ErrInvalidEvent)
	}
	if ne.Type == "" {
		return fmt.Errorf("%w: event %s has no type", ErrInvalidEvent, ne.ID)
	}
	if len(ne.Data) == 0 || !json.Valid(ne.Data) {
		return fmt.Errorf("%w: event %s data is not JSON", ErrInvalidEvent, ne.ID)
	}
	if ne.OccurredAt.IsZero() {
		return fmt.Errorf("%w: event %s has no occurred_at", ErrInvalidEvent, ne.ID)
	}
	return nil
}

// CheckStreamName refuses names a backend cannot keep faithfully.
func CheckStreamName(stream string) error {
	if stream == "" || len(stream) > 200 {
		return fmt.Errorf("%w: stream name must be 1 to 200 bytes", ErrInvalidEvent)
	}
	if stream[0] == '$' {
		return fmt.Errorf("%w: stream names starting with $ are reserved", ErrInvalidEvent)
	}
	return nil
}

// Stamp turns a proposed event into the recorded event at stream/version,
// chained to prevHash and recorded at recordedAt: the one place the
// store-side fields and the hash are set, for every backend.
func Stamp(ne *NewEvent, stream string, version uint64, prevHash string, recordedAt time.Time) Event {
	e := Event{
		ID:            ne.ID,
		Stream:        stream,
		Version:       version,
		Type:          ne.Type,
		Data:          ne.Data,
		OccurredAt:    NormalizeTime(ne.OccurredAt),
		RecordedAt:    NormalizeTime(recordedAt),
		Actor:         ne.Actor,
		CommandID:     ne.CommandID,
		CorrelationID: ne.CorrelationID,
		CausationID:   ne.CausationID,
		PrevHash:      prevHash,
	}
	e.Hash = ComputeHash(&e)
	return e
}

// SameEvent reports whether a recorded event is the one proposed, for
// idempotent retries: same id, type and data.
func SameEvent(recorded *Event, proposed *NewEvent) bool {
	return recorded.ID == proposed.ID && recorded.Type == proposed.Type && string(recorded.Data) == string(proposed.Data)
}
