package relay

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Metadata keys of a published message. They repeat envelope fields so that
// a consumer can route and filter (and a broker can index headers) without
// decoding the payload.
const (
	MetaType          = "type"
	MetaStream        = "stream"
	MetaVersion       = "version"
	MetaPosition      = "position"
	MetaCommandID     = "command_id"
	MetaCorrelationID = middleware.CorrelationIDMetadataKey
	MetaCausationID   = "causation_id"
	MetaOccurredAt    = "occurred_at"
	MetaRecordedAt    = "recorded_at"
	// MetaEventID is set on poisoned copies, whose message id is not the
	// event id (see NewRouter).
	MetaEventID = "event_id"
)

// NewMessage is the message the relay publishes for e: its UUID is the event
// id (so brokers and consumers deduplicate re-publications), its payload the
// envelope as JSON (eventstore.Event's encoding, hash fields included, so a
// consumer can check it), its metadata the envelope's routing fields.
//
// The correlation id is the event's, or the event id when the event has
// none, so that watermill's CorrelationID middleware always has one to pass
// on to what a handler produces.
func NewMessage(e eventstore.Event) (*message.Message, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("relay: encode event %s: %w", e.ID, err)
	}
	msg := message.NewMessage(e.ID.String(), payload)
	msg.Metadata.Set(MetaType, e.Type)
	msg.Metadata.Set(MetaStream, e.Stream)
	msg.Metadata.Set(MetaVersion, strconv.FormatUint(e.Version, 10))
	msg.Metadata.Set(MetaPosition, e.Position.String())
	msg.Metadata.Set(MetaOccurredAt, e.OccurredAt.UTC().Format(time.RFC3339Nano))
	msg.Metadata.Set(MetaRecordedAt, e.RecordedAt.UTC().Format(time.RFC3339Nano))
	correlation := e.CorrelationID
	if correlation == "" {
		correlation = e.ID.String()
	}
	msg.Metadata.Set(MetaCorrelationID, correlation)
	if e.CausationID != "" {
		msg.Metadata.Set(MetaCausationID, e.CausationID)
	}
	if e.CommandID != "" {
		msg.Metadata.Set(MetaCommandID, e.CommandID)
	}
	return msg, nil
}

// EventOf decodes the envelope a relay message (or its poisoned copy)
// carries and checks that it is the event the message claims to be.
func EventOf(msg *message.Message) (eventstore.Event, error) {
	var e eventstore.Event
	if err := json.Unmarshal(msg.Payload, &e); err != nil {
		return eventstore.Event{}, fmt.Errorf("relay: message %s: payload is not an event envelope: %w", msg.UUID, err)
	}
	id := msg.UUID
	if poisoned := msg.Metadata.Get(MetaEventID); poisoned != "" {
		id = poisoned
	}
	if e.ID.String() != id {
		return eventstore.Event{}, fmt.Errorf("relay: message %s carries event %s", msg.UUID, e.ID)
	}
	return e, nil
}
