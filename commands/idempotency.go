package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Event types this package records beside the domain's. They are not domain
// facts, so the domain's registry does not know them and the projections skip
// them; they are in the log (and its hash chain) like every other event.
const (
	// TypeIdempotencyRecorded, in stream IdempotencyStream(subject, key):
	// the first answer to a keyed command.
	TypeIdempotencyRecorded = "IdempotencyRecorded"
	// TypeReadRecorded, in stream AccessStream(month): who read which
	// project history or tolerance case, and when (the audit's read log).
	TypeReadRecorded = "ReadRecorded"

	// CategoryIdempotency and CategoryAccess are those streams' prefixes.
	CategoryIdempotency = "idempotency"
	CategoryAccess      = "access"
)

// IdempotencyStream is "idempotency-<hex SHA-256 of subject NUL key>": one
// stream per key and subject, so keys of different users never meet and
// nothing of the key leaks into stream names.
func IdempotencyStream(subject, key string) string {
	sum := sha256.Sum256([]byte(subject + "\x00" + key))
	return CategoryIdempotency + "-" + hex.EncodeToString(sum[:])
}

// IdempotencyRecord is the data of TypeIdempotencyRecorded.
type IdempotencyRecord struct {
	Operation Operation `json:"operation"`
	Key       string    `json:"key"`
	// Fingerprint is the hex SHA-256 of the operation and the canonical JSON
	// of the request's fields.
	Fingerprint string `json:"fingerprint"`
	Result      Result `json:"result"`
}

// run executes one command with its idempotency key honoured (API.md: a
// retried command returns the first answer and appends nothing, across
// restarts; the same key with a different body is an error):
//
//  1. a stored record with the same fingerprint answers at once; one with
//     another fingerprint is ErrIdempotencyMismatch;
//  2. otherwise the command runs; its ids derive from (subject, key,
//     fingerprint), so a crash after its append and before step 3 leaves a
//     retry that finds its own events and appends nothing;
//  3. an accepted command's Result is recorded (appended with "no stream",
//     so of two concurrent twins exactly one record wins and both answer it).
//
// A rejected command records nothing — "a rejected command appends nothing"
// holds for keyed commands too — so retrying it decides again.
func (e *engine) run(ctx context.Context, cmd Command, fn func(context.Context, *exec) (Result, error)) (Result, error) {
	x, err := newExec(cmd)
	if err != nil {
		return Result{}, err
	}
	if !x.keyed {
		return fn(ctx, x)
	}
	stream := IdempotencyStream(x.meta.Actor.Subject, x.meta.IdempotencyKey)
	if rec, ok, err := e.readRecord(ctx, stream); err != nil {
		return Result{}, err
	} else if ok {
		return x.replay(rec)
	}
	r, err := fn(ctx, x)
	if err != nil {
		return r, err
	}
	data, err := json.Marshal(IdempotencyRecord{Operation: x.op, Key: x.meta.IdempotencyKey, Fingerprint: x.fingerprint, Result: r})
	if err != nil {
		return r, fmt.Errorf("commands: encode idempotency record: %w", err)
	}
	ne := eventstore.NewEvent{ID: x.eventID(roleRecord, 0), Type: TypeIdempotencyRecorded, Data: data,
		OccurredAt: e.now(), Actor: x.meta.Actor, CommandID: x.commandID, CorrelationID: x.correlationID,
		CausationID: x.causationID}
	_, err = e.store.Append(ctx, stream, eventstore.NoStream(), []eventstore.NewEvent{ne})
	switch {
	case err == nil:
		return r, nil
	case errors.Is(err, eventstore.ErrVersionConflict), errors.Is(err, eventstore.ErrInvalidEvent):
		// A concurrent request with the same key recorded its answer first.
		rec, ok, rerr := e.readRecord(ctx, stream)
		if rerr != nil {
			return r, rerr
		}
		if !ok {
			return r, err
		}
		return x.replay(rec)
	}
	// The command is recorded but its answer is not: the caller sees an
	// error, and its retry with the same key finds the command's events and
	// answers from them.
	return r, fmt.Errorf("commands: record idempotency key: %w", err)
}

// replay answers from a stored record, or refuses a mismatching request.
func (x *exec) replay(rec IdempotencyRecord) (Result, error) {
	if rec.Fingerprint != x.fingerprint {
		return Result{}, &IdempotencyMismatchError{Key: x.meta.IdempotencyKey, First: rec.Operation, Operation: x.op}
	}
	r := rec.Result
	r.Replayed = true
	return r, nil
}

func (e *engine) readRecord(ctx context.Context, stream string) (IdempotencyRecord, bool, error) {
	evs, err := e.store.ReadStream(ctx, stream, 1, eventstore.Forwards, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(evs) == 0 {
		return IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return IdempotencyRecord{}, false, fmt.Errorf("commands: read idempotency record: %w", err)
	}
	var rec IdempotencyRecord
	if evs[0].Type != TypeIdempotencyRecorded {
		return rec, false, fmt.Errorf("commands: %s holds a %s, not an idempotency record", stream, evs[0].Type)
	}
	if err := json.Unmarshal(evs[0].Data, &rec); err != nil {
		return rec, false, fmt.Errorf("commands: decode idempotency record in %s: %w", stream, err)
	}
	return rec, true, nil
}
