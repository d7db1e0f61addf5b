package commands

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Roles of the events a command appends, one sequence of ids per role, so a
// command that writes to two streams (a report: its claim, then its project)
// never derives the same id twice.
const (
	roleMain      = "main"
	roleProject   = "project"
	roleClaim     = "claim"
	roleRejection = "rejection"
	roleRecord    = "record"
)

// idNamespace is the UUID namespace of every id a command derives
// (uuid.NewSHA1, RFC 9562 version 5).
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/zhaoshang/zhaoshang/commands"))

// exec is one execution of one command: its metadata, and the seed every id
// it needs is derived from.
//
// With an idempotency key the seed is a hash of (subject, key, request
// fingerprint), so a retry of the same request derives the same project id,
// command id and event ids: even when the first attempt crashed between its
// append and its idempotency record, the retry's append is a no-op at the
// store (idempotent by event id), and the retry finds its own events when it
// loads the stream. The fingerprint is part of the seed so that a key reused
// with another body can never collide with the first request's events.
// Without a key the seed is random.
type exec struct {
	op            Operation
	meta          Meta
	keyed         bool
	fingerprint   string
	seed          []byte
	commandID     string
	correlationID string
	causationID   string
}

// maxKeyLen bounds an Idempotency-Key.
const maxKeyLen = 255

func newExec(cmd Command) (*exec, error) {
	x := &exec{op: cmd.Operation(), meta: cmd.Metadata()}
	if k := x.meta.IdempotencyKey; k != "" {
		if len(k) > maxKeyLen {
			return nil, domain.ValidationErrors{{Field: "Idempotency-Key", Rule: "too_long",
				Message: "must be at most " + strconv.Itoa(maxKeyLen) + " bytes"}}
		}
		for i := 0; i < len(k); i++ {
			if k[i] < 0x21 || k[i] > 0x7e {
				return nil, domain.ValidationErrors{{Field: "Idempotency-Key", Rule: "format",
					Message: "must be visible ASCII characters"}}
			}
		}
		fp, err := fingerprint(cmd)
		if err != nil {
			return nil, err
		}
		x.keyed, x.fingerprint = true, fp
		sum := sha256.Sum256([]byte(x.meta.Actor.Subject + "\x00" + k + "\x00" + fp))
		x.seed = sum[:]
	} else {
		r := uuid.New()
		x.seed = r[:]
	}
	x.commandID = x.derive("command").String()
	x.correlationID = x.meta.CorrelationID
	if x.correlationID == "" {
		x.correlationID = x.commandID
	}
	x.causationID = x.meta.RequestID
	if x.causationID == "" {
		x.causationID = x.commandID
	}
	return x, nil
}

// fingerprint identifies a request: its operation and the canonical JSON of
// its fields (path parameters included, Meta excluded). encoding/json writes
// struct fields in declaration order and map keys sorted, so equal requests
// have equal fingerprints.
func fingerprint(cmd Command) (string, error) {
	b, err := json.Marshal(struct {
		Operation Operation `json:"operation"`
		Request   Command   `json:"request"`
	}{cmd.Operation(), cmd})
	if err != nil {
		return "", domain.ValidationErrors{{Field: "", Rule: "not_representable",
			Message: "the request cannot be encoded: " + err.Error()}}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (x *exec) derive(label string) uuid.UUID {
	return uuid.NewSHA1(idNamespace, append(x.seed[:len(x.seed):len(x.seed)], label...))
}

// entityID is the id of the project, order or case a creating command
// creates.
func (x *exec) entityID() string { return x.derive("entity").String() }

func (x *exec) eventID(role string, i int) uuid.UUID {
	return x.derive("event/" + role + "/" + strconv.Itoa(i))
}

// findOwn finds, among a stream's event ids, the events of role this
// command appended on an earlier attempt: the index of the first and how
// many there are (0 when none). Only a keyed command can meet its own
// events.
func (x *exec) findOwn(ids []uuid.UUID, role string) (at, n int) {
	if !x.keyed {
		return 0, 0
	}
	first := x.eventID(role, 0)
	for i := range ids {
		if ids[i] != first {
			continue
		}
		n = 1
		for i+n < len(ids) && ids[i+n] == x.eventID(role, n) {
			n++
		}
		return i, n
	}
	return 0, 0
}

func (x *exec) result(id, stream string, version uint64, pos eventstore.Position, appended int) Result {
	return Result{ID: id, Stream: stream, Version: version, Position: pos, Appended: appended, CommandID: x.commandID}
}

// checkIfMatch refuses to decide on a stream that is not at the version the
// caller named.
func (x *exec) checkIfMatch(stream string, version uint64) error {
	if m := x.meta.IfMatch; m != nil && *m != version {
		return &PreconditionFailedError{Stream: stream, Expected: *m, Actual: version}
	}
	return nil
}

// precondition turns a version conflict on the stream the caller named with
// If-Match into the caller's failed precondition, which is not retried.
func (x *exec) precondition(stream string, err error) error {
	var vc *eventstore.VersionConflictError
	if x.meta.IfMatch != nil && errors.As(err, &vc) {
		return &PreconditionFailedError{Stream: stream, Expected: *x.meta.IfMatch, Actual: vc.Actual}
	}
	return err
}

// envelopes wraps domain events in the envelopes the store records, stamped
// by the server: actor, occurred_at (the event's business time), command,
// correlation and causation ids, and ids derived from the execution's seed.
func (x *exec) envelopes(role string, evs []domain.Event) ([]eventstore.NewEvent, error) {
	out := make([]eventstore.NewEvent, len(evs))
	for i, ev := range evs {
		data, err := domain.Encode(ev)
		if err != nil {
			return nil, err
		}
		out[i] = eventstore.NewEvent{
			ID: x.eventID(role, i), Type: ev.EventType(), Data: data, OccurredAt: ev.Occurred(),
			Actor: x.meta.Actor, CommandID: x.commandID, CorrelationID: x.correlationID, CausationID: x.causationID,
		}
	}
	return out, nil
}
