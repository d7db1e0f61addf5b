package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// HoldOpen appends ev to stream in a transaction that stays open until
// commit is called: the insert goes through the same code as Append (head
// read, stamping, the INSERT statement), only on a transaction instead of
// the pool. Events appended meanwhile get later tx_ids and must not be
// read before this one. The transaction is rolled back at cleanup if
// commit was never called.
func HoldOpen(t testing.TB, es eventstore.Store, stream string, ev eventstore.NewEvent) (commit func()) {
	t.Helper()
	s := es.(*Store)
	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatalf("HoldOpen: begin: %v", err)
	}
	w, err := s.append(ctx, tx, stream, eventstore.Any(), []eventstore.NewEvent{ev}, false)
	if err != nil {
		_ = tx.Rollback(ctx)
		t.Fatalf("HoldOpen: append: %v", err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { _ = tx.Rollback(ctx) }) })
	return func() {
		once.Do(func() {
			if err := tx.Commit(ctx); err != nil {
				t.Errorf("HoldOpen: commit: %v", err)
				return
			}
			s.committedWrite(stream, w)
		})
	}
}
