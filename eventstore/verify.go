package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
)

// SealStream holds the global seals; SealType is their event type.
const (
	SealStream = "seals"
	SealType   = "LedgerSealed"
)

// SealData is a seal's payload: the digest of the global log through a
// position. The digest chains every event hash in global order:
// d0 = 32 zero bytes, d_i = SHA-256(d_{i-1} || raw hash of event i).
type SealData struct {
	Through Position `json:"through"`
	Events  uint64   `json:"events"`
	Digest  string   `json:"digest"`
}

// Fault locates the first event verification found wrong.
type Fault struct {
	Position Position  `json:"position"`
	Stream   string    `json:"stream"`
	Version  uint64    `json:"version"`
	EventID  uuid.UUID `json:"event_id"`
	Reason   string    `json:"reason"`
}

// Report is the outcome of Verify.
type Report struct {
	OK            bool     `json:"ok"`
	EventsChecked uint64   `json:"events_checked"`
	Streams       int      `json:"streams"`
	SealsChecked  int      `json:"seals_checked"`
	Faults        int      `json:"faults"`
	FirstBad      *Fault   `json:"first_bad,omitempty"`
	Through       Position `json:"through"`
	Digest        string   `json:"digest"`
}

type digest [sha256.Size]byte

func (d *digest) add(hash string) error {
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("hash %q is not a SHA-256 hex string", hash)
	}
	h := sha256.New()
	h.Write(d[:])
	h.Write(raw)
	h.Sum(d[:0])
	return nil
}

type chainState struct {
	version uint64
	hash    string
}

// verifyBatch is how many events Verify reads at once.
const verifyBatch = 2048

// Verify walks the whole global log: it recomputes every event's hash,
// checks that each stream's versions are contiguous and each prev_hash is
// the hash of the stream's previous event, and checks every seal against
// the digest of the log's first seal.Events events. It reports the first
// bad event and keeps counting after it. A read error is returned as error;
// a fault in the data is reported in the Report, never as error.
//
// A seal is checked where its event count falls, not at the position it
// names: the digest already fixes which events, in which order, make up
// the prefix, and a position is only their address. So a log renumbered
// after a restore (postgres.Renumber), same events in the same order at new
// positions, still verifies against the seals taken before; any change to
// an event, its stream's chain or the global order still fails the digest.
func Verify(ctx context.Context, s Store) (Report, error) {
	// Seals first, so one pass can check each digest where it falls.
	seals := map[uint64][]SealData{}
	sealEvents, err := s.ReadStream(ctx, SealStream, 1, Forwards, 0)
	if err != nil && !errors.Is(err, ErrStreamNotFound) {
		return Report{}, err
	}
	for _, e := range sealEvents {
		var sd SealData
		if json.Unmarshal(e.Data, &sd) == nil {
			seals[sd.Events] = append(seals[sd.Events], sd)
		}
	}

	var (
		rep    = Report{OK: true}
		chains = map[string]chainState{}
		d      digest
		after  = Start
	)
	fail := func(e *Event, reason string) {
		rep.OK = false
		rep.Faults++
		if rep.FirstBad == nil {
			rep.FirstBad = &Fault{Position: e.Position, Stream: e.Stream, Version: e.Version, EventID: e.ID, Reason: reason}
		}
	}
	for {
		batch, err := s.ReadAll(ctx, after, verifyBatch)
		if err != nil {
			return Report{}, err
		}
		if len(batch) == 0 {
			break
		}
		for i := range batch {
			e := &batch[i]
			rep.EventsChecked++
			if got := ComputeHash(e); got != e.Hash {
				fail(e, fmt.Sprintf("hash mismatch: stored %s, recomputed %s (the event's content was changed)", short(e.Hash), short(got)))
			}
			prev := chains[e.Stream]
			switch {
			case e.Version != prev.version+1:
				fail(e, fmt.Sprintf("version %d follows version %d in its stream (an event is missing or inserted)", e.Version, prev.version))
			case e.PrevHash != prev.hash:
				fail(e, fmt.Sprintf("prev_hash %s is not the hash of the stream's previous event %s", short(e.PrevHash), short(prev.hash)))
			}
			chains[e.Stream] = chainState{version: e.Version, hash: e.Hash}
			if err := d.add(e.Hash); err != nil {
				fail(e, err.Error())
			}
			for _, sd := range seals[rep.EventsChecked] {
				rep.SealsChecked++
				if got := hex.EncodeToString(d[:]); got != sd.Digest {
					fail(e, fmt.Sprintf("seal through %s does not match the log: the digest of the first %d events was %s when sealed and is %s now", sd.Through, sd.Events, short(sd.Digest), short(got)))
				}
			}
			delete(seals, rep.EventsChecked)
			after = e.Position
		}
	}
	for _, n := range slices.Sorted(maps.Keys(seals)) {
		for _, sd := range seals[n] {
			// The log is shorter than a seal says it was: events were removed.
			rep.OK = false
			rep.Faults++
			if rep.FirstBad == nil {
				rep.FirstBad = &Fault{Position: sd.Through, Stream: SealStream, Reason: fmt.Sprintf("seal through %s covers %d events, the log holds %d", sd.Through, sd.Events, rep.EventsChecked)}
			}
		}
	}
	rep.Streams = len(chains)
	rep.Through = after
	rep.Digest = hex.EncodeToString(d[:])
	return rep, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// Seal appends a seal over the global log as it stands now: the digest of
// every event through the current head. It recomputes the digest from the
// start, so a seal never trusts an earlier one.
func Seal(ctx context.Context, s Store, actor Actor, now time.Time) (SealData, AppendResult, error) {
	return seal(ctx, s, actor, now, Any())
}

// SealIfGrown is Seal for a sealer that runs on every node of a cluster:
// it appends a seal only when events follow the last seal in the log, and
// only if no other seal is appended while it computes the digest (the
// seals stream's version is the condition of the append). Any number of
// nodes sealing the same store on the same schedule therefore append one
// seal per interval, not one each, and never seal a log that has not
// grown. sealed is false, with no error, when there was nothing to seal or
// another node's seal came first.
func SealIfGrown(ctx context.Context, s Store, actor Actor, now time.Time) (sd SealData, res AppendResult, sealed bool, err error) {
	expected := NoStream()
	var last Position
	switch evs, err := s.ReadStream(ctx, SealStream, End, Backwards, 1); {
	case errors.Is(err, ErrStreamNotFound):
	case err != nil:
		return SealData{}, AppendResult{}, false, err
	case len(evs) == 1:
		expected, last = Exact(evs[0].Version), evs[0].Position
	}
	head, err := s.Head(ctx)
	if err != nil {
		return SealData{}, AppendResult{}, false, err
	}
	if head.IsZero() || (!last.IsZero() && head.Compare(last) <= 0) {
		return SealData{}, AppendResult{}, false, nil
	}
	sd, res, err = seal(ctx, s, actor, now, expected)
	if conflict := (*VersionConflictError)(nil); errors.As(err, &conflict) {
		return SealData{}, AppendResult{}, false, nil
	}
	if err != nil {
		return SealData{}, AppendResult{}, false, err
	}
	return sd, res, true, nil
}

func seal(ctx context.Context, s Store, actor Actor, now time.Time, expected ExpectedVersion) (SealData, AppendResult, error) {
	var (
		d     digest
		after = Start
		n     uint64
	)
	for {
		batch, err := s.ReadAll(ctx, after, verifyBatch)
		if err != nil {
			return SealData{}, AppendResult{}, err
		}
		if len(batch) == 0 {
			break
		}
		for i := range batch {
			if err := d.add(batch[i].Hash); err != nil {
				return SealData{}, AppendResult{}, fmt.Errorf("event at %s: %w", batch[i].Position, err)
			}
			n++
			after = batch[i].Position
		}
	}
	if n == 0 {
		return SealData{}, AppendResult{}, fmt.Errorf("eventstore: nothing to seal, the log is empty")
	}
	sd := SealData{Through: after, Events: n, Digest: hex.EncodeToString(d[:])}
	data, err := json.Marshal(sd)
	if err != nil {
		return SealData{}, AppendResult{}, err
	}
	res, err := s.Append(ctx, SealStream, expected, []NewEvent{{
		ID:         uuid.New(),
		Type:       SealType,
		Data:       data,
		OccurredAt: now,
		Actor:      actor,
	}})
	return sd, res, err
}
