package bolt_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/eventstore/storetest"
)

func openTemp(t testing.TB, opts ...bolt.Option) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "events.db")
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "bolt",
		New: func(t testing.TB) eventstore.Store {
			s, _ := openTemp(t)
			return s
		},
		Tamper: func(t testing.TB, s eventstore.Store, stream string, version uint64) {
			if err := bolt.TamperData(s.(*bolt.Store), stream, version); err != nil {
				t.Fatalf("tamper: %v", err)
			}
		},
		NewWithClock: func(t testing.TB, now func() time.Time) eventstore.Store {
			s, _ := openTemp(t, bolt.WithClock(now))
			return s
		},
	})
}

func newEvent(data string) eventstore.NewEvent {
	return eventstore.NewEvent{
		ID:         uuid.New(),
		Type:       "Happened",
		Data:       json.RawMessage(data),
		OccurredAt: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
		Actor:      eventstore.Actor{Subject: "张三", Role: "officer", Unit: "嘉兴"},
	}
}

// TestReopen checks that a closed and reopened file holds the same log and
// carries on: sequences, versions, chains and idempotency survive.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first, second := newEvent(`{"n":1}`), newEvent(`{"n":2}`)
	r1, err := s.Append(ctx, "p-1", eventstore.NoStream(), []eventstore.NewEvent{first, second})
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Append(ctx, "p-1", eventstore.Any(), []eventstore.NewEvent{newEvent(`{}`)}); !errors.Is(err, bolt.ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := s.ReadAll(ctx, eventstore.Start, 0); !errors.Is(err, bolt.ErrClosed) {
		t.Fatalf("ReadAll after Close: %v, want ErrClosed", err)
	}

	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || after[1].Hash != before[1].Hash || after[1].Position != before[1].Position {
		t.Fatalf("reopened log differs: %+v vs %+v", after, before)
	}
	head, err := s.Head(ctx)
	if err != nil || head != r1.Position {
		t.Fatalf("Head after reopen = %s, %v; want %s", head, err, r1.Position)
	}
	if r, err := s.Append(ctx, "p-1", eventstore.NoStream(), []eventstore.NewEvent{first, second}); err != nil || r != r1 {
		t.Fatalf("idempotent retry after reopen: %+v, %v; want %+v", r, err, r1)
	}
	r3, err := s.Append(ctx, "p-1", eventstore.Exact(2), []eventstore.NewEvent{newEvent(`{"n":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r3.Version != 3 || r3.Position.Commit != r1.Position.Commit+1 {
		t.Fatalf("append after reopen answered %+v", r3)
	}
	rep, err := eventstore.Verify(ctx, s)
	if err != nil || !rep.OK || rep.EventsChecked != 3 {
		t.Fatalf("Verify after reopen: %+v, %v", rep, err)
	}
}

// TestLockedFile checks a second Open of the same file fails clearly
// instead of hanging.
func TestLockedFile(t *testing.T) {
	_, path := openTemp(t)
	_, err := bolt.Open(path, bolt.WithLockTimeout(100*time.Millisecond))
	if err == nil {
		t.Fatal("a second Open of a file in use succeeded")
	}
}

// TestRecordedAtMonotonic checks that recorded_at never goes backwards in
// the log even when the clock does.
func TestRecordedAtMonotonic(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(-time.Minute) // a clock running backwards
		return now
	}
	s, _ := openTemp(t, bolt.WithClock(clock))
	ctx := context.Background()
	for range 5 {
		if _, err := s.Append(ctx, "clock", eventstore.Any(), []eventstore.NewEvent{newEvent(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].RecordedAt.Before(all[i-1].RecordedAt) {
			t.Fatalf("recorded_at goes backwards: %s after %s", all[i].RecordedAt, all[i-1].RecordedAt)
		}
	}
}

// TestCancelledAppend checks that an append whose context is already done
// writes nothing.
func TestCancelledAppend(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, "c", eventstore.Any(), []eventstore.NewEvent{newEvent(`{}`)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	if _, err := s.ReadStream(context.Background(), "c", 1, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("a cancelled append wrote: %v", err)
	}
}

// TestSubscribeClose checks that closing the store ends its subscriptions.
func TestSubscribeClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(context.Background(), eventstore.Start, func(eventstore.Event) error { return nil })
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, bolt.ErrClosed) {
			t.Fatalf("Subscribe returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Subscribe did not return after Close")
	}
}
