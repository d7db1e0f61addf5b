package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
)

// TestSealersOnSeveralNodes: every node of a cluster runs the periodic
// sealer against the one store, yet the log gets one seal each time it
// grows, and none while it does not.
func TestSealersOnSeveralNodes(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 4 {
		wg.Go(func() {
			if err := sealPeriodically(ctx, st, 2*time.Millisecond, logger); err != nil {
				t.Errorf("sealPeriodically: %v", err)
			}
		})
	}
	seals := func() int {
		evs, err := st.ReadStream(ctx, eventstore.SealStream, 1, eventstore.Forwards, 0)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for seals() < n {
			if time.Now().After(deadline) {
				t.Fatalf("no seal appeared: %d seals, want %d", seals(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// Many more ticks of every sealer, with nothing new to seal.
		time.Sleep(100 * time.Millisecond)
		if got := seals(); got != n {
			t.Fatalf("%d seals after the log grew %d times; want one seal per growth", got, n)
		}
	}
	for i := 1; i <= 3; i++ {
		// One append of three events: one growth.
		var evs []eventstore.NewEvent
		for range 3 {
			evs = append(evs, eventstore.NewEvent{ID: uuid.New(), Type: "E", Data: []byte(`{"区":"南湖"}`),
				OccurredAt: time.Now(), Actor: eventstore.Actor{Subject: "t", Role: "centre"}})
		}
		if _, err := st.Append(ctx, "grow", eventstore.Any(), evs); err != nil {
			t.Fatal(err)
		}
		waitFor(i)
	}
	rep, err := eventstore.Verify(ctx, st)
	if err != nil || !rep.OK || rep.SealsChecked != 3 {
		t.Fatalf("Verify: %+v, %v; want OK with 3 seals", rep, err)
	}
}
