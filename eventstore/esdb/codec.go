package esdb

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	json "github.com/goccy/go-json"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// metaFormat names the layout of the metadata JSON every event carries. A
// different layout gets a different name; readers refuse names they do not
// know rather than guess.
const metaFormat = "zhaoshang/esdb/v1"

// metaTimeLayout is RFC 3339 in UTC with six fractional digits, the
// precision eventstore.NormalizeTime keeps and the hash covers.
const metaTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// envelopeMeta is the event's metadata (EventStoreDB's "custom metadata"):
// every envelope field that is not the event id, type, data, stream or
// position, which EventStoreDB keeps itself. Correlation and causation use
// EventStoreDB's own keys, so its $by_correlation_id projection understands
// them.
type envelopeMeta struct {
	Format        string           `json:"format"`
	Version       uint64           `json:"version"`
	OccurredAt    string           `json:"occurred_at"`
	RecordedAt    string           `json:"recorded_at"`
	Actor         eventstore.Actor `json:"actor"`
	CommandID     string           `json:"command_id,omitempty"`
	CorrelationID string           `json:"$correlationId,omitempty"`
	CausationID   string           `json:"$causationId,omitempty"`
	PrevHash      string           `json:"prev_hash"`
	Hash          string           `json:"hash"`
}

// encodeEvent turns a stamped event into what is sent to EventStoreDB: the
// event id (which is what EventStoreDB's own idempotency keys on), the type,
// the data byte for byte as JSON, and the envelope in the metadata.
func encodeEvent(e *eventstore.Event) (esdbclient.EventData, error) {
	meta, err := json.Marshal(envelopeMeta{
		Format:        metaFormat,
		Version:       e.Version,
		OccurredAt:    e.OccurredAt.UTC().Format(metaTimeLayout),
		RecordedAt:    e.RecordedAt.UTC().Format(metaTimeLayout),
		Actor:         e.Actor,
		CommandID:     e.CommandID,
		CorrelationID: e.CorrelationID,
		CausationID:   e.CausationID,
		PrevHash:      e.PrevHash,
		Hash:          e.Hash,
	})
	if err != nil {
		return esdbclient.EventData{}, fmt.Errorf("eventstore/esdb: encode metadata of event %s: %w", e.ID, err)
	}
	return esdbclient.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: esdbclient.ContentTypeJson,
		Data:        e.Data,
		Metadata:    meta,
	}, nil
}

// errNoPosition reports a server that does not give stream reads their
// positions (EventStoreDB before 22.6 sends the maximum value instead).
var errNoPosition = errors.New("eventstore/esdb: the server reported no position for an event (EventStoreDB 22.6 or later is required)")

// decodeEvent turns a recorded event back into the envelope. stream is the
// name the caller knows the stream by. The version is the stream revision
// plus one, from where EventStoreDB keeps the event, not from the metadata:
// should the two ever differ, the hash (which covers the version) tells.
// Failures are decodeErrors: retrying will not cure them.
func decodeEvent(re *esdbclient.RecordedEvent, stream string) (eventstore.Event, error) {
	if re.Position.Commit == math.MaxUint64 || re.Position.Prepare == math.MaxUint64 {
		return eventstore.Event{}, decodeError{errNoPosition}
	}
	var m envelopeMeta
	if err := json.Unmarshal(re.UserMetadata, &m); err != nil || m.Format != metaFormat {
		return eventstore.Event{}, decodeError{fmt.Errorf("eventstore/esdb: event %s at %s@%d was not written by zhaoshang (metadata format %q)", re.EventID, re.StreamID, re.EventNumber, m.Format)}
	}
	occurred, err := time.Parse(time.RFC3339Nano, m.OccurredAt)
	if err != nil {
		return eventstore.Event{}, decodeError{fmt.Errorf("eventstore/esdb: event %s: occurred_at: %w", re.EventID, err)}
	}
	recorded, err := time.Parse(time.RFC3339Nano, m.RecordedAt)
	if err != nil {
		return eventstore.Event{}, decodeError{fmt.Errorf("eventstore/esdb: event %s: recorded_at: %w", re.EventID, err)}
	}
	return eventstore.Event{
		ID:            re.EventID,
		Stream:        stream,
		Version:       re.EventNumber + 1,
		Position:      toPosition(re.Position),
		Type:          re.EventType,
		Data:          re.Data,
		OccurredAt:    occurred.UTC(),
		RecordedAt:    recorded.UTC(),
		Actor:         m.Actor,
		CommandID:     m.CommandID,
		CorrelationID: m.CorrelationID,
		CausationID:   m.CausationID,
		PrevHash:      m.PrevHash,
		Hash:          m.Hash,
	}, nil
}

// toPosition maps EventStoreDB's commit/prepare position one-to-one.
func toPosition(p esdbclient.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// fromPosition is where a read or subscription of $all starts: the start of
// the log for eventstore.Start, else the position itself.
func fromPosition(p eventstore.Position) esdbclient.AllPosition {
	if p.IsZero() {
		return esdbclient.Start{}
	}
	return esdbclient.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// appendRevision is the revision condition an append is sent with, for a
// stream just read at version current. An exact expectation maps one to one
// (NoStream to esdb.NoStream, Exact(v) to esdb.Revision(v-1): our versions
// count from 1, EventStoreDB's revisions from 0). Any is sent as the
// revision just read, never as esdb.Any: the events were chained to the
// hash of that revision's event and must land right after it or not at all.
func appendRevision(expected eventstore.ExpectedVersion, current uint64) esdbclient.ExpectedRevision {
	v, exact := expected.Exact()
	if !exact {
		v = current
	}
	if v == 0 {
		return esdbclient.NoStream{}
	}
	return esdbclient.Revision(v - 1)
}

// streamRevision is where a stream read starts for a 1-based version.
func streamRevision(version uint64) esdbclient.StreamPosition {
	if version == eventstore.End {
		return esdbclient.End{}
	}
	if version == 0 {
		return esdbclient.Start{}
	}
	return esdbclient.Revision(version - 1)
}

// hasCode reports whether err is, or wraps, the client's error with code.
// errors.As, not esdb.FromError, which only type-asserts and so misses
// wrapped errors.
func hasCode(err error, code esdbclient.ErrorCode) bool {
	var e *esdbclient.Error
	return errors.As(err, &e) && e.Code() == code
}

// wrongVersionRE reads the current revision out of the v4.2.0 client's
// wrong-expected-version error, the only place the client exposes it:
// "wrong expected version: expecting '…' but got '…'".
var wrongVersionRE = regexp.MustCompile(`but got '(no_stream|\d+)'`)

// actualVersion is the stream's version a wrong-expected-version error
// reports, when it reports one.
func actualVersion(err error) (uint64, bool) {
	var e *esdbclient.Error
	if !errors.As(err, &e) || e.Code() != esdbclient.ErrorCodeWrongExpectedVersion || e.Err() == nil {
		return 0, false
	}
	m := wrongVersionRE.FindStringSubmatch(e.Err().Error())
	if m == nil {
		return 0, false
	}
	if m[1] == "no_stream" {
		return 0, true
	}
	rev, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return rev + 1, true
}

// conflict is the version-conflict error for stream. When the server
// refused the append, its error is wrapped too, so both errors.As(err,
// **eventstore.VersionConflictError) and errors.As(err, **esdb.Error) work.
func conflict(stream string, expected eventstore.ExpectedVersion, actual uint64, server error) error {
	vc := &eventstore.VersionConflictError{Stream: stream, Expected: expected, Actual: actual}
	if server == nil {
		return vc
	}
	return fmt.Errorf("%w (server: %w)", vc, server)
}

// permanent reports errors that retrying cannot cure, which end a
// subscription instead of resubscribing: refused credentials or rights, a
// request the server does not understand, and events the adapter cannot
// decode.
func permanent(err error) bool {
	var e *esdbclient.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdbclient.ErrorCodeUnauthenticated, esdbclient.ErrorCodeAccessDenied, esdbclient.ErrorCodeUnsupportedFeature, esdbclient.ErrorCodeParsing:
			return true
		}
	}
	// status.FromError finds the raw gRPC status the client wraps.
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
			return true
		}
	}
	var d decodeError
	return errors.As(err, &d)
}

// decodeError marks an event the adapter could not turn into an envelope.
type decodeError struct{ err error }

func (d decodeError) Error() string { return d.err.Error() }
func (d decodeError) Unwrap() error { return d.err }

// isSystem reports EventStoreDB's own events: system streams and system
// event types start with "$". None of ours do (eventstore.CheckStreamName
// refuses such stream names and event types are our domain's).
func isSystem(stream, eventType string) bool {
	return strings.HasPrefix(stream, "$") || strings.HasPrefix(eventType, "$")
}
