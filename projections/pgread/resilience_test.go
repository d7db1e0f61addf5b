package pgread

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/internal/pgtest"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// TestLostLockIsNoticed: the connection holding the writer's lock dies (a
// database restart, pg_terminate_backend); a second writer then takes the
// schema, and the first stops with ErrLockLost instead of writing beside
// it. With the lock free, a writer takes it again and rebuilds.
func TestLostLockIsNoticed(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	now := log.Config.End()
	v1, w1 := flushed(t, url, log, 1500)
	admin := adminPool(t, url)
	kill := func() {
		t.Helper()
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
			t.Fatal(err)
		}
	}

	// Lock gone, nobody else: the first writer takes it again and goes on.
	kill()
	feed(t, v1, log, 2000)
	if err := w1.Flush(ctx); err != nil {
		t.Fatalf("flush after the lock connection died, no other writer: %v", err)
	}
	if _, err := Open(ctx, Config{URL: url}); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second writer after the first took its lock again: %v, want ErrLocked", err)
	}
	sameTables(t, admin, "zs_read", dumpOf(t, url, log, 2000))

	// Lock gone, and a second writer takes the schema: the first must stop.
	kill()
	v2 := projections.NewViews(projections.Options{Location: synth.Zone})
	w2 := open(t, url, "zs_read", now)
	w2.Attach(v2)
	feed(t, v2, log, 2500)
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	feed(t, v1, log, 2200)
	if err := w1.Flush(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("the first writer's flush beside a second writer: %v, want ErrLockLost", err)
	}
	if err := w1.Rebuild(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("the first writer's rebuild beside a second writer: %v, want ErrLockLost", err)
	}
	var pos string
	if err := admin.QueryRow(ctx, `SELECT position FROM zs_read.checkpoint`).Scan(&pos); err != nil || pos != v2.Position().String() {
		t.Fatalf("checkpoint %q (%v), want the second writer's %s", pos, err, v2.Position())
	}
}

// TestNoFlushBeforeTheViewsCatchUp: after a restart the views replay from
// the start while the writer's clock ticks; until they pass the
// checkpoint, a flush writes nothing (a refresh from half-replayed views
// would empty the alerts and rates the tables hold).
func TestNoFlushBeforeTheViewsCatchUp(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	now := log.Config.End()
	_, w1 := flushed(t, url, log, 3000)
	w1.Close()
	pool := adminPool(t, url)
	count := func(table string) (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM zs_read.`+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	alerts, rates := count("alerts"), count("rates")
	if alerts == 0 || rates == 0 {
		t.Fatalf("the first run wrote %d alerts and %d rates: the test needs some", alerts, rates)
	}
	v2 := projections.NewViews(projections.Options{Location: synth.Zone})
	w2, err := Open(ctx, Config{URL: url, Now: func() time.Time { return now }}) // the default refresh: the first tick refreshes
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	w2.Attach(v2)
	for _, n := range []int{0, 1500} {
		feed(t, v2, log, n)
		if err := w2.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if a, r := count("alerts"), count("rates"); a != alerts || r != rates {
			t.Fatalf("a flush with the views at %d of 3000 events changed alerts %d → %d and rates %d → %d", n, alerts, a, rates, r)
		}
	}
	feed(t, v2, log, 3000)
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameTables(t, pool, "zs_read", dumpOf(t, url, log, 3000))
}

// TestLostGenerationIsRebuilt: the generation the meta names is gone (a
// schema dropped by hand); the tables are derived, so opening rebuilds them.
func TestLostGenerationIsRebuilt(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 2000)
	now := log.Config.End()
	v1, w1 := flushed(t, url, log, 2000)
	w1.Close()
	pool := adminPool(t, url)
	var gen int
	if err := pool.QueryRow(ctx, `SELECT generation FROM zs_read.meta`).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DROP SCHEMA `+quote(genSchema("zs_read", int64(gen)))+` CASCADE`); err != nil {
		t.Fatal(err)
	}
	w2 := open(t, url, "zs_read", now)
	w2.Attach(v1)
	if err := w2.Flush(ctx); err != nil {
		t.Fatalf("flush after the generation was dropped: %v", err)
	}
	sameTables(t, pool, "zs_read", dumpOf(t, url, log, 2000))
}

// dumpOf rebuilds the first n events of log into a schema of its own and
// names it: the tables a writer holding those events must equal.
func dumpOf(t *testing.T, url string, log *synth.Log, n int) string {
	t.Helper()
	schema := fmt.Sprintf("zs_expect_%d", n)
	v := projections.NewViews(projections.Options{Location: synth.Zone})
	feed(t, v, log, n)
	w := open(t, url, schema, log.Config.End())
	w.Attach(v)
	if err := w.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	return schema
}

// TestIncrementalRankingsEqualARebuild: flushes in steps write the
// rankings a rebuild writes, and no rows for a period after the last day
// anything was counted (the next period's change column is rewritten only
// when that period has rows).
func TestIncrementalRankingsEqualARebuild(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	v := projections.NewViews(projections.Options{Location: synth.Zone})
	w := open(t, url, "zs_read", log.Config.End())
	w.Attach(v)
	for _, n := range []int{700, 1400, 2100, 2800, 3000} {
		feed(t, v, log, n)
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A row names the position it was computed at: a period no later day
	// touched keeps an earlier one. Everything else must be equal.
	cols := strings.Join(slices.DeleteFunc(slices.Clone(rankingCols), func(c string) bool { return c == "position" }), ", ")
	want := dumpOf(t, url, log, 3000)
	for _, pair := range [][2]string{{"zs_read", want}, {want, "zs_read"}} {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT %s FROM %s.rankings EXCEPT ALL SELECT %s FROM %s.rankings) d`,
			cols, quote(pair[0]), cols, quote(pair[1]))
		if err := w.pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("rankings: %d rows of %s are not in %s", n, pair[0], pair[1])
		}
	}
}

// TestSwapYieldsToReaders: a reader transaction that read one view and
// reads another while a rebuild swaps them is never the deadlock's victim:
// the swap waits a short while for each lock, gives up and tries again, so
// the reader finishes and the rebuild still swaps.
func TestSwapYieldsToReaders(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	_, w := flushed(t, url, log, 3000)
	reader, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(ctx)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM zs_read.tolerance_cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Rebuild(ctx) }()
	// Let the rebuild load and reach the swap, which then waits for the
	// view this reader holds; meanwhile the reader asks for another view.
	time.Sleep(1500 * time.Millisecond)
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM zs_read.projects`).Scan(&n); err != nil || n != log.Projects {
		t.Fatalf("the reader's second statement during the swap: %d projects, %v; want %d", n, err, log.Projects)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	var schemas int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname ~ '^zs_read_g[0-9]+$'`).Scan(&schemas); err != nil || schemas != 1 {
		t.Fatalf("%d generation schemas after the rebuild (%v), want 1", schemas, err)
	}
}

// TestCheckpointAheadOfTheLogRebuilds: tables that reflect a longer log
// than the store holds (a store restored from an older backup) would never
// be written again, the views never reaching their checkpoint; once the
// views have caught up, the writer rebuilds them from what the log holds.
func TestCheckpointAheadOfTheLogRebuilds(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	now := log.Config.End()
	_, w1 := flushed(t, url, log, 3000)
	w1.Close()
	// The store restored from a backup of 2,000 events; the views replay it.
	v2 := projections.NewViews(projections.Options{Location: synth.Zone})
	ready := false
	w2, err := Open(ctx, Config{URL: url, Now: func() time.Time { return now }, RefreshInterval: time.Hour, Ready: func() bool { return ready }})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	w2.Attach(v2)
	feed(t, v2, log, 2000)
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var pos string
	if err := w2.pool.QueryRow(ctx, `SELECT position FROM zs_read.checkpoint`).Scan(&pos); err != nil || pos == v2.Position().String() {
		t.Fatalf("before the views caught up the tables moved to %s (%v)", pos, err)
	}
	ready = true
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w2.pool.QueryRow(ctx, `SELECT position FROM zs_read.checkpoint`).Scan(&pos); err != nil || pos != v2.Position().String() {
		t.Fatalf("caught up at %s, the tables reflect %s (%v)", v2.Position(), pos, err)
	}
	sameTables(t, w2.pool, "zs_read", dumpOf(t, url, log, 2000))
}

// flushed is a writer on zs_read over fresh views fed the first n events
// of log, flushed once.
func flushed(t *testing.T, url string, log *synth.Log, n int) (*projections.Views, *Writer) {
	t.Helper()
	v := projections.NewViews(projections.Options{Location: synth.Zone})
	w := open(t, url, "zs_read", log.Config.End())
	w.Attach(v)
	feed(t, v, log, n)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v, w
}

// adminPool is a pool on the test database for the test's own queries.
func adminPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
