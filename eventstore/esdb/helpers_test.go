package esdb

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/esdb/esdbtest"
	"github.com/zhaoshang/zhaoshang/eventstore/storetest"
)

// patience bounds every wait in these tests: a hang becomes a failure that
// says what did not happen. It is not a speed requirement.
const patience = 30 * time.Second

func startServer(t testing.TB, opts ...esdbtest.Option) *esdbtest.Server {
	t.Helper()
	srv, err := esdbtest.Start(opts...)
	if err != nil {
		t.Fatalf("esdbtest.Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func openStore(t testing.TB, connection string, opts ...Option) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	s, err := open(ctx, connection, opts...)
	if err != nil {
		t.Fatalf("open(%s): %v", redact(connection), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawClient is a bare client of the official library, for writing what the
// adapter never would (system events, foreign events) and for looking at
// what it wrote.
func rawClient(t testing.TB, connection string) *esdbclient.Client {
	t.Helper()
	cfg, err := esdbclient.ParseConnectionString(connection)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdbclient.NoopLogging()
	c, err := esdbclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newEvent(typ, data string) eventstore.NewEvent {
	return eventstore.NewEvent{
		ID:            uuid.New(),
		Type:          typ,
		Data:          json.RawMessage(data),
		OccurredAt:    time.Date(2025, 6, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600)),
		Actor:         eventstore.Actor{Subject: "u-1", Role: "officer", Unit: "unit-a"},
		CommandID:     "cmd-1",
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
	}
}

func mustAppend(t testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, evs)
	if err != nil {
		t.Fatalf("Append(%q): %v", stream, err)
	}
	return res
}

func mustReadAll(t testing.TB, s eventstore.Store) []eventstore.Event {
	t.Helper()
	all, err := s.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return all
}

// waitFor polls cond until it holds, failing after patience with what.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", patience, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collector is the contract suite's subscription helper, with quiet.
type collector struct{ *storetest.Subscription }

func collect(t testing.TB, s eventstore.Store, after eventstore.Position) collector {
	t.Helper()
	return collector{storetest.Subscribe(t, s, after)}
}

func (c collector) take(t testing.TB, n int) []eventstore.Event {
	t.Helper()
	return c.Take(t, n)
}

// quiet reports whether nothing more was delivered: used after everything
// expected arrived, to catch duplicates that a resubscription could cause.
func (c collector) quiet(t testing.TB, s eventstore.Store) {
	t.Helper()
	// A sentinel appended now arrives after anything already in flight.
	res := mustAppend(t, s, "sentinel-"+uuid.NewString()[:8], eventstore.NoStream(), newEvent("Sentinel", `{}`))
	e := c.take(t, 1)[0]
	if e.Position != res.Position {
		t.Fatalf("delivered %s v%d at %s before the sentinel at %s: an event was delivered twice or late", e.Stream, e.Version, e.Position, res.Position)
	}
}

func positions(evs []eventstore.Event) []eventstore.Position {
	out := make([]eventstore.Position, len(evs))
	for i, e := range evs {
		out[i] = e.Position
	}
	return out
}
