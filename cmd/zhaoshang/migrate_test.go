package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
	"github.com/zhaoshang/zhaoshang/internal/pgtest"
)

func TestMigrateRefusals(t *testing.T) {
	if r := zs(t, "migrate"); r.code != 2 || !strings.Contains(r.errOut, "nothing to migrate") {
		t.Errorf("migrate without flags: %s", r)
	}
	for _, c := range []struct {
		store, says string
		code        int
	}{
		{"bolt:" + storePath(t.TempDir()), "only PostgreSQL stores have schema migrations", 2}, // a command-line mistake
		{"mysql://db/ledger", "want bolt:PATH, postgres://… or esdb://…", 1},
	} {
		if r := zs(t, "migrate", "--store", c.store); r.code != c.code || !strings.Contains(r.errOut, c.says) {
			t.Errorf("migrate --store %s: %s", c.store, r)
		}
	}
}

// TestMigrate: the event store's schema and the read model's are created,
// and running migrate again changes nothing.
func TestMigrate(t *testing.T) {
	pg := pgtest.New(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schema := func() (events, readMeta bool, migrations int) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL, to_regclass('zs_read.meta') IS NOT NULL`,
			postgres.Schema+".events").Scan(&events, &readMeta); err != nil {
			t.Fatal(err)
		}
		if events {
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+postgres.MigrationsTable).Scan(&migrations); err != nil {
				t.Fatal(err)
			}
		}
		return events, readMeta, migrations
	}

	r := mustZS(t, "migrate", "--store", pg)
	if !strings.Contains(r.out, "event store schema up to date") {
		t.Errorf("migrate --store: %q", r.out)
	}
	events, readMeta, applied := schema()
	if !events || applied == 0 || readMeta {
		t.Fatalf("after migrate --store: events table %v, migrations %d, read model %v", events, applied, readMeta)
	}

	mustZS(t, "migrate", "--store", pg)
	if _, _, again := schema(); again != applied {
		t.Errorf("a second migrate recorded %d migrations, the first %d", again, applied)
	}

	r = mustZS(t, "migrate", "--readmodel", pg, "--store", pg)
	if !strings.Contains(r.out, "read-model schema up to date") {
		t.Errorf("migrate --readmodel: %q", r.out)
	}
	if _, readMeta, again := schema(); !readMeta || again != applied {
		t.Errorf("after migrate --readmodel: read model %v, migrations %d (was %d)", readMeta, again, applied)
	}
}
