package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
	"github.com/zhaoshang/zhaoshang/internal/pgtest"
)

// liveness bounds how long a test waits for something that must happen
// (a delivery, a wake-up) before it fails instead of hanging; it is not a
// performance expectation.
const liveness = 60 * time.Second

// quiet is a poll interval long enough that a test passing with it proves
// the wake-up path, not the polling fallback, delivered the events.
const quiet = time.Hour

func open(t testing.TB, url string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	s, err := postgres.Open(ctx, url, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB, opts ...postgres.Option) (*postgres.Store, string) {
	t.Helper()
	url := pgtest.New(t)
	return open(t, url, opts...), url
}

var occurred = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600))

func newEvent(typ, data string) eventstore.NewEvent {
	return eventstore.NewEvent{
		ID:            uuid.New(),
		Type:          typ,
		Data:          json.RawMessage(data),
		OccurredAt:    occurred,
		Actor:         eventstore.Actor{Subject: "张三", Role: "officer", Unit: "招商局"},
		CommandID:     "cmd-1",
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
	}
}

func events(n int, typ string) []eventstore.NewEvent {
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		out[i] = newEvent(typ, fmt.Sprintf(`{"n":%d}`, i))
	}
	return out
}

func mustAppend(t testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, evs)
	if err != nil {
		t.Fatalf("Append(%s, %s): %v", stream, exp, err)
	}
	return res
}

func readAll(t testing.TB, s eventstore.Store) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return evs
}

// readAllN is readAll once at least n events are visible: a reader sees an
// event only when no earlier transaction may still commit, and a long
// transaction anywhere in the cluster (another test's, under CI) holds
// that back for a while.
func readAllN(t testing.TB, s eventstore.Store, n int) []eventstore.Event {
	t.Helper()
	deadline := time.Now().Add(liveness)
	for {
		evs := readAll(t, s)
		if len(evs) >= n || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func verify(t testing.TB, s eventstore.Store) {
	t.Helper()
	rep, err := eventstore.Verify(context.Background(), s)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.OK {
		t.Fatalf("Verify: %+v", *rep.FirstBad)
	}
}

func ids(evs []eventstore.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

func TestOpenMigratesIdempotentlyAndConcurrently(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()

	// Several processes starting at once on an empty database: the schema
	// and the migrations are applied once, and every Open succeeds.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(ctx, url)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatalf("Migrate on a migrated database: %v", err)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+postgres.MigrationsTable+" WHERE version_id > 0 AND is_applied").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("%d migrations recorded as applied, want 1", applied)
	}
	var dataType, txType string
	if err := conn.QueryRow(ctx, `SELECT
		(SELECT data_type FROM information_schema.columns WHERE table_schema = 'zhaoshang' AND table_name = 'events' AND column_name = 'data'),
		(SELECT udt_name FROM information_schema.columns WHERE table_schema = 'zhaoshang' AND table_name = 'events' AND column_name = 'tx_id')`).Scan(&dataType, &txType); err != nil {
		t.Fatal(err)
	}
	if dataType != "bytea" || txType != "xid8" {
		t.Fatalf("data is %s and tx_id is %s, want bytea and xid8", dataType, txType)
	}
}

func TestAppendAndReadStream(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()

	first := events(3, "ProjectRegistered")
	res := mustAppend(t, s, "project-1", eventstore.NoStream(), first...)
	if res.Version != 3 {
		t.Fatalf("version after 3 events = %d, want 3", res.Version)
	}
	res2 := mustAppend(t, s, "project-1", eventstore.Exact(3), events(2, "ProjectUpdated")...)
	if res2.Version != 5 || res2.Position.Compare(res.Position) <= 0 {
		t.Fatalf("second append: %+v after %+v", res2, res)
	}
	mustAppend(t, s, "project-2", eventstore.Any(), events(1, "ProjectRegistered")...)

	fwd, err := s.ReadStream(ctx, "project-1", 1, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(fwd) != 5 {
		t.Fatalf("read %d events forwards, want 5", len(fwd))
	}
	for i, e := range fwd {
		if e.Version != uint64(i+1) || e.Stream != "project-1" {
			t.Fatalf("event %d: stream %q version %d", i, e.Stream, e.Version)
		}
		if i > 0 && e.Position.Compare(fwd[i-1].Position) <= 0 {
			t.Fatalf("positions not increasing: %s then %s", fwd[i-1].Position, e.Position)
		}
		if i > 0 && e.PrevHash != fwd[i-1].Hash {
			t.Fatalf("event %d prev_hash does not chain", i)
		}
	}
	if fwd[2].Position != res.Position || fwd[4].Position != res2.Position {
		t.Fatalf("append results %s, %s do not match the stored positions %s, %s", res.Position, res2.Position, fwd[2].Position, fwd[4].Position)
	}
	if fwd[0].ID != first[0].ID || fwd[0].Actor.Subject != "张三" || fwd[0].CausationID != "cause-1" {
		t.Fatalf("envelope not kept: %+v", fwd[0])
	}
	if !fwd[0].OccurredAt.Equal(eventstore.NormalizeTime(occurred)) || fwd[0].OccurredAt.Location() != time.UTC {
		t.Fatalf("occurred_at = %v, want %v in UTC", fwd[0].OccurredAt, eventstore.NormalizeTime(occurred))
	}

	back, err := s.ReadStream(ctx, "project-1", eventstore.End, eventstore.Backwards, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Version != 5 || back[1].Version != 4 {
		t.Fatalf("backwards from the end: %d events, first version %d", len(back), back[0].Version)
	}
	mid, err := s.ReadStream(ctx, "project-1", 3, eventstore.Backwards, 0)
	if err != nil || len(mid) != 3 || mid[0].Version != 3 {
		t.Fatalf("backwards from 3: %d events, %v", len(mid), err)
	}
	past, err := s.ReadStream(ctx, "project-1", 6, eventstore.Forwards, 0)
	if err != nil || len(past) != 0 {
		t.Fatalf("forwards past the end: %d events, %v", len(past), err)
	}
	if _, err := s.ReadStream(ctx, "nobody", 1, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("missing stream: %v, want ErrStreamNotFound", err)
	}

	all := readAll(t, s)
	if len(all) != 6 {
		t.Fatalf("ReadAll: %d events, want 6", len(all))
	}
	head, err := s.Head(ctx)
	if err != nil || head != all[5].Position {
		t.Fatalf("Head = %s, %v; want %s", head, err, all[5].Position)
	}
	page, err := s.ReadAll(ctx, all[1].Position, 2)
	if err != nil || len(page) != 2 || page[0].ID != all[2].ID {
		t.Fatalf("ReadAll after %s: %v, %v", all[1].Position, ids(page), err)
	}
	verify(t, s)
}

func TestHeadOfAnEmptyStoreIsStart(t *testing.T) {
	s, _ := newStore(t)
	head, err := s.Head(context.Background())
	if err != nil || !head.IsZero() {
		t.Fatalf("Head = %s, %v; want Start", head, err)
	}
	if evs := readAll(t, s); len(evs) != 0 {
		t.Fatalf("ReadAll on an empty store: %d events", len(evs))
	}
}

func TestVersionConflicts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustAppend(t, s, "p", eventstore.NoStream(), events(2, "T")...)

	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream(), eventstore.Exact(1), eventstore.Exact(3)} {
		_, err := s.Append(ctx, "p", exp, events(1, "T"))
		var vc *eventstore.VersionConflictError
		if !errors.As(err, &vc) || !errors.Is(err, eventstore.ErrVersionConflict) {
			t.Fatalf("expected %s on a stream at 2: %v, want a version conflict", exp, err)
		}
		if vc.Actual != 2 || vc.Stream != "p" {
			t.Fatalf("conflict %+v, want actual 2 on p", vc)
		}
	}
	if _, err := s.Append(ctx, "q", eventstore.Exact(1), events(1, "T")); !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("Exact(1) on a missing stream: %v", err)
	}
	if n := len(readAll(t, s)); n != 2 {
		t.Fatalf("refused appends wrote something: %d events", n)
	}
}

// Several processes (stores) racing for the same version: exactly one wins,
// whatever each one's cache believed.
func TestRacingAppendsExactlyOneWins(t *testing.T) {
	s, url := newStore(t)
	others := []*postgres.Store{s, open(t, url), open(t, url)}
	ctx := context.Background()
	mustAppend(t, s, "race", eventstore.NoStream(), events(1, "T")...)
	// Every store learns the head, so that all of them append from a cache.
	for _, o := range others {
		if _, err := o.ReadStream(ctx, "race", eventstore.End, eventstore.Backwards, 1); err != nil {
			t.Fatal(err)
		}
	}

	const writers = 24
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		wins, conflicts int
		unexpected      []error
	)
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			_, err := others[i%len(others)].Append(ctx, "race", eventstore.Exact(1), events(1, "T"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, eventstore.ErrVersionConflict):
				conflicts++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 || conflicts != writers-1 || len(unexpected) > 0 {
		t.Fatalf("%d wins, %d conflicts, errors %v; want 1 win", wins, conflicts, unexpected)
	}

	// Any never conflicts: every append lands, the chain stays whole.
	for i := range writers {
		wg.Go(func() {
			if _, err := others[i%len(others)].Append(ctx, "race", eventstore.Any(), events(2, "T")); err != nil {
				t.Errorf("Append Any: %v", err)
			}
		})
	}
	wg.Wait()
	evs, err := s.ReadStream(ctx, "race", 1, eventstore.Forwards, 0)
	if err != nil || len(evs) != 2+2*writers {
		t.Fatalf("stream has %d events (%v), want %d", len(evs), err, 2+2*writers)
	}
	verify(t, s)
}

// A store whose cached head is behind another process's appends still
// chains correctly and reports the true version in a conflict.
func TestStaleHeadCacheAcrossProcesses(t *testing.T) {
	a, url := newStore(t)
	b := open(t, url)
	ctx := context.Background()

	mustAppend(t, a, "s", eventstore.NoStream(), events(1, "T")...) // a caches version 1
	mustAppend(t, b, "s", eventstore.Any(), events(2, "T")...)      // the stream is at 3
	if res := mustAppend(t, a, "s", eventstore.Any(), events(1, "T")...); res.Version != 4 {
		t.Fatalf("Any from a stale cache landed at version %d, want 4", res.Version)
	}
	mustAppend(t, b, "s", eventstore.Exact(4), events(1, "T")...) // 5; a caches 4
	var vc *eventstore.VersionConflictError
	if _, err := a.Append(ctx, "s", eventstore.Exact(4), events(1, "T")); !errors.As(err, &vc) || vc.Actual != 5 {
		t.Fatalf("Exact(4) on a stream at 5 from a stale cache: %v, want a conflict at 5", err)
	}
	if res := mustAppend(t, a, "s", eventstore.Exact(5), events(1, "T")...); res.Version != 6 {
		t.Fatalf("Exact(5) landed at %d", res.Version)
	}
	verify(t, a)
}

func TestIdempotentRetries(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	batch := events(3, "T")
	first := mustAppend(t, s, "p", eventstore.NoStream(), batch...)
	mustAppend(t, s, "p", eventstore.Any(), events(1, "T")...)

	// The same events again answer like the first append, whatever the
	// expectation and however the stream moved since.
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream(), eventstore.Exact(3), eventstore.Any(), eventstore.Exact(4)} {
		res, err := s.Append(ctx, "p", exp, batch)
		if err != nil || res != first {
			t.Fatalf("retry with %s: %+v, %v; want %+v", exp, res, err, first)
		}
	}
	// Through another store, without its cache.
	if n := len(readAll(t, s)); n != 4 {
		t.Fatalf("retries wrote events: %d in the log, want 4", n)
	}

	changed := batch[1]
	changed.Data = json.RawMessage(`{"n":99}`)
	for name, tc := range map[string]struct {
		stream string
		evs    []eventstore.NewEvent
	}{
		"other stream":   {"q", batch},
		"partial":        {"p", []eventstore.NewEvent{batch[0], newEvent("T", `{}`)}},
		"reordered":      {"p", []eventstore.NewEvent{batch[1], batch[0]}},
		"different data": {"p", []eventstore.NewEvent{batch[0], changed, batch[2]}},
	} {
		if _, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.evs); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
	if n := len(readAll(t, s)); n != 4 {
		t.Fatalf("refused reuses wrote events: %d in the log, want 4", n)
	}
}

func TestDataIsKeptByteExact(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	big := `{"report":"` + strings.Repeat("招商引资项目进展报告；", 100000) + `"}`
	payloads := []string{
		`{ "b" : 1,  "a":[1, 2 ,3], "b":2 }`,
		"{\n\t\"项目\": \"新能源汽车零部件产业园\",\n\t\"投资额\": 1.50e9\n}",
		`{"escaped":"\u4e2d\u0000\ud83d\ude00","num":1.000}`,
		`"just a string"`,
		big,
	}
	var evs []eventstore.NewEvent
	for _, p := range payloads {
		evs = append(evs, newEvent("项目已登记", p))
	}
	mustAppend(t, s, "项目-深圳-001", eventstore.NoStream(), evs...)
	got, err := s.ReadStream(ctx, "项目-深圳-001", 1, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range payloads {
		if !bytes.Equal(got[i].Data, []byte(p)) {
			t.Errorf("payload %d changed (%d bytes stored, %d sent)", i, len(got[i].Data), len(p))
		}
		if got[i].Type != "项目已登记" {
			t.Errorf("type %q", got[i].Type)
		}
	}
	verify(t, s)
}

func TestInvalidAppendsAreRefused(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	dup := newEvent("T", `{}`)
	bad := func(mod func(*eventstore.NewEvent)) []eventstore.NewEvent {
		e := newEvent("T", `{}`)
		mod(&e)
		return []eventstore.NewEvent{e}
	}
	for name, tc := range map[string]struct {
		stream string
		evs    []eventstore.NewEvent
	}{
		"no events":           {"p", nil},
		"duplicate ids":       {"p", []eventstore.NewEvent{dup, dup}},
		"NUL in stream":       {"p\x00q", events(1, "T")},
		"invalid UTF-8 type":  {"p", bad(func(e *eventstore.NewEvent) { e.Type = "\xff" })},
		"NUL in actor":        {"p", bad(func(e *eventstore.NewEvent) { e.Actor.Subject = "a\x00" })},
		"data not JSON":       {"p", bad(func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{`) })},
		"reserved stream":     {"$all", events(1, "T")},
		"missing occurred_at": {"p", bad(func(e *eventstore.NewEvent) { e.OccurredAt = time.Time{} })},
	} {
		if _, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.evs); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
	if n := len(readAll(t, s)); n != 0 {
		t.Fatalf("refused appends wrote %d events", n)
	}
}

// The events of one append keep their order in the global log, and one
// append is one transaction (one tx_id).
func TestAnAppendIsOneTransactionInVersionOrder(t *testing.T) {
	s, _ := newStore(t)
	res := mustAppend(t, s, "big", eventstore.NoStream(), events(1000, "T")...)
	all := readAll(t, s)
	if len(all) != 1000 {
		t.Fatalf("%d events", len(all))
	}
	for i, e := range all {
		if e.Version != uint64(i+1) || e.Position.Commit != all[0].Position.Commit {
			t.Fatalf("event %d: version %d, tx %d (first tx %d)", i, e.Version, e.Position.Commit, all[0].Position.Commit)
		}
	}
	if res.Position != all[999].Position {
		t.Fatalf("append answered %s, last event is at %s", res.Position, all[999].Position)
	}
}

func TestPositionsRoundTripAsStrings(t *testing.T) {
	s, _ := newStore(t)
	mustAppend(t, s, "p", eventstore.Any(), events(3, "T")...)
	all := readAll(t, s)
	p, err := eventstore.ParsePosition(all[0].Position.String())
	if err != nil || p != all[0].Position {
		t.Fatalf("position %s parsed back as %s, %v", all[0].Position, p, err)
	}
	rest, err := s.ReadAll(context.Background(), p, 0)
	if err != nil || len(rest) != 2 {
		t.Fatalf("ReadAll after a parsed position: %d events, %v", len(rest), err)
	}
}

// Under the simple protocol (as behind a pooler that cannot prepare
// statements) parameters travel as text and rows come back as text: the
// store must write and read the same events as through the extended
// protocol, whose binary rows it decodes by hand.
func TestSimpleProtocolReadsTheSameEvents(t *testing.T) {
	s, url := newStore(t)
	simple := open(t, url+"&default_query_exec_mode=simple_protocol")
	ctx := context.Background()
	mustAppend(t, s, "项目-1", eventstore.NoStream(), events(3, "ProjectRegistered")...)
	mustAppend(t, simple, "项目-1", eventstore.Exact(3), newEvent("ProjectUpdated", `{"名称":"产业园"}`))
	mustAppend(t, simple, "项目-2", eventstore.Any(), events(2, "T")...)

	a, b := readAll(t, s), readAll(t, simple)
	if len(a) != 6 || len(b) != 6 {
		t.Fatalf("read %d and %d events, want 6", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Position != y.Position || x.Stream != y.Stream || x.Version != y.Version || x.Type != y.Type ||
			!bytes.Equal(x.Data, y.Data) || !x.OccurredAt.Equal(y.OccurredAt) || !x.RecordedAt.Equal(y.RecordedAt) ||
			x.RecordedAt.Location() != y.RecordedAt.Location() || x.Actor != y.Actor || x.CommandID != y.CommandID ||
			x.CorrelationID != y.CorrelationID || x.CausationID != y.CausationID || x.PrevHash != y.PrevHash || x.Hash != y.Hash {
			t.Fatalf("event %d differs between the protocols:\n%+v\n%+v", i, x, y)
		}
	}
	if _, err := simple.ReadStream(ctx, "项目-1", eventstore.End, eventstore.Backwards, 0); err != nil {
		t.Fatal(err)
	}
	verify(t, simple)
}
