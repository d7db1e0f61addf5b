package postgres_test

import (
	"context"
	"errors"
	"testing"

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
	checkOrder(t, readAll(t, s), want)
	verify(t, s)
	mustAppend(t, s, "a", eventstore.Exact(3), events(1, "T")...)
	if got := readAll(t, s); len(got) != len(want)+1 {
		t.Fatalf("after renumbering, a new append is not last in the log: %d events", len(got))
	}

	if n, err := postgres.Renumber(ctx, url); err != nil || n != 0 {
		t.Fatalf("Renumber on a healthy table: %d, %v; want 0 and no change", n, err)
	}
}
