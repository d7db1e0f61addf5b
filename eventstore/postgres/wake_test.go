package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
)

// collector is a subscription handler that records what it receives and
// lets a test wait for a number of events.
type collector struct {
	mu   sync.Mutex
	evs  []eventstore.Event
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) handle(e eventstore.Event) error {
	c.mu.Lock()
	c.evs = append(c.evs, e)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
	return nil
}

func (c *collector) got() []eventstore.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventstore.Event(nil), c.evs...)
}

// waitFor waits until n events have arrived and returns them.
func (c *collector) waitFor(t testing.TB, n int) []eventstore.Event {
	t.Helper()
	deadline := time.After(liveness)
	for {
		if evs := c.got(); len(evs) >= n {
			return evs
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("received %d of %d events", len(c.got()), n)
		}
	}
}

// subscribe runs s.Subscribe in the background until the test ends.
func subscribe(t testing.TB, s eventstore.Store, after eventstore.Position) *collector {
	t.Helper()
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(ctx, after, c.handle) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe ended with %v, want context.Canceled", err)
		}
	})
	return c
}

func checkOrder(t testing.TB, got []eventstore.Event, want []uuid.UUID) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("event %d is %s (%s v%d), want %s", i, got[i].ID, got[i].Stream, got[i].Version, want[i])
		}
		if i > 0 && got[i].Position.Compare(got[i-1].Position) <= 0 {
			t.Fatalf("positions not increasing at %d: %s then %s", i, got[i-1].Position, got[i].Position)
		}
	}
}

// The failure the xid8 rule exists for: an append's transaction commits
// after later ones. Readers must stop before it until it commits, then
// deliver everything in order, skipping nothing.
func TestHeldOpenTransactionIsNeverSkipped(t *testing.T) {
	s, _ := newStore(t, postgres.WithPollInterval(50*time.Millisecond))
	ctx := context.Background()

	before := newEvent("T", `{"before":true}`)
	mustAppend(t, s, "a", eventstore.NoStream(), before)
	sub := subscribe(t, s, eventstore.Start)
	sub.waitFor(t, 1)

	held := newEvent("T", `{"held":true}`)
	commit := postgres.HoldOpen(t, s, "held", held)
	var later []uuid.UUID
	for i := range 5 {
		e := newEvent("T", `{"later":true}`)
		later = append(later, e.ID)
		mustAppend(t, s, "later", eventstore.Exact(uint64(i)), e)
	}

	// Committed, yet not readable: the held transaction could still commit
	// an event before them.
	if evs := readAll(t, s); len(evs) != 1 {
		t.Fatalf("ReadAll while a transaction is open returned %d events, want only the first", len(evs))
	}
	head, err := s.Head(ctx)
	if err != nil || head != readAll(t, s)[0].Position {
		t.Fatalf("Head passed the open transaction: %s, %v", head, err)
	}
	// Give the subscriber its wake-ups (the later commits) and several
	// polls to be tempted by them.
	time.Sleep(300 * time.Millisecond)
	if n := len(sub.got()); n != 1 {
		t.Fatalf("the subscriber received %d events while a transaction was open, want 1", n)
	}

	commit()
	want := append([]uuid.UUID{before.ID, held.ID}, later...)
	checkOrder(t, sub.waitFor(t, len(want)), want)
	checkOrder(t, readAll(t, s), want)
	verify(t, s)
}

// Any transaction on the cluster that holds an xid holds the horizon back,
// not only appends. When it ends, the watcher wakes the subscriber without
// waiting for a poll.
func TestForeignTransactionDelaysThenWatcherWakes(t *testing.T) {
	s, url := newStore(t, postgres.WithPollInterval(quiet))
	ctx := context.Background()
	sub := subscribe(t, s, eventstore.Start)

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}

	e := newEvent("T", `{}`)
	mustAppend(t, s, "p", eventstore.NoStream(), e)
	if n := len(readAll(t, s)); n != 0 {
		t.Fatalf("ReadAll passed an open transaction: %d events", n)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(sub.got()); n != 0 {
		t.Fatalf("the subscriber passed an open transaction: %d events", n)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, sub.waitFor(t, 1), []uuid.UUID{e.ID})
}

// Appends in this process wake its subscribers at once; the poll is an
// hour, so only the wake-up can deliver.
func TestLocalAppendsWakeSubscribers(t *testing.T) {
	s, _ := newStore(t, postgres.WithPollInterval(quiet))
	first := newEvent("T", `{}`)
	mustAppend(t, s, "p", eventstore.NoStream(), first)
	sub := subscribe(t, s, eventstore.Start)
	sub.waitFor(t, 1) // catch-up

	want := []uuid.UUID{first.ID}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := range 8 {
		wg.Go(func() {
			for range 10 {
				e := newEvent("T", `{}`)
				if _, err := s.Append(context.Background(), "w"+string(rune('a'+w)), eventstore.Any(), []eventstore.NewEvent{e}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want = append(want, e.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := sub.waitFor(t, len(want))
	// Delivered in global order, which is the log's order, each once.
	checkOrder(t, got, ids(readAll(t, s)))
	seen := map[uuid.UUID]bool{}
	for _, e := range got {
		seen[e.ID] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("event %s never delivered", id)
		}
	}
}

// Another process's appends reach this one's subscribers through the
// coalesced NOTIFY, again with an hour-long poll.
func TestOtherProcessAppendsWakeSubscribers(t *testing.T) {
	reader, url := newStore(t, postgres.WithPollInterval(quiet))
	writer := open(t, url, postgres.WithPollInterval(quiet))
	sub := subscribe(t, reader, eventstore.Start)
	// A NOTIFY sent before the reader listens is lost (the poll would
	// catch it, an hour later): start writing once it listens.
	waitListening(t, url)

	var want []uuid.UUID
	for round := range 3 {
		e := newEvent("T", `{}`)
		mustAppend(t, writer, "p", eventstore.Exact(uint64(round)), e)
		want = append(want, e.ID)
		checkOrder(t, sub.waitFor(t, len(want)), want)
	}
}

// A listener whose connection is killed reconnects, and appends made after
// it is back still arrive without polling.
func TestListenerReconnects(t *testing.T) {
	reader, url := newStore(t, postgres.WithPollInterval(quiet))
	writer := open(t, url)
	sub := subscribe(t, reader, eventstore.Start)
	ctx := context.Background()

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The backend pids of the listening connections, the test's own aside.
	listeners := func() []int32 {
		rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %' AND state = 'idle' AND pid <> pg_backend_pid()`)
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	// waitListener waits for a listening connection other than old.
	waitListener := func(old int32) int32 {
		deadline := time.Now().Add(liveness)
		for {
			if pids := listeners(); len(pids) == 1 && pids[0] != old {
				return pids[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no new listening connection (old pid %d)", old)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := waitListener(0)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, first); err != nil {
		t.Fatal(err)
	}
	waitListener(first)

	e := newEvent("T", `{}`)
	mustAppend(t, writer, "p", eventstore.NoStream(), e)
	checkOrder(t, sub.waitFor(t, 1), []uuid.UUID{e.ID})
}

func TestSubscribeResumesFromACheckpoint(t *testing.T) {
	s, _ := newStore(t)
	mustAppend(t, s, "p", eventstore.NoStream(), events(5, "T")...)
	all := readAll(t, s)
	sub := subscribe(t, s, all[2].Position)
	checkOrder(t, sub.waitFor(t, 2), ids(all[3:]))
}

func TestCloseEndsSubscriptions(t *testing.T) {
	s, _ := newStore(t, postgres.WithPollInterval(quiet))
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(context.Background(), eventstore.Start, func(eventstore.Event) error { return nil })
	}()
	// Let the subscription reach its wait; Close must end it either way.
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, postgres.ErrClosed) {
			t.Fatalf("Subscribe ended with %v, want ErrClosed", err)
		}
	case <-time.After(liveness):
		t.Fatal("Subscribe did not end when the store closed")
	}
	if err := s.Subscribe(context.Background(), eventstore.Start, nil); !errors.Is(err, postgres.ErrClosed) {
		t.Fatalf("Subscribe on a closed store: %v", err)
	}
}

func TestHandlerErrorEndsTheSubscription(t *testing.T) {
	s, _ := newStore(t)
	mustAppend(t, s, "p", eventstore.NoStream(), events(3, "T")...)
	stop := errors.New("stop")
	n := 0
	err := s.Subscribe(context.Background(), eventstore.Start, func(eventstore.Event) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("Subscribe returned %v after %d events, want the handler's error after 2", err, n)
	}
}

// waitListening waits until a connection to the database at url LISTENs.
func waitListening(t testing.TB, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(liveness)
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %' AND state = 'idle'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nobody LISTENs")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
