package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
	"github.com/zhaoshang/zhaoshang/eventstore/storetest"
)

// TestContract runs the contract every backend passes, each test on a
// database of its own.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "postgres",
		New: func(t testing.TB) eventstore.Store {
			s, _ := newStore(t)
			return s
		},
		Tamper:   tamper,
		HoldOpen: postgres.HoldOpen,
		NewWithClock: func(t testing.TB, now func() time.Time) eventstore.Store {
			s, _ := newStore(t, postgres.WithClock(now))
			return s
		},
	})
}

// tamper flips the lowest bit of the middle byte of an event's stored
// data with plain SQL, as someone with write access to the database could.
func tamper(t testing.TB, s eventstore.Store, stream string, version uint64) {
	t.Helper()
	tag, err := s.(*postgres.Store).Pool().Exec(context.Background(), `UPDATE zhaoshang.events
		SET data = set_byte(data, length(data) / 2, get_byte(data, length(data) / 2) # 1)
		WHERE stream = $1 AND version = $2`, stream, int64(version))
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("tamper: %s v%d not found", stream, version)
	}
}
