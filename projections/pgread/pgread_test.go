package pgread

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/internal/pgtest"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

var tableNames = []string{"projects", "rankings", "alerts", "orders", "rates", "assessments", "tolerance_cases"}

func generated(t *testing.T, n int) *synth.Log {
	t.Helper()
	log, err := synth.Generate(synth.Config{Events: n, Units: 8, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func open(t *testing.T, url, schema string, now time.Time) *Writer {
	t.Helper()
	w, err := Open(context.Background(), Config{URL: url, Schema: schema, Now: func() time.Time { return now }, RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

func feed(t *testing.T, v *projections.Views, log *synth.Log, n int) {
	t.Helper()
	if err := v.Feed(context.Background(), log.Events[:n], 2); err != nil {
		t.Fatal(err)
	}
}

// sameTables compares every table of two read-model schemas row for row.
func sameTables(t *testing.T, pool *pgxpool.Pool, a, b string) {
	t.Helper()
	for _, tbl := range tableNames {
		for _, pair := range [][2]string{{a, b}, {b, a}} {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM %s.%s EXCEPT ALL SELECT * FROM %s.%s) d`, quote(pair[0]), tbl, quote(pair[1]), tbl)
			if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s: %d rows of %s are not in %s", tbl, n, pair[0], pair[1])
			}
		}
	}
}

// A writer stopped mid-way (some batches flushed, later ones applied but
// never flushed) resumes from its checkpoint after a restart: the tables
// then equal a full dump of views rebuilt from the whole log.
func TestRestartResumesFromCheckpoint(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	now := log.Config.End()

	// First run: flush at 40% (the first flush builds the tables), again at
	// 60%, then apply up to 80% and stop without flushing.
	v1 := projections.NewViews(projections.Options{Location: synth.Zone})
	w1 := open(t, url, "zs_read", now)
	w1.Attach(v1)
	feed(t, v1, log, 1200)
	if err := w1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	feed(t, v1, log, 1800)
	if err := w1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkpoint := v1.Position()
	feed(t, v1, log, 2400)
	w1.Close()

	// Restart: fresh views replay the whole log; the writer skips what the
	// tables already hold and writes the rest.
	v2 := projections.NewViews(projections.Options{Location: synth.Zone})
	w2 := open(t, url, "zs_read", now)
	if got := w2.Checkpoint(); got != checkpoint {
		t.Fatalf("checkpoint %s, want %s", got, checkpoint)
	}
	w2.Attach(v2)
	feed(t, v2, log, len(log.Events))
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// The expected tables: a full dump of the same views into another
	// schema.
	w3 := open(t, url, "zs_expect", now)
	w3.Attach(v2)
	if err := w3.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	sameTables(t, w2.pool, "zs_read", "zs_expect")

	// And the tables answer what the views answer.
	var projects int
	if err := w2.pool.QueryRow(ctx, `SELECT count(*) FROM zs_read.projects`).Scan(&projects); err != nil {
		t.Fatal(err)
	}
	if projects != log.Projects {
		t.Errorf("%d projects in the table, %d generated", projects, log.Projects)
	}
	r, err := v2.Ranking(projections.RankingQuery{Period: "2022-Q3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range r.Items[:3] {
		var rank int
		var score float64
		if err := w2.pool.QueryRow(ctx, `SELECT rank, score FROM zs_read.rankings WHERE period = '2022-Q3' AND unit = $1`, string(it.Unit)).Scan(&rank, &score); err != nil {
			t.Fatal(err)
		}
		if rank != it.Rank || score != it.Score {
			t.Errorf("%s: table rank %d score %v, views %d %v", it.Unit, rank, score, it.Rank, it.Score)
		}
	}
	var pos string
	if err := w2.pool.QueryRow(ctx, `SELECT position FROM zs_read.checkpoint`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	if pos != v2.Position().String() {
		t.Errorf("checkpoint %s, views at %s", pos, v2.Position())
	}
	var lists int
	if err := w2.pool.QueryRow(ctx, `SELECT count(*) FROM zs_read.four_lists`).Scan(&lists); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range v2.ListCounts("") {
		want += n
	}
	if lists != want {
		t.Errorf("four_lists has %d rows, the views %d", lists, want)
	}
}

// A reader querying in a loop during rebuilds never sees an empty or
// partial table: the swap to the new generation is one transaction.
func TestRebuildHasNoEmptyWindow(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 3000)
	now := log.Config.End()
	v := projections.NewViews(projections.Options{Location: synth.Zone})
	w := open(t, url, "zs_read", now)
	w.Attach(v)
	feed(t, v, log, len(log.Events))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, tbl := range tableNames {
		var n int
		if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM zs_read.`+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 && tbl != "tolerance_cases" {
			t.Fatalf("%s is empty before the rebuild", tbl)
		}
		counts[tbl] = n
	}
	reader, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				for _, tbl := range tableNames {
					var n int
					if err := reader.QueryRow(ctx, `SELECT count(*) FROM zs_read.`+tbl).Scan(&n); err != nil {
						errs <- err
						return
					}
					if n != counts[tbl] {
						errs <- fmt.Errorf("%s had %d rows during a rebuild, want %d", tbl, n, counts[tbl])
						return
					}
					reads.Add(1)
				}
			}
		}()
	}
	gen := w.gen
	for range 3 {
		if err := w.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if w.gen != gen+3 {
		t.Errorf("generation %d, want %d", w.gen, gen+3)
	}
	var schemas int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'zs\_read\_g%'`).Scan(&schemas); err != nil {
		t.Fatal(err)
	}
	if schemas != 1 {
		t.Errorf("%d generation schemas left, want 1", schemas)
	}
	if reads.Load() == 0 {
		t.Error("the reader never read")
	}
	// A second writer on the same schema is refused.
	if _, err := Open(ctx, Config{URL: url}); err != ErrLocked {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
}
