package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/internal/pgtest"
	"github.com/zhaoshang/zhaoshang/projections"
)

var demoSummary = regexp.MustCompile(`^demo \(seed (\d+)\): (\d+) units, (\d+) projects \(reported \d+, negotiating \d+, signed \d+, ` +
	`registered \d+, started \d+, producing \d+, terminated \d+\), \d+ transfers, \d+ rejected reports, (\d+) supervision orders, ` +
	`(\d+) tolerance cases; (\d+) commands, (\d+) events in \S+\n$`)

// TestDemo: `zhaoshang demo --seed 2024` (the shared fixture) loads the
// dataset into an empty data directory and says what it holds; the events
// are in the store.
func TestDemo(t *testing.T) {
	data := demoData(t)
	r := demoFixture.run
	m := demoSummary.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("demo summary: %q", r.out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if m[1] != "2024" {
		t.Errorf("seed %s, want --seed 2024", m[1])
	}
	// The nine Jiaxing units of the policy document and the centre.
	if n(2) != 10 {
		t.Errorf("%d units, want 10", n(2))
	}
	if n(3) == 0 || n(4) == 0 || n(5) == 0 || n(6) == 0 {
		t.Errorf("an empty dataset: %s", r.out)
	}
	events := n(7)
	if events == 0 {
		t.Fatalf("no events appended: %s", r.out)
	}
	// Each accepted command also records its idempotency key, so the log
	// holds more than the domain events.
	if got := countEvents(t, data); got < events {
		t.Errorf("the store holds %d events, the demo says it appended %d", got, events)
	}
}

// TestDemoAgain: the demo on a store that holds it appends nothing; another
// seed on the same store is refused, appending nothing.
func TestDemoAgain(t *testing.T) {
	data := demoData(t)
	before := head(t, data)

	// Without --seed: the default seed is the fixture's 2024, or this
	// would be refused as another seed.
	r := mustZS(t, "demo", "--data", data)
	m := demoSummary.FindStringSubmatch(r.out)
	if m == nil || m[7] != "0" {
		t.Errorf("the second demo load: %q, want a summary with 0 events", r.out)
	}
	if after := head(t, data); after != before {
		t.Fatalf("the second demo load moved the head from %s to %s", before, after)
	}

	r = zs(t, "demo", "--data", data, "--seed", "7")
	if r.code != 1 || !strings.Contains(r.errOut, "not empty") || !strings.Contains(r.errOut, "seed 2024") {
		t.Errorf("demo --seed 7 over seed 2024: %s", r)
	}
	if after := head(t, data); after != before {
		t.Fatalf("a refused demo load moved the head from %s to %s", before, after)
	}
}

// TestDemoOnPostgres: the demo loaded into PostgreSQL is the demo loaded
// into the embedded store — the same alerts, late records included —
// because every backend stamps recorded_at with the demo's story clock
// (a store stamping its own time would make every fact of the last two
// years a late record).
func TestDemoOnPostgres(t *testing.T) {
	pg := pgtest.New(t)
	data := demoData(t) // seed 2024, ending at today's midnight
	day := time.Now().In(projections.Shanghai()).Format(time.DateOnly)
	mustZS(t, "demo", "--data", t.TempDir(), "--store", pg, "--seed", "2024")
	if now := time.Now().In(projections.Shanghai()).Format(time.DateOnly); now != day {
		t.Skipf("midnight passed between the two loads (%s, %s): the demos end on different days", day, now)
	}
	alerts := func(store ...string) []string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "alerts.csv")
		args := append([]string{"export", "--data", data, "--format", "csv", "--out", out}, store...)
		mustZS(t, append(args, "supervision/alerts?limit=500")...)
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(string(raw)), "\n")
		slices.Sort(rows[1:])
		return rows
	}
	embedded, onPG := alerts(), alerts("--store", pg)
	if len(embedded) < 2 {
		t.Fatalf("the embedded demo has no alerts: %q", embedded)
	}
	if !slices.Equal(embedded, onPG) {
		t.Errorf("alerts differ: embedded store %d rows, PostgreSQL %d rows\nembedded: %q\npostgres: %q", len(embedded)-1, len(onPG)-1, embedded, onPG)
	}
	late := 0
	for _, row := range onPG[1:] {
		if strings.Contains(row, string(domain.AlertLateRecord)) {
			late++
		}
	}
	if late == 0 || late > (len(onPG)-1)/2 {
		t.Errorf("%d of %d alerts on PostgreSQL are late records: the story clock did not reach the store", late, len(onPG)-1)
	}
}
