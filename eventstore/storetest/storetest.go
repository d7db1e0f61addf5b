package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Backend describes a backend under test.
type Backend struct {
	Name string
	// New returns a fresh, empty store; it registers its own cleanup with t.Cleanup.
	New func(t testing.TB) eventstore.Store
	// Tamper flips one byte inside the stored data of the event at (stream, version), bypassing the Store API,
	// as an attacker with database access would. nil when the backend cannot (an immutable server): that test skips.
	Tamper func(t testing.TB, s eventstore.Store, stream string, version uint64)
	// HoldOpen starts appending ev to stream in a transaction that stays uncommitted until commit() is called
	// (PostgreSQL's late-commit case). nil when the backend has no such window: that test skips.
	// It returns once the event is written inside the still-open transaction.
	HoldOpen func(t testing.TB, s eventstore.Store, stream string, ev eventstore.NewEvent) (commit func())
	// NewWithClock is New with the backend's WithClock(now): recorded_at is stamped from now. nil when the
	// backend has no such option: that test skips.
	NewWithClock func(t testing.TB, now func() time.Time) eventstore.Store
}

// wait bounds every wait for something the store should deliver. It is a
// deadline that turns a hang into a clear failure, not a speed requirement.
const wait = 30 * time.Second

// Run runs every contract test as subtests of t.
func Run(t *testing.T, b Backend) {
	if b.New == nil {
		t.Fatal("storetest: Backend.New is nil")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"InvalidEvents", testInvalidEvents},
		{"ExpectedVersions", testExpectedVersions},
		{"RacingAppends", testRacingAppends},
		{"Idempotency", testIdempotency},
		{"ConcurrentRetries", testConcurrentRetries},
		{"AtomicMultiEventAppend", testAtomicAppend},
		{"GlobalOrder", testGlobalOrder},
		{"ReadStream", testReadStream},
		{"StreamNotFound", testStreamNotFound},
		{"Head", testHead},
		{"SubscribeCatchUpThenLive", testSubscribeCatchUpThenLive},
		{"SubscribeResume", testSubscribeResume},
		{"SubscribeHandlerError", testSubscribeHandlerError},
		{"SubscribeCancel", testSubscribeCancel},
		{"SubscribeConcurrentWriters", testSubscribeConcurrentWriters},
		{"LargePayload", testLargePayload},
		{"ChineseText", testChineseText},
		{"VerifyAndSeal", testVerifyAndSeal},
		{"SealIfGrown", testSealIfGrown},
		{"TamperDetected", testTamper},
		{"LateCommit", testLateCommit},
		{"StoreClock", testStoreClock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// ---- helpers -------------------------------------------------------------

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*wait)
	t.Cleanup(cancel)
	return ctx
}

// occurred is a client-side time with nanoseconds and a non-UTC zone, so the
// round trip proves normalisation to microseconds in UTC.
var occurred = time.Date(2024, 3, 15, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600))

func ev(typ string, data string) eventstore.NewEvent {
	return eventstore.NewEvent{
		ID:            uuid.New(),
		Type:          typ,
		Data:          json.RawMessage(data),
		OccurredAt:    occurred,
		Actor:         eventstore.Actor{Subject: "u-1", Role: "officer", Unit: "unit-a"},
		CommandID:     "cmd-" + uuid.NewString(),
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
	}
}

// evN makes n events with distinct payloads.
func evN(prefix string, n int) []eventstore.NewEvent {
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		out[i] = ev("Counted", fmt.Sprintf(`{"who":%q,"n":%d}`, prefix, i))
	}
	return out
}

func mustAppend(t testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, evs)
	if err != nil {
		t.Fatalf("Append(%q, %s, %d events): %v", stream, exp, len(evs), err)
	}
	return res
}

func mustReadStream(t testing.TB, s eventstore.Store, stream string, from uint64, dir eventstore.Direction, max int) []eventstore.Event {
	t.Helper()
	got, err := s.ReadStream(context.Background(), stream, from, dir, max)
	if err != nil {
		t.Fatalf("ReadStream(%q, from %d, dir %d, max %d): %v", stream, from, dir, max, err)
	}
	return got
}

// readAll pages through the whole global log page events at a time.
func readAll(t testing.TB, s eventstore.Store, page int) []eventstore.Event {
	t.Helper()
	var (
		out   []eventstore.Event
		after = eventstore.Start
	)
	for {
		batch, err := s.ReadAll(context.Background(), after, page)
		if err != nil {
			t.Fatalf("ReadAll(after %s, max %d): %v", after, page, err)
		}
		if len(batch) > page {
			t.Fatalf("ReadAll(after %s, max %d) returned %d events", after, page, len(batch))
		}
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].Position
	}
}

// eventDiff names the fields in which two recorded events differ, "" when
// they are the same event as read.
func eventDiff(a, b *eventstore.Event) string {
	var d []string
	check := func(name string, same bool) {
		if !same {
			d = append(d, name)
		}
	}
	check("id", a.ID == b.ID)
	check("stream", a.Stream == b.Stream)
	check("version", a.Version == b.Version)
	check("position", a.Position == b.Position)
	check("type", a.Type == b.Type)
	check("data", string(a.Data) == string(b.Data))
	check("occurred_at", a.OccurredAt.Equal(b.OccurredAt))
	check("recorded_at", a.RecordedAt.Equal(b.RecordedAt))
	check("actor", a.Actor == b.Actor)
	check("command_id", a.CommandID == b.CommandID)
	check("correlation_id", a.CorrelationID == b.CorrelationID)
	check("causation_id", a.CausationID == b.CausationID)
	check("prev_hash", a.PrevHash == b.PrevHash)
	check("hash", a.Hash == b.Hash)
	return strings.Join(d, ", ")
}

func sameSequence(t testing.TB, what string, got, want []eventstore.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := eventDiff(&got[i], &want[i]); d != "" {
			t.Fatalf("%s: event %d (%s v%d at %s) differs from the log's (%s v%d at %s) in: %s",
				what, i, got[i].Stream, got[i].Version, got[i].Position, want[i].Stream, want[i].Version, want[i].Position, d)
		}
	}
}

// checkRecorded checks what every recorded event must satisfy on its own.
func checkRecorded(t testing.TB, e *eventstore.Event) {
	t.Helper()
	if e.Hash != eventstore.ComputeHash(e) {
		t.Fatalf("%s v%d: hash %s is not eventstore.ComputeHash %s", e.Stream, e.Version, e.Hash, eventstore.ComputeHash(e))
	}
	for name, tm := range map[string]time.Time{"occurred_at": e.OccurredAt, "recorded_at": e.RecordedAt} {
		if tm.Location() != time.UTC {
			t.Fatalf("%s v%d: %s %s is not in UTC", e.Stream, e.Version, name, tm)
		}
		if !tm.Equal(eventstore.NormalizeTime(tm)) {
			t.Fatalf("%s v%d: %s %s is finer than microseconds", e.Stream, e.Version, name, tm)
		}
	}
	if e.Position.IsZero() {
		t.Fatalf("%s v%d: zero position", e.Stream, e.Version)
	}
}

func wantConflict(t testing.TB, err error, stream string) {
	t.Helper()
	if err == nil {
		t.Fatalf("append to %q succeeded, want a version conflict", stream)
	}
	var ce *eventstore.VersionConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("append to %q: error %v (%T) is not a *VersionConflictError", stream, err, err)
	}
	if !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("append to %q: errors.Is(%v, ErrVersionConflict) is false", stream, err)
	}
	if ce.Stream != stream {
		t.Fatalf("conflict error names stream %q, want %q", ce.Stream, stream)
	}
}

func wantInvalid(t testing.TB, err error, what string) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("%s: error %v, want one matching eventstore.ErrInvalidEvent", what, err)
	}
}

func wantNotFound(t testing.TB, s eventstore.Store, stream string) {
	t.Helper()
	_, err := s.ReadStream(context.Background(), stream, 1, eventstore.Forwards, 0)
	if !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("ReadStream(%q): error %v, want ErrStreamNotFound (nothing should have been written)", stream, err)
	}
}

func streamLen(t testing.TB, s eventstore.Store, stream string) int {
	t.Helper()
	got, err := s.ReadStream(context.Background(), stream, 1, eventstore.Forwards, 0)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("ReadStream(%q): %v", stream, err)
	}
	return len(got)
}

// Subscription runs Subscribe in a goroutine and hands its events to the
// test through a buffered channel (Subscribe; the suite uses it, and so do
// backends' own tests).
type Subscription struct {
	events chan eventstore.Event
	done   chan error
	cancel context.CancelFunc
	mu     sync.Mutex
	count  int
}

// Subscribe subscribes to s after a position for the rest of the test; the
// subscription ends (and is waited for) when the test does.
func Subscribe(t testing.TB, s eventstore.Store, after eventstore.Position) *Subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := &Subscription{events: make(chan eventstore.Event, 1<<16), done: make(chan error, 1), cancel: cancel}
	go func() {
		sub.done <- s.Subscribe(ctx, after, func(e eventstore.Event) error {
			sub.mu.Lock()
			sub.count++
			sub.mu.Unlock()
			select {
			case sub.events <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	// Make sure the subscription is gone before the store's cleanup closes
	// the store, whatever way the test ends.
	t.Cleanup(func() {
		cancel()
		select {
		case <-sub.done:
		case <-time.After(wait):
			t.Errorf("Subscribe did not return within %s of its context being cancelled", wait)
		}
	})
	return sub
}

// Take waits for the next n events, failing the test after a while.
func (sub *Subscription) Take(t testing.TB, n int) []eventstore.Event {
	t.Helper()
	out := make([]eventstore.Event, 0, n)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case e := <-sub.events:
			out = append(out, e)
		case err := <-sub.done:
			sub.done <- err
			t.Fatalf("Subscribe returned %v after delivering %d of %d expected events", err, len(out), n)
		case <-deadline.C:
			t.Fatalf("subscription delivered %d of %d expected events within %s", len(out), n, wait)
		}
	}
	return out
}

// stop cancels the subscription and returns what Subscribe returned.
func (sub *Subscription) stop(t testing.TB) error {
	t.Helper()
	sub.cancel()
	select {
	case err := <-sub.done:
		sub.done <- err
		return err
	case <-time.After(wait):
		t.Fatalf("Subscribe did not return within %s of its context being cancelled", wait)
		return nil
	}
}

// delivered is how many events the handler has been called with.
func (sub *Subscription) delivered() int {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.count
}

// ---- the contract --------------------------------------------------------

func testRoundTrip(t *testing.T, b Backend) {
	s := b.New(t)
	stream := "project-roundtrip"
	e1 := ev("ProjectReported", `{"name":"alpha","b":1,"a":[1,2.5,"x"],"nested":{"z":null,"y":true}}`)
	e2 := ev("ProjectSigned", `{"amount":"1200000000.00"}`)
	e2.Actor = eventstore.Actor{Subject: "u-2", Role: "leader"}
	e2.CommandID, e2.CorrelationID, e2.CausationID = "", "", ""
	e2.OccurredAt = time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC)
	before := time.Now()
	res := mustAppend(t, s, stream, eventstore.NoStream(), e1, e2)
	if res.Version != 2 {
		t.Fatalf("AppendResult.Version = %d, want 2", res.Version)
	}

	got := mustReadStream(t, s, stream, 1, eventstore.Forwards, 0)
	if len(got) != 2 {
		t.Fatalf("ReadStream: %d events, want 2", len(got))
	}
	for i, ne := range []eventstore.NewEvent{e1, e2} {
		e := &got[i]
		checkRecorded(t, e)
		if e.ID != ne.ID || e.Stream != stream || e.Version != uint64(i+1) || e.Type != ne.Type {
			t.Fatalf("event %d: id/stream/version/type = %s/%q/%d/%q, want %s/%q/%d/%q", i, e.ID, e.Stream, e.Version, e.Type, ne.ID, stream, i+1, ne.Type)
		}
		if string(e.Data) != string(ne.Data) {
			t.Fatalf("event %d: data %s, want byte-exact %s", i, e.Data, ne.Data)
		}
		if want := eventstore.NormalizeTime(ne.OccurredAt); !e.OccurredAt.Equal(want) {
			t.Fatalf("event %d: occurred_at %s, want %s (UTC, truncated to µs)", i, e.OccurredAt, want)
		}
		if e.Actor != ne.Actor || e.CommandID != ne.CommandID || e.CorrelationID != ne.CorrelationID || e.CausationID != ne.CausationID {
			t.Fatalf("event %d: actor/command/correlation/causation = %+v/%q/%q/%q, want %+v/%q/%q/%q", i,
				e.Actor, e.CommandID, e.CorrelationID, e.CausationID, ne.Actor, ne.CommandID, ne.CorrelationID, ne.CausationID)
		}
		// recorded_at comes from the store's clock, not the client: a
		// sanity window against a wrong field or unit, not a speed check.
		if d := e.RecordedAt.Sub(before); d < -time.Hour || d > time.Hour {
			t.Fatalf("event %d: recorded_at %s is not the time of the append (%s)", i, e.RecordedAt, before)
		}
	}
	if got[0].PrevHash != "" {
		t.Fatalf("first event of a stream has prev_hash %q, want empty", got[0].PrevHash)
	}
	if got[1].PrevHash != got[0].Hash {
		t.Fatalf("prev_hash of version 2 = %q, want the hash of version 1 %q", got[1].PrevHash, got[0].Hash)
	}
	if got[0].Position.Compare(got[1].Position) >= 0 {
		t.Fatalf("positions %s, %s are not increasing", got[0].Position, got[1].Position)
	}
	if res.Position != got[1].Position {
		t.Fatalf("AppendResult.Position = %s, want the last event's position %s", res.Position, got[1].Position)
	}

	all := readAll(t, s, 100)
	sameSequence(t, "ReadAll vs ReadStream", all, got)

	// A second append chains to the first.
	e3 := ev("ProjectStarted", `{}`)
	res3 := mustAppend(t, s, stream, eventstore.Exact(2), e3)
	got3 := mustReadStream(t, s, stream, 3, eventstore.Forwards, 0)
	if len(got3) != 1 || got3[0].Version != 3 || got3[0].PrevHash != got[1].Hash || res3.Version != 3 || res3.Position != got3[0].Position {
		t.Fatalf("third event: %+v (result %+v), want version 3 chained to %s", got3, res3, got[1].Hash)
	}
	checkRecorded(t, &got3[0])
}

func testInvalidEvents(t *testing.T, b Backend) {
	s := b.New(t)
	good := ev("Fine", `{"ok":true}`)
	cases := []struct {
		name   string
		stream string
		mutate func(*eventstore.NewEvent)
	}{
		{"no id", "inv-1", func(e *eventstore.NewEvent) { e.ID = uuid.Nil }},
		{"no type", "inv-2", func(e *eventstore.NewEvent) { e.Type = "" }},
		{"data not JSON", "inv-3", func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{"a":`) }},
		{"no data", "inv-4", func(e *eventstore.NewEvent) { e.Data = nil }},
		{"no occurred_at", "inv-5", func(e *eventstore.NewEvent) { e.OccurredAt = time.Time{} }},
		{"empty stream name", "", func(*eventstore.NewEvent) {}},
		{"reserved stream name", "$all", func(*eventstore.NewEvent) {}},
		{"stream name too long", strings.Repeat("x", 201), func(*eventstore.NewEvent) {}},
	}
	for _, tc := range cases {
		bad := ev("Fine", `{"ok":true}`)
		tc.mutate(&bad)
		_, err := s.Append(context.Background(), tc.stream, eventstore.Any(), []eventstore.NewEvent{bad})
		wantInvalid(t, err, tc.name)
	}
	// An invalid event anywhere in an append refuses the whole append.
	bad := ev("", `{}`)
	_, err := s.Append(context.Background(), "inv-mixed", eventstore.Any(), []eventstore.NewEvent{good, bad})
	wantInvalid(t, err, "an append whose second event has no type")
	// The same id twice in one append.
	_, err = s.Append(context.Background(), "inv-dup", eventstore.Any(), []eventstore.NewEvent{good, good})
	wantInvalid(t, err, "an append with the same id twice")
	if all := readAll(t, s, 100); len(all) != 0 {
		t.Fatalf("refused appends wrote %d events", len(all))
	}
	mustAppend(t, s, "inv-mixed", eventstore.NoStream(), good)
}

func testExpectedVersions(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	const st = "ev-stream"
	try := func(exp eventstore.ExpectedVersion) error {
		_, err := s.Append(ctx, st, exp, []eventstore.NewEvent{ev("E", `{}`)})
		return err
	}
	wantConflict(t, try(eventstore.Exact(1)), st)
	wantNotFound(t, s, st)
	if r := mustAppend(t, s, st, eventstore.NoStream(), ev("E", `{}`)); r.Version != 1 {
		t.Fatalf("NoStream append answered version %d, want 1", r.Version)
	}
	wantConflict(t, try(eventstore.NoStream()), st)
	wantConflict(t, try(eventstore.Exact(0)), st)
	wantConflict(t, try(eventstore.Exact(2)), st)
	if r := mustAppend(t, s, st, eventstore.Exact(1), ev("E", `{}`)); r.Version != 2 {
		t.Fatalf("Exact(1) append answered version %d, want 2", r.Version)
	}
	wantConflict(t, try(eventstore.Exact(1)), st)
	wantConflict(t, try(eventstore.Exact(5)), st)
	if r := mustAppend(t, s, st, eventstore.Any(), ev("E", `{}`), ev("E", `{}`)); r.Version != 4 {
		t.Fatalf("Any append answered version %d, want 4", r.Version)
	}
	if r := mustAppend(t, s, st, eventstore.Exact(4), ev("E", `{}`)); r.Version != 5 {
		t.Fatalf("Exact(4) append answered version %d, want 5", r.Version)
	}
	if n := streamLen(t, s, st); n != 5 {
		t.Fatalf("stream has %d events after the refused appends, want 5", n)
	}
	if r := mustAppend(t, s, "ev-other", eventstore.Any(), ev("E", `{}`)); r.Version != 1 {
		t.Fatalf("Any append to a new stream answered version %d, want 1", r.Version)
	}
}

func testRacingAppends(t *testing.T, b Backend) {
	s := b.New(t)
	const racers = 24
	race := func(stream string, exp eventstore.ExpectedVersion) {
		t.Helper()
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			errs  = make([]error, racers)
			ids   = make([]uuid.UUID, racers)
		)
		for i := range racers {
			e := ev("Raced", fmt.Sprintf(`{"racer":%d}`, i))
			ids[i] = e.ID
			wg.Go(func() {
				<-start
				_, errs[i] = s.Append(context.Background(), stream, exp, []eventstore.NewEvent{e})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("%s: racers %d and %d both appended at %s", stream, winner, i, exp)
				}
				winner = i
				continue
			}
			wantConflict(t, err, stream)
		}
		if winner < 0 {
			t.Fatalf("%s: none of %d racers at %s won", stream, racers, exp)
		}
		v, _ := exp.Exact()
		got := mustReadStream(t, s, stream, 1, eventstore.Forwards, 0)
		if uint64(len(got)) != v+1 || got[v].ID != ids[winner] {
			t.Fatalf("%s: stream has %d events, want %d ending with the winner's event", stream, len(got), v+1)
		}
	}
	race("race-new", eventstore.NoStream())
	mustAppend(t, s, "race-k", eventstore.NoStream(), evN("k", 3)...)
	race("race-k", eventstore.Exact(3))
	race("race-k", eventstore.Exact(4))
}

func testIdempotency(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	a, bb := ev("A", `{"n":1}`), ev("B", `{"n":2}`)
	r1 := mustAppend(t, s, "idem", eventstore.NoStream(), a, bb)
	again := func(name string, stream string, exp eventstore.ExpectedVersion, want eventstore.AppendResult, evs ...eventstore.NewEvent) {
		t.Helper()
		r, err := s.Append(ctx, stream, exp, evs)
		if err != nil {
			t.Fatalf("%s: retry failed: %v", name, err)
		}
		if r != want {
			t.Fatalf("%s: retry answered %+v, want the first append's %+v", name, r, want)
		}
	}
	again("same ids, same expected version", "idem", eventstore.NoStream(), r1, a, bb)
	again("same ids, any", "idem", eventstore.Any(), r1, a, bb)
	c := ev("C", `{"n":3}`)
	r3 := mustAppend(t, s, "idem", eventstore.Exact(2), c)
	again("first append retried with its now stale expected version", "idem", eventstore.NoStream(), r1, a, bb)
	again("second append retried with its now stale Exact(2)", "idem", eventstore.Exact(2), r3, c)
	again("second append retried with a wrong exact version", "idem", eventstore.Exact(7), r3, c)
	if n := streamLen(t, s, "idem"); n != 3 {
		t.Fatalf("stream has %d events after retries, want 3", n)
	}

	changed := a
	changed.Data = json.RawMessage(`{"n":99}`)
	_, err := s.Append(ctx, "idem", eventstore.Any(), []eventstore.NewEvent{changed})
	wantInvalid(t, err, "a reused id with different data")
	retyped := a
	retyped.Type = "Other"
	_, err = s.Append(ctx, "idem", eventstore.Any(), []eventstore.NewEvent{retyped})
	wantInvalid(t, err, "a reused id with a different type")
	_, err = s.Append(ctx, "idem-elsewhere", eventstore.Any(), []eventstore.NewEvent{a})
	wantInvalid(t, err, "a reused id in another stream")
	wantNotFound(t, s, "idem-elsewhere")
	_, err = s.Append(ctx, "idem", eventstore.Any(), []eventstore.NewEvent{c, ev("D", `{}`)})
	wantInvalid(t, err, "an append mixing a recorded id with a new one")
	_, err = s.Append(ctx, "idem", eventstore.Any(), []eventstore.NewEvent{bb, a})
	wantInvalid(t, err, "recorded ids in another order")

	all := readAll(t, s, 100)
	if len(all) != 3 {
		t.Fatalf("the log holds %d events, want 3", len(all))
	}
	seen := map[uuid.UUID]bool{}
	for _, e := range all {
		if seen[e.ID] {
			t.Fatalf("event id %s recorded twice", e.ID)
		}
		seen[e.ID] = true
	}
}

func testConcurrentRetries(t *testing.T, b Backend) {
	s := b.New(t)
	// A client that times out and retries while its first attempt is still
	// in flight: every attempt must answer like the one that wrote.
	const attempts = 8
	evs := evN("retry", 3)
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		results = make([]eventstore.AppendResult, attempts)
		errs    = make([]error, attempts)
	)
	for i := range attempts {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.Append(context.Background(), "retried", eventstore.NoStream(), evs)
		})
	}
	close(start)
	wg.Wait()
	for i := range attempts {
		if errs[i] != nil {
			t.Fatalf("attempt %d of an identical append: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("attempt %d answered %+v, attempt 0 %+v", i, results[i], results[0])
		}
	}
	if got := readAll(t, s, 100); len(got) != 3 {
		t.Fatalf("the log holds %d events after %d identical appends of 3, want 3", len(got), attempts)
	}
}

func testAtomicAppend(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	// A refused condition writes none of the events.
	mustAppend(t, s, "atomic", eventstore.NoStream(), ev("E", `{}`))
	_, err := s.Append(ctx, "atomic", eventstore.Exact(5), evN("x", 10))
	wantConflict(t, err, "atomic")
	if n := streamLen(t, s, "atomic"); n != 1 {
		t.Fatalf("refused 10-event append left the stream with %d events, want 1", n)
	}
	// Concurrent multi-event appends: each lands whole, with contiguous
	// versions, and contiguous in the global log.
	const writers, appends, per = 6, 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*appends)
	for w := range writers {
		wg.Go(func() {
			for a := range appends {
				evs := evN(fmt.Sprintf("w%d-a%d", w, a), per)
				if _, err := s.Append(context.Background(), fmt.Sprintf("batch-%d", w%3), eventstore.Any(), evs); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent batch append: %v", err)
	}
	all := readAll(t, s, 37)
	if len(all) != 1+writers*appends*per {
		t.Fatalf("the log holds %d events, want %d", len(all), 1+writers*appends*per)
	}
	for i := 1; i < len(all); i += per {
		var first struct{ Who string }
		if err := json.Unmarshal(all[i].Data, &first); err != nil {
			t.Fatalf("event %d data: %v", i, err)
		}
		for j := range per {
			e := all[i+j]
			var d struct {
				Who string
				N   int
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatalf("event %d data: %v", i+j, err)
			}
			if d.Who != first.Who || d.N != j {
				t.Fatalf("global position %s holds %s #%d, want %s #%d: an append's events are not contiguous in the log", e.Position, d.Who, d.N, first.Who, j)
			}
			if j > 0 && e.Version != all[i].Version+uint64(j) {
				t.Fatalf("%s: versions of one append are not contiguous (%d after %d)", e.Stream, e.Version, all[i].Version)
			}
		}
	}
}

func testGlobalOrder(t *testing.T, b Backend) {
	s := b.New(t)
	const writers, appends = 8, 25
	type appended struct {
		stream string
		ids    []uuid.UUID
		res    eventstore.AppendResult
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done []appended
		errs = make(chan error, writers*appends)
	)
	for w := range writers {
		wg.Go(func() {
			for a := range appends {
				stream := fmt.Sprintf("order-%d", (w*7+a)%13)
				evs := evN(fmt.Sprintf("w%d a%d", w, a), 1+(w+a)%3)
				res, err := s.Append(context.Background(), stream, eventstore.Any(), evs)
				if err != nil {
					errs <- err
					return
				}
				ids := make([]uuid.UUID, len(evs))
				for i := range evs {
					ids[i] = evs[i].ID
				}
				mu.Lock()
				done = append(done, appended{stream, ids, res})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}

	all := readAll(t, s, 7)
	byID := map[uuid.UUID]int{}
	versions := map[string]uint64{}
	for i := range all {
		e := &all[i]
		checkRecorded(t, e)
		if i > 0 && all[i-1].Position.Compare(e.Position) >= 0 {
			t.Fatalf("ReadAll: position %s follows %s", e.Position, all[i-1].Position)
		}
		if _, dup := byID[e.ID]; dup {
			t.Fatalf("ReadAll: event %s appears twice", e.ID)
		}
		byID[e.ID] = i
		if e.Version != versions[e.Stream]+1 {
			t.Fatalf("ReadAll: %s version %d follows version %d", e.Stream, e.Version, versions[e.Stream])
		}
		versions[e.Stream] = e.Version
	}
	total := 0
	for _, a := range done {
		total += len(a.ids)
		for j, id := range a.ids {
			i, ok := byID[id]
			if !ok {
				t.Fatalf("acknowledged event %s of %s is not in ReadAll", id, a.stream)
			}
			if all[i].Stream != a.stream {
				t.Fatalf("event %s is in %s, appended to %s", id, all[i].Stream, a.stream)
			}
			if j == len(a.ids)-1 && (all[i].Position != a.res.Position || all[i].Version != a.res.Version) {
				t.Fatalf("append to %s answered %+v, its last event is at %s v%d", a.stream, a.res, all[i].Position, all[i].Version)
			}
		}
	}
	if len(all) != total {
		t.Fatalf("ReadAll holds %d events, %d were appended", len(all), total)
	}
	// Reading after any position resumes exactly after it.
	for _, k := range []int{0, 1, len(all) / 2, len(all) - 2} {
		got, err := s.ReadAll(context.Background(), all[k].Position, 5)
		if err != nil {
			t.Fatalf("ReadAll(after %s): %v", all[k].Position, err)
		}
		sameSequence(t, fmt.Sprintf("ReadAll(after %s, 5)", all[k].Position), got, all[k+1:min(k+6, len(all))])
	}
	if got, err := s.ReadAll(context.Background(), all[len(all)-1].Position, 10); err != nil || len(got) != 0 {
		t.Fatalf("ReadAll after the last event: %d events, %v; want none", len(got), err)
	}
	got, err := s.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatalf("ReadAll(Start, 0): %v", err)
	}
	if len(got) > 0 {
		sameSequence(t, "ReadAll(Start, 0) where it answers", got, all[:len(got)])
	}
}

func testReadStream(t *testing.T, b Backend) {
	s := b.New(t)
	// Streams whose names prefix each other, interleaved, so a read that
	// leaks into a neighbour shows.
	for i := range 10 {
		mustAppend(t, s, "order", eventstore.Any(), ev("E", fmt.Sprintf(`{"i":%d}`, i+1)))
		mustAppend(t, s, "order-1", eventstore.Any(), ev("F", fmt.Sprintf(`{"i":%d}`, i+1)))
		if i%3 == 0 {
			mustAppend(t, s, "orde", eventstore.Any(), ev("G", `{}`))
		}
	}
	versions := func(evs []eventstore.Event) []uint64 {
		out := make([]uint64, len(evs))
		for i, e := range evs {
			if e.Stream != "order" {
				t.Fatalf("reading stream order returned an event of %q", e.Stream)
			}
			out[i] = e.Version
		}
		return out
	}
	cases := []struct {
		name string
		from uint64
		dir  eventstore.Direction
		max  int
		want []uint64
	}{
		{"forwards from 1, all", 1, eventstore.Forwards, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"forwards from 4, max 3", 4, eventstore.Forwards, 3, []uint64{4, 5, 6}},
		{"forwards from 9, max 5", 9, eventstore.Forwards, 5, []uint64{9, 10}},
		{"forwards from 10", 10, eventstore.Forwards, 0, []uint64{10}},
		{"forwards past the end", 11, eventstore.Forwards, 0, nil},
		{"backwards from End, all", eventstore.End, eventstore.Backwards, 0, []uint64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"backwards from End, max 3", eventstore.End, eventstore.Backwards, 3, []uint64{10, 9, 8}},
		{"backwards from 5, max 2", 5, eventstore.Backwards, 2, []uint64{5, 4}},
		{"backwards from 2", 2, eventstore.Backwards, 0, []uint64{2, 1}},
		{"backwards from 1", 1, eventstore.Backwards, 0, []uint64{1}},
		{"backwards from past the end", 100, eventstore.Backwards, 2, []uint64{10, 9}},
	}
	for _, tc := range cases {
		got := versions(mustReadStream(t, s, "order", tc.from, tc.dir, tc.max))
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: versions %v, want %v", tc.name, got, tc.want)
		}
	}
	all := mustReadStream(t, s, "order", 1, eventstore.Forwards, 0)
	for i := range all {
		var d struct{ I int }
		if err := json.Unmarshal(all[i].Data, &d); err != nil || d.I != i+1 {
			t.Fatalf("order v%d holds %s", all[i].Version, all[i].Data)
		}
		checkRecorded(t, &all[i])
	}
	back := mustReadStream(t, s, "order", eventstore.End, eventstore.Backwards, 0)
	for i := range back {
		if d := eventDiff(&back[i], &all[len(all)-1-i]); d != "" {
			t.Fatalf("backwards read differs from forwards read at v%d in: %s", back[i].Version, d)
		}
	}
	if n := streamLen(t, s, "orde"); n != 4 {
		t.Fatalf("stream orde has %d events, want 4", n)
	}
}

func testStreamNotFound(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
		from := uint64(1)
		if dir == eventstore.Backwards {
			from = eventstore.End
		}
		if _, err := s.ReadStream(ctx, "nobody", from, dir, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("empty store, ReadStream(direction %d): %v, want ErrStreamNotFound", dir, err)
		}
	}
	mustAppend(t, s, "somebody", eventstore.Any(), ev("E", `{}`))
	wantNotFound(t, s, "nobody")
	wantNotFound(t, s, "somebod")
	wantNotFound(t, s, "somebody-else")
	// A refused append does not create the stream.
	_, err := s.Append(ctx, "nobody", eventstore.Exact(3), []eventstore.NewEvent{ev("E", `{}`)})
	wantConflict(t, err, "nobody")
	wantNotFound(t, s, "nobody")
}

func testHead(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	h, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head of an empty store: %v", err)
	}
	if !h.IsZero() {
		t.Fatalf("Head of an empty store = %s, want Start", h)
	}
	var last eventstore.AppendResult
	for i := range 5 {
		last = mustAppend(t, s, fmt.Sprintf("head-%d", i%2), eventstore.Any(), evN("h", 1+i%2)...)
		h, err := s.Head(ctx)
		if err != nil {
			t.Fatalf("Head: %v", err)
		}
		if h != last.Position {
			t.Fatalf("Head = %s after an append answered position %s", h, last.Position)
		}
	}
	all := readAll(t, s, 100)
	if all[len(all)-1].Position != last.Position {
		t.Fatalf("the last event is at %s, Head said %s", all[len(all)-1].Position, last.Position)
	}
}

func testSubscribeCatchUpThenLive(t *testing.T, b Backend) {
	s := b.New(t)
	for i := range 5 {
		mustAppend(t, s, fmt.Sprintf("sub-%d", i%2), eventstore.Any(), ev("E", fmt.Sprintf(`{"i":%d}`, i)))
	}
	sub := Subscribe(t, s, eventstore.Start)
	got := sub.Take(t, 5)
	sameSequence(t, "catch-up", got, readAll(t, s, 100))
	for i := 5; i < 12; i++ {
		mustAppend(t, s, fmt.Sprintf("sub-%d", i%3), eventstore.Any(), evN(fmt.Sprintf("live %d", i), 1+i%2)...)
	}
	all := readAll(t, s, 100)
	got = append(got, sub.Take(t, len(all)-5)...)
	sameSequence(t, "catch-up then live", got, all)
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v after its context was cancelled, want context.Canceled", err)
	}
	if n := sub.delivered(); n != len(all) {
		t.Fatalf("the handler was called %d times for %d events", n, len(all))
	}

	// A subscription that starts on an empty tail waits for the next event.
	head, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sub2 := Subscribe(t, s, head)
	res := mustAppend(t, s, "sub-late", eventstore.NoStream(), ev("E", `{}`))
	if e := sub2.Take(t, 1)[0]; e.Position != res.Position || e.Stream != "sub-late" {
		t.Fatalf("subscription from the head delivered %s v%d at %s, want sub-late v1 at %s", e.Stream, e.Version, e.Position, res.Position)
	}
}

func testSubscribeResume(t *testing.T, b Backend) {
	s := b.New(t)
	for i := range 10 {
		mustAppend(t, s, fmt.Sprintf("resume-%d", i%3), eventstore.Any(), ev("E", fmt.Sprintf(`{"i":%d}`, i)))
	}
	all := readAll(t, s, 100)
	// The checkpoint a consumer keeps is the position of the last event it
	// handled; resuming from it delivers exactly what came after.
	for _, k := range []int{0, 4, 8, 9} {
		sub := Subscribe(t, s, all[k].Position)
		sameSequence(t, fmt.Sprintf("resume after event %d", k), sub.Take(t, len(all)-k-1), all[k+1:])
		_ = sub.stop(t)
		if n := sub.delivered(); n != len(all)-k-1 {
			t.Fatalf("resume after event %d: handler called %d times, want %d", k, n, len(all)-k-1)
		}
	}
	// Stop mid-way, resume from the checkpoint, lose and repeat nothing.
	sub := Subscribe(t, s, eventstore.Start)
	first := sub.Take(t, 4)
	_ = sub.stop(t)
	checkpoint := first[len(first)-1].Position
	mustAppend(t, s, "resume-new", eventstore.Any(), evN("after stop", 3)...)
	all = readAll(t, s, 100)
	sub = Subscribe(t, s, checkpoint)
	rest := sub.Take(t, len(all)-4)
	sameSequence(t, "stopped after 4, resumed from its checkpoint", append(first, rest...), all)
}

func testSubscribeHandlerError(t *testing.T, b Backend) {
	s := b.New(t)
	mustAppend(t, s, "herr", eventstore.NoStream(), evN("h", 6)...)
	stop := errors.New("handler gives up")
	calls := 0
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := s.Subscribe(ctx, eventstore.Start, func(e eventstore.Event) error {
		calls++
		if calls == 3 {
			return fmt.Errorf("at %s: %w", e.Position, stop)
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Subscribe returned %v, want the handler's error", err)
	}
	if calls != 3 {
		t.Fatalf("handler called %d times, want 3 (delivery stops at the first error)", calls)
	}
}

func testSubscribeCancel(t *testing.T, b Backend) {
	s := b.New(t)
	// Cancelled while waiting on an empty log.
	sub := Subscribe(t, s, eventstore.Start)
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe on an empty log returned %v when cancelled, want context.Canceled", err)
	}
	// Cancelled after delivering, while waiting for more.
	mustAppend(t, s, "cancel", eventstore.NoStream(), evN("c", 3)...)
	sub = Subscribe(t, s, eventstore.Start)
	sub.Take(t, 3)
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v when cancelled, want context.Canceled", err)
	}
	// A context already cancelled returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(ctx, eventstore.Start, func(eventstore.Event) error { return nil }) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Subscribe with a cancelled context returned %v, want context.Canceled", err)
		}
	case <-time.After(wait):
		t.Fatalf("Subscribe with a cancelled context did not return within %s", wait)
	}
}

func testSubscribeConcurrentWriters(t *testing.T, b Backend) {
	s := b.New(t)
	mustAppend(t, s, "cw-seed", eventstore.NoStream(), ev("E", `{}`))
	early := Subscribe(t, s, eventstore.Start)
	const writers, appends = 8, 30
	var wg sync.WaitGroup
	errs := make(chan error, writers*appends)
	for w := range writers {
		wg.Go(func() {
			for a := range appends {
				stream := fmt.Sprintf("cw-%d", (w+a)%5)
				if _, err := s.Append(context.Background(), stream, eventstore.Any(), evN(fmt.Sprintf("w%d a%d", w, a), 1+a%2)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// A second subscriber joins while the writers run.
	early.Take(t, 1)
	late := Subscribe(t, s, eventstore.Start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	all := readAll(t, s, 100)
	sameSequence(t, "subscriber started before the writers", append([]eventstore.Event{all[0]}, early.Take(t, len(all)-1)...), all)
	sameSequence(t, "subscriber started while they wrote", late.Take(t, len(all)), all)
	_ = early.stop(t)
	_ = late.stop(t)
	if early.delivered() != len(all) || late.delivered() != len(all) {
		t.Fatalf("handlers called %d and %d times for %d events", early.delivered(), late.delivered(), len(all))
	}
}

func testLargePayload(t *testing.T, b Backend) {
	s := b.New(t)
	big := func(size int, fill string) json.RawMessage {
		var sb strings.Builder
		sb.WriteString(`{"report":"`)
		for sb.Len() < size-32 {
			sb.WriteString(fill)
		}
		sb.WriteString(`","end":true}`)
		return json.RawMessage(sb.String())
	}
	one := ev("ReportAttached", "")
	one.Data = big(1<<20, "嘉兴经济技术开发区 project report; ")
	res := mustAppend(t, s, "large", eventstore.NoStream(), one)
	three := []eventstore.NewEvent{ev("Part", ""), ev("Part", ""), ev("Part", "")}
	for i := range three {
		three[i].Data = big(256<<10, fmt.Sprintf("part %d ", i))
	}
	mustAppend(t, s, "large", eventstore.Exact(res.Version), three...)
	got := mustReadStream(t, s, "large", 1, eventstore.Forwards, 0)
	want := append([]eventstore.NewEvent{one}, three...)
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range got {
		checkRecorded(t, &got[i])
		if string(got[i].Data) != string(want[i].Data) {
			t.Fatalf("event %d: %d bytes of data came back, want %d byte-exact", i, len(got[i].Data), len(want[i].Data))
		}
	}
	sameSequence(t, "ReadAll of large events", readAll(t, s, 2), got)
}

func testChineseText(t *testing.T, b Backend) {
	s := b.New(t)
	const (
		stream = "项目-嘉兴经济技术开发区-首报首谈-001"
		prefix = "项目-嘉兴经济技术开发区"
	)
	e := eventstore.NewEvent{
		ID:   uuid.New(),
		Type: "ProjectReported",
		Data: json.RawMessage(`{"名称":"嘉兴经济技术开发区新能源汽车零部件项目","阶段":"首报首谈","投资方":"浙江某某新能源科技有限公司（外资）",` +
			`"备注":"全角标点：，。！？；、“引号”‘单引号’（括号）【方括号】《书名号》——省略……","emoji":"🏭🚀👍🏻👨‍👩‍👧🇨🇳",` +
			`"混合":"Ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３ and half-width abc123","escapes":"\u003c\u0026\u003e \"quoted\" \\ \n","金额":1.25e9}`),
		OccurredAt:    occurred,
		Actor:         eventstore.Actor{Subject: "张三", Role: "招商专员", Unit: "嘉兴经济技术开发区管委会"},
		CommandID:     "命令-首报首谈-001",
		CorrelationID: "关联-😀",
		CausationID:   "起因：，。",
	}
	res := mustAppend(t, s, stream, eventstore.NoStream(), e)
	mustAppend(t, s, prefix, eventstore.NoStream(), ev("Other", `{"单位":"嘉兴"}`))
	got := mustReadStream(t, s, stream, 1, eventstore.Forwards, 0)
	if len(got) != 1 {
		t.Fatalf("%d events in %s, want 1", len(got), stream)
	}
	g := &got[0]
	checkRecorded(t, g)
	if g.Stream != stream || string(g.Data) != string(e.Data) || g.Actor != e.Actor || g.CommandID != e.CommandID ||
		g.CorrelationID != e.CorrelationID || g.CausationID != e.CausationID || g.Position != res.Position {
		t.Fatalf("Chinese text did not round-trip byte-exact:\n got %q %s %+v %q %q %q\nwant %q %s %+v %q %q %q",
			g.Stream, g.Data, g.Actor, g.CommandID, g.CorrelationID, g.CausationID,
			stream, e.Data, e.Actor, e.CommandID, e.CorrelationID, e.CausationID)
	}
	all := readAll(t, s, 100)
	sameSequence(t, "ReadAll", all[:1], got)
	if n := streamLen(t, s, prefix); n != 1 {
		t.Fatalf("stream %s has %d events, want 1", prefix, n)
	}
}

func testVerifyAndSeal(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	rep, err := eventstore.Verify(ctx, s)
	if err != nil || !rep.OK || rep.EventsChecked != 0 {
		t.Fatalf("Verify of an empty store: %+v, %v", rep, err)
	}
	for i := range 30 {
		mustAppend(t, s, fmt.Sprintf("chain-%d", i%4), eventstore.Any(), ev("E", fmt.Sprintf(`{"i":%d,"单位":"开发区"}`, i)))
	}
	rep, err = eventstore.Verify(ctx, s)
	if err != nil || !rep.OK || rep.EventsChecked != 30 || rep.Streams != 4 || rep.FirstBad != nil {
		t.Fatalf("Verify: %+v, %v; want OK over 30 events in 4 streams", rep, err)
	}
	actor := eventstore.Actor{Subject: "sealer", Role: "system"}
	sd, sres, err := eventstore.Seal(ctx, s, actor, time.Now())
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if sd.Events != 30 || sd.Digest != rep.Digest || sd.Through != rep.Through {
		t.Fatalf("seal %+v does not match Verify's digest %s through %s", sd, rep.Digest, rep.Through)
	}
	for i := range 5 {
		mustAppend(t, s, "chain-after", eventstore.Any(), ev("E", fmt.Sprintf(`{"i":%d}`, i)))
	}
	if _, _, err := eventstore.Seal(ctx, s, actor, time.Now()); err != nil {
		t.Fatalf("second Seal: %v", err)
	}
	rep, err = eventstore.Verify(ctx, s)
	if err != nil || !rep.OK || rep.SealsChecked != 2 || rep.EventsChecked != 37 {
		t.Fatalf("Verify after two seals: %+v, %v; want OK, 2 seals, 37 events", rep, err)
	}
	seals := mustReadStream(t, s, eventstore.SealStream, 1, eventstore.Forwards, 0)
	if len(seals) != 2 || seals[0].Position != sres.Position || seals[0].Type != eventstore.SealType {
		t.Fatalf("seal stream holds %d events, first at %s, want 2 with the first at %s", len(seals), seals[0].Position, sres.Position)
	}
}

// testSealIfGrown is the periodic sealer of a cluster: several nodes
// sealing the same store at the same moment append one seal, and nobody
// seals a log that has not grown since the last seal.
func testSealIfGrown(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := testCtx(t)
	actor := eventstore.Actor{Subject: "sealer", Role: "system"}
	if _, _, sealed, err := eventstore.SealIfGrown(ctx, s, actor, time.Now()); err != nil || sealed {
		t.Fatalf("SealIfGrown on an empty store: sealed %v, %v; want nothing sealed", sealed, err)
	}
	sealsNow := func() int {
		evs, err := s.ReadStream(ctx, eventstore.SealStream, 1, eventstore.Forwards, 0)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		if err != nil {
			t.Fatalf("ReadStream(seals): %v", err)
		}
		return len(evs)
	}
	for round := 1; round <= 3; round++ {
		for i := range 3 {
			mustAppend(t, s, fmt.Sprintf("grown-%d", i), eventstore.Any(), ev("E", fmt.Sprintf(`{"round":%d,"i":%d}`, round, i)))
		}
		// Eight nodes wake at once.
		const nodes = 8
		var wg sync.WaitGroup
		sealed := make([]bool, nodes)
		errs := make([]error, nodes)
		for n := range nodes {
			wg.Go(func() {
				_, _, sealed[n], errs[n] = eventstore.SealIfGrown(ctx, s, actor, time.Now())
			})
		}
		wg.Wait()
		won := 0
		for n := range nodes {
			if errs[n] != nil {
				t.Fatalf("round %d, node %d: SealIfGrown: %v", round, n, errs[n])
			}
			if sealed[n] {
				won++
			}
		}
		if won != 1 || sealsNow() != round {
			t.Fatalf("round %d: %d nodes say they sealed and the seals stream holds %d seals; want exactly one new seal", round, won, sealsNow())
		}
		// The log has not grown since: nobody seals again.
		if _, _, again, err := eventstore.SealIfGrown(ctx, s, actor, time.Now()); err != nil || again || sealsNow() != round {
			t.Fatalf("round %d: SealIfGrown with no new events: sealed %v, %v, %d seals", round, again, err, sealsNow())
		}
	}
	rep, err := eventstore.Verify(ctx, s)
	if err != nil || !rep.OK || rep.SealsChecked != 3 {
		t.Fatalf("Verify after three rounds: %+v, %v; want OK with 3 seals", rep, err)
	}
}

func testTamper(t *testing.T, b Backend) {
	if b.Tamper == nil {
		t.Skipf("%s: the backend cannot change stored events behind the store's back", b.Name)
	}
	s := b.New(t)
	ctx := testCtx(t)
	for i := range 20 {
		mustAppend(t, s, fmt.Sprintf("tamper-%d", i%3), eventstore.Any(),
			ev("E", fmt.Sprintf(`{"amount":"%d000000.00","unit":"嘉兴经济技术开发区","note":"abcdefghij"}`, i+1)))
	}
	if _, _, err := eventstore.Seal(ctx, s, eventstore.Actor{Subject: "sealer", Role: "system"}, time.Now()); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	target := mustReadStream(t, s, "tamper-1", 4, eventstore.Forwards, 1)[0]
	b.Tamper(t, s, "tamper-1", 4)
	after := mustReadStream(t, s, "tamper-1", 4, eventstore.Forwards, 1)[0]
	if string(after.Data) == string(target.Data) {
		t.Fatalf("Tamper did not change the data of tamper-1 v4")
	}
	if diff := len(after.Data) - len(target.Data); diff != 0 {
		t.Fatalf("Tamper changed the data's length by %d, want one byte flipped", diff)
	}
	rep, err := eventstore.Verify(ctx, s)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.OK || rep.FirstBad == nil || rep.Faults < 1 {
		t.Fatalf("Verify after a flipped byte: %+v; want a fault", rep)
	}
	if fb := rep.FirstBad; fb.Stream != "tamper-1" || fb.Version != 4 || fb.EventID != target.ID || fb.Position != target.Position {
		t.Fatalf("Verify located the fault at %s v%d (%s at %s), want tamper-1 v4 (%s at %s)", fb.Stream, fb.Version, fb.EventID, fb.Position, target.ID, target.Position)
	}
	if rep.EventsChecked != 21 {
		t.Fatalf("Verify checked %d events, want all 21 (it keeps going after a fault)", rep.EventsChecked)
	}
}

func testLateCommit(t *testing.T, b Backend) {
	if b.HoldOpen == nil {
		t.Skipf("%s: appends commit before they are visible, there is no window for a late commit", b.Name)
	}
	s := b.New(t)
	marker := mustAppend(t, s, "late-marker", eventstore.NoStream(), ev("E", `{}`))
	sub := Subscribe(t, s, eventstore.Start)
	if e := sub.Take(t, 1)[0]; e.Position != marker.Position {
		t.Fatalf("subscription delivered %s first, want the marker", e.Position)
	}

	held := ev("Held", `{"held":true}`)
	commit := b.HoldOpen(t, s, "late-held", held)
	committed := false
	defer func() {
		if !committed {
			commit()
		}
	}()
	for i := range 5 {
		mustAppend(t, s, fmt.Sprintf("late-%d", i%2), eventstore.Any(), ev("Later", fmt.Sprintf(`{"i":%d}`, i)))
	}
	// The later appends have committed. Whatever readers see now must be a
	// prefix of the final order: an event visible now that sorts after the
	// held one would let a reader move past it and skip it forever.
	whileHeld := readAll(t, s, 3)
	// Give the subscriber, woken by the later appends, the chance to make
	// that mistake; nothing is asserted about how long anything takes.
	time.Sleep(200 * time.Millisecond)

	commit()
	committed = true
	if got := mustReadStream(t, s, "late-held", 1, eventstore.Forwards, 0); len(got) != 1 || got[0].ID != held.ID {
		t.Fatalf("the held append did not commit: %+v", got)
	}
	final := readAll(t, s, 100)
	if len(final) != 7 {
		t.Fatalf("the log holds %d events after the commit, want 7", len(final))
	}
	if len(whileHeld) > len(final) {
		t.Fatalf("ReadAll while held returned %d events, the final log has %d", len(whileHeld), len(final))
	}
	sameSequence(t, "ReadAll while a transaction was held open (must be a prefix of the final log)", whileHeld, final[:len(whileHeld)])
	got := append([]eventstore.Event{final[0]}, sub.Take(t, len(final)-1)...)
	sameSequence(t, "subscription across the late commit", got, final)
	if n := sub.delivered(); n != len(final) {
		t.Fatalf("the subscriber handled %d events, the log has %d", n, len(final))
	}
}

// testStoreClock: with WithClock, recorded_at is the clock's moment (to the
// stored precision), not the machine's, and the hashes and seals cover it.
func testStoreClock(t *testing.T, b Backend) {
	if b.NewWithClock == nil {
		t.Skipf("%s: the backend has no clock option", b.Name)
	}
	var mu sync.Mutex
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CST", 8*3600))
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	s := b.NewWithClock(t, now)
	ctx := testCtx(t)
	mustAppend(t, s, "clock-1", eventstore.NoStream(), ev("Ticked", `{"n":1}`))
	mu.Lock()
	at = at.Add(36 * time.Hour)
	mu.Unlock()
	mustAppend(t, s, "clock-1", eventstore.Exact(1), ev("Ticked", `{"n":2}`))
	evs, err := s.ReadStream(ctx, "clock-1", 1, eventstore.Forwards, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("ReadStream: %v, %d events", err, len(evs))
	}
	for i, want := range []time.Time{at.Add(-36 * time.Hour), at} {
		if want = eventstore.NormalizeTime(want); !evs[i].RecordedAt.Equal(want) {
			t.Errorf("event %d: recorded_at %s, want the clock's %s", i+1, evs[i].RecordedAt, want)
		}
		if got := eventstore.ComputeHash(&evs[i]); got != evs[i].Hash {
			t.Errorf("event %d: stored hash %s, but the event as read hashes to %s", i+1, evs[i].Hash, got)
		}
	}
	rep, err := eventstore.Verify(ctx, s)
	if err != nil || !rep.OK {
		t.Errorf("Verify after appends stamped by the clock: %+v, %v", rep, err)
	}
}
