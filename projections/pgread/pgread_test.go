package pgread

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/internal/pgtest"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// tableNames are the reader views holding rows; the generated ledger of
// these tests flags no correction after a publication and lets no case
// through, so two of them may be empty.
var (
	tableNames = []string{"projects", "project_corrections", "rankings", "alerts", "orders", "order_progress", "rates", "assessments",
		"assessment_current", "assessment_differences", "assessment_corrections", "tolerance_cases"}
	mayBeEmpty = map[string]bool{"assessment_corrections": true, "tolerance_cases": true}
)

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
		if n == 0 && !mayBeEmpty[tbl] {
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

// Tables built from another definition are never written into: Open sees
// that <schema>.meta names another ddl_version or fingerprint, and the first
// flush rebuilds into a new generation and swaps — including from a
// version-1 generation, whose meta has no fingerprint column at all.
func TestChangedDefinitionRebuilds(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	log := generated(t, 1500)
	now := log.Config.End()
	v := projections.NewViews(projections.Options{Location: synth.Zone})
	w := open(t, url, "zs_read", now)
	w.Attach(v)
	feed(t, v, log, len(log.Events))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()

	cases := []struct {
		name        string
		tamper      string // <gen> is the current generation
		wantRebuild bool
	}{
		{"the same definition", ``, false},
		{"an older ddl_version", `UPDATE zs_read.meta SET ddl_version = ddl_version - 1`, true},
		{"an edited definition", `UPDATE zs_read.meta SET ddl_fingerprint = 'edited'`, true},
		// What version 1 left: no fingerprint, projects without the columns
		// added since, no project_corrections.
		{"a version-1 generation", `ALTER TABLE zs_read.meta DROP COLUMN ddl_fingerprint; UPDATE zs_read.meta SET ddl_version = 1;
DROP VIEW zs_read.projects, zs_read.four_lists, zs_read.project_corrections;
ALTER TABLE zs_read_g<gen>.projects DROP COLUMN investor_origin, DROP COLUMN source_channel;
DROP TABLE zs_read_g<gen>.project_corrections;
CREATE VIEW zs_read.projects AS SELECT * FROM zs_read_g<gen>.projects`, true},
	}
	gen := w.gen
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			admin, err := pgxpool.New(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			if tc.tamper != "" {
				if _, err := admin.Exec(ctx, strings.ReplaceAll(tc.tamper, "<gen>", fmt.Sprint(gen))); err != nil {
					t.Fatal(err)
				}
			}
			w := open(t, url, "zs_read", now)
			defer w.Close()
			if got, want := w.Checkpoint(), v.Position(); (got == want) == tc.wantRebuild {
				t.Errorf("checkpoint %s on open (views at %s): the tables should be trusted only when the definition is the same", got, want)
			}
			w.Attach(v)
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.wantRebuild {
				gen++
			}
			var g int64
			var ddl int
			var fp string
			if err := admin.QueryRow(ctx, `SELECT generation, ddl_version, ddl_fingerprint FROM zs_read.meta`).Scan(&g, &ddl, &fp); err != nil {
				t.Fatal(err)
			}
			if g != gen || w.gen != gen || ddl != ddlVersion || fp != ddlFingerprint {
				t.Errorf("meta: generation %d (writer %d), ddl %d %s; want %d, %d %s", g, w.gen, ddl, fp, gen, ddlVersion, ddlFingerprint)
			}
			var schemas, projects int
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'zs\_read\_g%'`).Scan(&schemas); err != nil {
				t.Fatal(err)
			}
			if schemas != 1 {
				t.Errorf("%d generation schemas, want 1", schemas)
			}
			// The reader views have the current definition's columns.
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM zs_read.projects WHERE investor_origin IS NOT NULL AND alerts IS NOT NULL`).Scan(&projects); err != nil {
				t.Fatal(err)
			}
			if projects != log.Projects {
				t.Errorf("%d projects, %d generated", projects, log.Projects)
			}
		})
	}
}

// docs/views.md names every column of every reader view in its table of
// read-model views (four_lists, "every column of projects", aside).
func TestDocsNameEveryColumn(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	w := open(t, url, "zs_read", time.Now())
	w.Attach(projections.NewViews(projections.Options{Location: synth.Zone}))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/views.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## PostgreSQL read-model tables")
	if !ok {
		t.Fatal("docs/views.md has no read-model section")
	}
	rowOf := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "` |"); ok && strings.HasPrefix(line, "| `") {
			rowOf[name] = line
		}
	}
	for _, rv := range readerViews {
		row, ok := rowOf[rv.name]
		if !ok {
			t.Errorf("docs/views.md does not describe %s", rv.name)
			continue
		}
		if rv.name == "four_lists" {
			continue
		}
		rows, err := w.pool.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'zs_read' AND table_name = $1`, rv.name)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var col string
			if err := rows.Scan(&col); err != nil {
				t.Fatal(err)
			}
			n++
			if !strings.Contains(row, "`"+col+"`") {
				t.Errorf("docs/views.md does not name %s.%s", rv.name, col)
			}
		}
		rows.Close()
		if n == 0 {
			t.Errorf("reader view %s has no columns", rv.name)
		}
	}
}
