package main

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/zhaoshang/zhaoshang/internal/pgtest"
)

var (
	rebuiltLine = regexp.MustCompile(`(?m)^views rebuilt from (\d+) events through position (\S+) in `)
	viewLine    = regexp.MustCompile(`(?m)^view (\S+) +events (\d+) state ([0-9a-f]{64})$`)
	swappedLine = regexp.MustCompile(`(?m)^read-model tables rebuilt and swapped in at position (\S+) in `)
)

// rebuilt checks rebuild's report against dir's log and returns each view's
// state digest.
func rebuilt(t *testing.T, r result, dir string) map[string]string {
	t.Helper()
	m := rebuiltLine.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("rebuild report: %s", r)
	}
	n, _ := strconv.Atoi(m[1])
	if want := countEvents(t, dir); n != want {
		t.Errorf("rebuilt from %d events, the log holds %d", n, want)
	}
	if want := head(t, dir).String(); m[2] != want {
		t.Errorf("rebuilt through %s, the head is %s", m[2], want)
	}
	states := map[string]string{}
	for _, v := range viewLine.FindAllStringSubmatch(r.out, -1) {
		if v[2] != m[1] {
			t.Errorf("view %s applied %s events, want %s", v[1], v[2], m[1])
		}
		states[v[1]] = v[3]
	}
	for _, want := range []string{"projects", "ranking", "supervision", "assessment", "tolerance"} {
		if states[want] == "" {
			t.Errorf("no line for view %s:\n%s", want, r.out)
		}
	}
	return states
}

// TestRebuild: the views are rebuilt from every event of the log.
func TestRebuild(t *testing.T) {
	data := demoData(t)
	rebuilt(t, mustZS(t, "rebuild", "--data", data), data)
}

// TestRebuildReadModel: --readmodel fills a fresh generation of the
// PostgreSQL tables and swaps the readers' views to it; a second rebuild
// does it again and drops the old generation.
func TestRebuildReadModel(t *testing.T) {
	pg := pgtest.New(t)
	data := demoData(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	type state struct {
		gen                      int64
		position                 string
		events, projects, lists  int64
		rankings, generationsNow int64
	}
	read := func() state {
		t.Helper()
		var s state
		q := `SELECT (SELECT generation FROM zs_read.meta),
	(SELECT position FROM zs_read.checkpoint), (SELECT events FROM zs_read.checkpoint),
	(SELECT count(*) FROM zs_read.projects), (SELECT count(*) FROM zs_read.four_lists),
	(SELECT count(*) FROM zs_read.rankings),
	(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'zs\_read\_g%')`
		if err := conn.QueryRow(ctx, q).Scan(&s.gen, &s.position, &s.events, &s.projects, &s.lists, &s.rankings, &s.generationsNow); err != nil {
			t.Fatal(err)
		}
		return s
	}
	pos := head(t, data).String()
	events := int64(countEvents(t, data))

	var (
		states  []state
		digests []map[string]string
	)
	for i := range 2 {
		r := mustZS(t, "rebuild", "--data", data, "--readmodel", pg)
		views := rebuilt(t, r, data)
		if m := swappedLine.FindStringSubmatch(r.out); m == nil || m[1] != pos {
			t.Fatalf("rebuild %d: no swap at %s: %s", i+1, pos, r)
		}
		s := read()
		if s.gen != int64(i+1) || s.position != pos || s.events != events || s.projects == 0 || s.lists == 0 || s.rankings == 0 ||
			s.generationsNow != 1 {
			t.Fatalf("rebuild %d: read model %+v; want generation %d at %s after %d events, rows, one generation kept",
				i+1, s, i+1, pos, events)
		}
		states = append(states, s)
		digests = append(digests, views)
	}
	a, b := states[0], states[1]
	if a.projects != b.projects || a.lists != b.lists || a.rankings != b.rankings {
		t.Errorf("the two rebuilds of the same log differ: %+v, %+v", a, b)
	}
	// Replaying the same log gives the same views.
	for v, d := range digests[0] {
		if digests[1][v] != d {
			t.Errorf("view %s: state %s, then %s", v, d, digests[1][v])
		}
	}
}
