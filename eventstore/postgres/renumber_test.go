package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
)

// A logical dump restored into a cluster whose transaction counter is
// behind the dump's tx_ids: Open refuses, Renumber repairs it keeping the
// global order, and everything verifies.
func TestRestoredTransactionIDsAreRefusedThenRenumbered(t *testing.T) {
	ctx := context.Background()
	s, url := newStore(t)

	mustAppend(t, s, "a", eventstore.NoStream(), events(2, "T")...)
	mustAppend(t, s, "b", eventstore.NoStream(), events(3, "T")...)
	mustAppend(t, s, "a", eventstore.Exact(2), events(1, "T")...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// What pg_dump into a younger cluster looks like: every tx_id is ahead
	// of the server's counter. Stream b's transactions are made to sort
	// first, so that the global order differs from global_position order,
	// as it does when transactions commit out of order.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE zhaoshang.events
		SET tx_id = (tx_id::text::bigint + CASE stream WHEN 'b' THEN 1000000000 ELSE 1000000100 END)::text::xid8`); err != nil {
		t.Fatal(err)
	}
	var want, byPosition []uuid.UUID
	for _, q := range []struct {
		order string
		into  *[]uuid.UUID
	}{{"tx_id, global_position", &want}, {"global_position", &byPosition}} {
		rows, err := conn.Query(ctx, "SELECT event_id FROM zhaoshang.events ORDER BY "+q.order)
		if err != nil {
			t.Fatal(err)
		}
		if *q.into, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			t.Fatal(err)
		}
	}
	if want[0] == byPosition[0] {
		t.Fatal("the scrambled log still has global order = position order")
	}

	if _, err := postgres.Open(ctx, url); !errors.Is(err, postgres.ErrRestoredXIDs) {
		t.Fatalf("Open on restored tx_ids: %v, want ErrRestoredXIDs", err)
	}
	n, err := postgres.Renumber(ctx, url)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("Renumber: %d, %v; want %d events", n, err, len(want))
	}
	s = open(t, url)
	checkOrder(t, readAllN(t, s, len(want)), want)
	verify(t, s)
	mustAppend(t, s, "a", eventstore.Exact(3), events(1, "T")...)
	if got := readAllN(t, s, len(want)+1); len(got) != len(want)+1 {
		t.Fatalf("after renumbering, a new append is not last in the log: %d events", len(got))
	}

	if n, err := postgres.Renumber(ctx, url); err != nil || n != 0 {
		t.Fatalf("Renumber on a healthy table: %d, %v; want 0 and no change", n, err)
	}
}

// TestSealsSurviveRenumbering: a sealed log dumped and restored into a
// younger cluster, then renumbered, keeps its events and their order at
// new positions; every seal taken before the move still verifies, and one
// taken after it too. Events removed from the end of the log afterwards
// are still caught by the seal.
func TestSealsSurviveRenumbering(t *testing.T) {
	ctx := context.Background()
	s, url := newStore(t)
	mustAppend(t, s, "a", eventstore.NoStream(), events(3, "T")...)
	actor := eventstore.Actor{Subject: "sealer", Role: "system"}
	first, _, err := eventstore.Seal(ctx, s, actor, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "b", eventstore.NoStream(), events(2, "T")...)
	mustAppend(t, s, "a", eventstore.Exact(3), events(1, "T")...)
	if _, _, err := eventstore.Seal(ctx, s, actor, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The restored table: every tx_id ahead of the server's counter, in the
	// order the transactions had.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE zhaoshang.events SET tx_id = (tx_id::text::bigint + 1000000000)::text::xid8`); err != nil {
		t.Fatal(err)
	}
	if n, err := postgres.Renumber(ctx, url); err != nil || n != int64(len(before)) {
		t.Fatalf("Renumber: %d, %v; want %d events", n, err, len(before))
	}
	s = open(t, url)
	after := readAllN(t, s, len(before))
	checkOrder(t, after, ids(before))
	if after[first.Events-1].Position == first.Through {
		t.Fatalf("Renumber kept position %s: the test needs positions that moved", first.Through)
	}
	rep, err := eventstore.Verify(ctx, s)
	if err != nil || !rep.OK || rep.SealsChecked != 2 || rep.EventsChecked != uint64(len(before)) {
		t.Fatalf("Verify after renumbering: %+v, %v; want OK with both seals checked", rep, err)
	}
	if _, _, err := eventstore.Seal(ctx, s, actor, time.Now()); err != nil {
		t.Fatal(err)
	}
	verify(t, s)

	// Remove the last event of each of streams a and b, which breaks no
	// stream's chain: the seal over 7 events no longer matches, and the one
	// over 8 covers more events than the log now holds.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM zhaoshang.events WHERE global_position IN
		(SELECT global_position FROM zhaoshang.events WHERE stream <> 'seals' ORDER BY tx_id DESC, global_position DESC LIMIT 2)`); err != nil {
		t.Fatal(err)
	}
	s = open(t, url)
	rep, err = eventstore.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Faults != 2 || rep.FirstBad == nil || !strings.Contains(rep.FirstBad.Reason, "the digest of the first 7 events was") {
		t.Fatalf("Verify after removing two events: %+v (%+v); want the seals over 7 and 8 events to fail", rep, rep.FirstBad)
	}
}
