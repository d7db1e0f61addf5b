package projections

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

func storeWith(t *testing.T, evs []eventstore.Event) *bolt.Store {
	t.Helper()
	clock := &fakeClock{}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, e := range evs {
		appendLike(t, s, clock, e)
	}
	return s
}

// A view equals a fresh replay of events 1..N, and a view that does not is
// caught: its state digest differs.
func TestReconcile(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 1200, Units: 6, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	s := storeWith(t, log.Events)
	ctx := context.Background()
	opts := Options{Location: synth.Zone}
	// The store's copy has the same hashes (same recorded_at, same ids).
	evs, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	good, err := ReplaySlice(ctx, evs, opts, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Reconcile(ctx, s, good, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.OK || len(rec.Views) != len(ViewNames()) {
		t.Fatalf("a faithful replay does not reconcile: %+v", rec)
	}

	// Views fed a different fact at one position (a funds arrival of
	// another amount) disagree in the views it touches, and only there.
	bad := make([]eventstore.Event, len(evs))
	copy(bad, evs)
	for i := range bad {
		if bad[i].Type == domain.TypeFundsArrived {
			f, _ := domain.Decode(bad[i].Type, bad[i].Data)
			fa := f.(domain.FundsArrived)
			fa.Amount.Amount *= 2
			bad[i].Data, _ = domain.Encode(fa)
			break
		}
	}
	wrong, err := ReplaySlice(ctx, bad, opts, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err = Reconcile(ctx, s, wrong, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rec.OK {
		t.Fatal("views fed a changed fact reconcile")
	}
	for _, vr := range rec.Views {
		switch vr.View {
		case ViewProjects, ViewRanking:
			if vr.Equal {
				t.Errorf("%s: equal despite the changed amount", vr.View)
			}
		case ViewReference, ViewTolerance:
			if !vr.Equal {
				t.Errorf("%s: differs, though the change does not touch it", vr.View)
			}
		}
	}
}

// A fact the views cannot decode stops the runner with a *DecodeError
// rather than being skipped.
func TestRunnerStopsOnUndecodableFact(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, domain.ProjectStream(pid(1)), eventstore.NoStream(), []eventstore.NewEvent{{
		ID: uuid.New(), Type: domain.TypeProjectReported, Data: []byte(`{"name": 5}`), OccurredAt: clock.now(),
	}}); err != nil {
		t.Fatal(err)
	}
	// A seal is not a domain event: consumed, not an error.
	if _, err := s.Append(ctx, eventstore.SealStream, eventstore.Any(), []eventstore.NewEvent{{
		ID: uuid.New(), Type: eventstore.SealType, Data: []byte(`{}`), OccurredAt: clock.now(),
	}}); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = r.Run(rctx)
	var de *DecodeError
	if !errors.As(err, &de) || de.Type != domain.TypeProjectReported {
		t.Fatalf("Run: %v, want a *DecodeError", err)
	}
	if r.Err() == nil {
		t.Error("Err() is nil after the runner stopped")
	}
	if err := r.WaitFor(ctx, eventstore.Position{Commit: 2, Prepare: 2}); err == nil {
		t.Error("WaitFor on a stopped runner returned nil")
	}
}
