package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// testWiring composes the system as cmd/zhaoshang does, for the tests (the
// binary passes its own composition).
func testWiring(logger *slog.Logger) Wiring {
	loc := synth.Zone
	return Wiring{
		Commands: func(s eventstore.Store) (*commands.App, error) {
			return commands.New(commands.Deps{Store: s, Clock: time.Now, Location: loc})
		},
		Views: func(ctx context.Context, s eventstore.Store) (*projections.Runner, context.CancelFunc, error) {
			r, err := projections.NewRunner(projections.Config{Store: s, Options: projections.Options{Location: loc}})
			if err != nil {
				return nil, nil, err
			}
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			ready := make(chan error, 1)
			go func() { ready <- r.WaitReady(ctx) }()
			var once sync.Once
			stop := func() { once.Do(func() { cancel(); <-done }) }
			select {
			case err := <-ready:
				if err != nil {
					stop()
					return nil, nil, err
				}
				return r, stop, nil
			case err := <-done:
				cancel()
				if err == nil {
					err = errors.New("the runner stopped before it was ready")
				}
				return nil, nil, err
			}
		},
		Server: func(s eventstore.Store, app *commands.App, r *projections.Runner, secret []byte) (*api.Server, error) {
			srv, err := api.New(api.Config{Logger: logger, Secret: secret, Location: loc,
				Positioner: r, Readiness: r, Head: s})
			if err != nil {
				return nil, err
			}
			return srv, api.Mount(srv, api.Deps{Commands: app, Views: r.Views(), Past: r, Log: s})
		},
	}
}

// tlog sends progress lines to the test log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tinyConfig(t *testing.T, path string) Config {
	return Config{
		Open:        func(context.Context) (eventstore.Store, error) { return bolt.Open(path) },
		Store:       "bolt:" + path,
		Wiring:      testWiring(NewLogger(tlog{t})),
		Events:      2000,
		Duration:    200 * time.Millisecond,
		Rounds:      2,
		Concurrency: 4,
		ColdStarts:  2,
		Progress:    tlog{t},
	}
}

// TestRunTiny runs the whole bench at a tiny size and checks that the
// report is complete and consistent. It asserts nothing about speed.
func TestRunTiny(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	rep, err := Run(context.Background(), tinyConfig(t, path))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	want := map[string][]string{
		PhaseWrite: {FigureAppend, FigureFundsInProc, FigureReportInProc, FigureFundsHTTP, FigureReportHTTP},
		PhaseRead: {FigureHealthz, "GET /api/v1/projects?limit=50", "GET /api/v1/rankings?period=2024&kind=county",
			"GET /api/v1/supervision/alerts", "GET /api/v1/assessments/2024"},
		PhaseRebuild: {FigureDecodeOnly, FigureRebuild, FigureScan, FigureColdStart},
	}
	baselines := map[string]string{
		FigureFundsInProc: FigureAppend, FigureReportInProc: FigureAppend,
		FigureFundsHTTP: FigureFundsInProc, FigureReportHTTP: FigureReportInProc,
		FigureRebuild: FigureDecodeOnly, FigureColdStart: FigureScan,
	}
	for _, name := range want[PhaseRead][1:] {
		baselines[name] = FigureHealthz
	}
	var order []string
	for _, ph := range []string{PhaseWrite, PhaseRead, PhaseRebuild} {
		order = append(order, want[ph]...)
	}
	if len(rep.Figures) != len(order) {
		t.Fatalf("%d figures, want %d: %+v", len(rep.Figures), len(order), rep.Figures)
	}
	for i, f := range rep.Figures {
		if f.Name != order[i] {
			t.Errorf("figure %d is %q, want %q", i, f.Name, order[i])
		}
		if !contains(want[f.Phase], f.Name) {
			t.Errorf("%s: phase %q", f.Name, f.Phase)
		}
		if !(f.Value > 0 && f.Ops > 0 && f.Seconds > 0 && f.P50Ms > 0 && f.P99Ms >= f.P50Ms) {
			t.Errorf("%s: a value is not positive or p99 < p50: %+v", f.Name, f)
		}
		switch f.Unit {
		case UnitSeconds:
			if f.Value != f.Seconds {
				t.Errorf("%s: value %v, seconds %v", f.Name, f.Value, f.Seconds)
			}
		case UnitOpsPerSec, UnitReqPerSec, UnitEventsPerSec:
			if !near(f.Value, f.Throughput()) {
				t.Errorf("%s: value %v is not ops/seconds %v", f.Name, f.Value, f.Throughput())
			}
		default:
			t.Errorf("%s: unit %q", f.Name, f.Unit)
		}
		if f.Note == "" {
			t.Errorf("%s: no note", f.Name)
		}
		// Every ratio is computed from figures of this report.
		if f.Baseline != baselines[f.Name] {
			t.Errorf("%s: baseline %q, want %q", f.Name, f.Baseline, baselines[f.Name])
			continue
		}
		if f.Baseline == "" {
			if f.Ratio != 0 {
				t.Errorf("%s: a baseline with ratio %v", f.Name, f.Ratio)
			}
			continue
		}
		base, ok := rep.Figure(f.Baseline)
		if !ok || base.Phase != f.Phase {
			t.Errorf("%s: baseline %q missing or in another phase", f.Name, f.Baseline)
			continue
		}
		if !(f.Ratio > 0) || !near(f.Ratio, f.Throughput()/base.Throughput()) {
			t.Errorf("%s: ratio %v, want %v ÷ %v", f.Name, f.Ratio, f.Throughput(), base.Throughput())
		}
	}
	// Equal work on both sides of the rebuild ratios.
	for _, pair := range [][2]string{{FigureRebuild, FigureDecodeOnly}, {FigureColdStart, FigureScan}} {
		a, _ := rep.Figure(pair[0])
		b, _ := rep.Figure(pair[1])
		if a.Ops%2000 != 0 || b.Ops%2000 != 0 {
			t.Errorf("%s (%d events) or %s (%d events) is not whole passes over the log", a.Name, a.Ops, b.Name, b.Ops)
		}
	}
	cold, _ := rep.Figure(FigureColdStart)
	if cold.Ops != 2000 {
		t.Errorf("cold start replayed %d events, want 2000", cold.Ops)
	}

	if rep.Machine.GOMAXPROCS < 1 || rep.Machine.GoVersion == "" || rep.Machine.OS == "" {
		t.Errorf("machine: %+v", rep.Machine)
	}
	l := rep.Log
	if l.Events != 2000 || l.Projects < 1 || l.Streams < l.Projects || l.Units < 1 || l.Appends < 1 || l.Year != 2024 {
		t.Errorf("log: %+v", l)
	}
	if rep.Settings.Events != 2000 || rep.Settings.Concurrency != 4 || rep.Settings.Rounds != 2 || rep.Settings.MaxOps != DefaultMaxOps {
		t.Errorf("settings: %+v", rep.Settings)
	}
	if rep.Seconds <= 0 || rep.Started.IsZero() {
		t.Errorf("run: started %v, %v s", rep.Started, rep.Seconds)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(order, "machine", "load avg", "ratio") {
		if !strings.Contains(text.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, text.String())
		}
	}
	t.Logf("\n%s", text.String())

	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Figures) != len(rep.Figures) || back.Figures[3] != rep.Figures[3] {
		t.Errorf("JSON round trip: %+v", back.Figures)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// TestRunRefusesAStoreWithEvents: the bench writes thousands of events; it
// must never do so into a store someone uses.
func TestRunRefusesAStoreWithEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ev := eventstore.NewEvent{ID: [16]byte{1}, Type: "Something", Data: []byte(`{}`), OccurredAt: time.Now()}
	if _, err := s.Append(context.Background(), "other-1", eventstore.NoStream(), []eventstore.NewEvent{ev}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t, path)
	rep, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "empty store") {
		t.Fatalf("Run on a store with events: %v", err)
	}
	if rep != nil && len(rep.Figures) > 0 {
		t.Errorf("measured before refusing: %+v", rep.Figures)
	}
	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if head, err := s.Head(context.Background()); err != nil || head.Commit != 1 {
		t.Errorf("the store was written to: head %v, %v", head, err)
	}
}

// TestFill: the log written into a store keeps every stream's events, in
// order, with their versions and ids, whatever the window.
func TestFill(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	appends, err := fill(ctx, s, log.Events, 8, 500)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(log.Events) {
		t.Fatalf("%d events in the store, want %d", len(got), len(log.Events))
	}
	type key struct {
		stream  string
		version uint64
	}
	want := map[key]eventstore.Event{}
	streams := map[string]bool{}
	for _, e := range log.Events {
		want[key{e.Stream, e.Version}] = e
		streams[e.Stream] = true
	}
	for _, e := range got {
		w, ok := want[key{e.Stream, e.Version}]
		if !ok || w.ID != e.ID || w.Type != e.Type || !bytes.Equal(w.Data, e.Data) {
			t.Fatalf("%s v%d: got %s %s, want %s %s", e.Stream, e.Version, e.ID, e.Type, w.ID, w.Type)
		}
	}
	if appends < len(streams) || appends > len(log.Events) {
		t.Errorf("%d appends for %d streams and %d events", appends, len(streams), len(log.Events))
	}
}

func TestMemLog(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 1000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	m := memLog{evs: log.Events}
	ctx := context.Background()
	var n int
	after := eventstore.Start
	for {
		evs, err := m.ReadAll(ctx, after, 300)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		if evs[0].Position.Compare(after) <= 0 {
			t.Fatalf("ReadAll after %s starts at %s", after, evs[0].Position)
		}
		n += len(evs)
		after = evs[len(evs)-1].Position
	}
	if head, _ := m.Head(ctx); n != len(log.Events) || head != after {
		t.Fatalf("read %d events to %s, want %d to %s", n, after, len(log.Events), head)
	}
	st := log.Events[len(log.Events)-1].Stream
	fw, err := m.ReadStream(ctx, st, 1, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	bw, err := m.ReadStream(ctx, st, eventstore.End, eventstore.Backwards, 1)
	if err != nil || len(bw) != 1 || bw[0].Version != fw[len(fw)-1].Version {
		t.Fatalf("backwards read of %s: %v %v", st, bw, err)
	}
	if _, err := m.ReadStream(ctx, "nothing-here", 1, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	if _, err := m.Append(ctx, st, eventstore.Any(), nil); !errors.Is(err, errReadOnly) {
		t.Fatalf("append: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	var tl tally
	for i := 1; i <= 100; i++ {
		tl.lat = append(tl.lat, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := tl.percentile(c.p); got != c.want {
			t.Errorf("p%v = %s, want %s", c.p*100, got, c.want)
		}
	}
	one := tally{lat: []time.Duration{time.Second}}
	if one.percentile(0.5) != time.Second || one.percentile(0.99) != time.Second {
		t.Error("one sample is every percentile")
	}
}

func TestParseLoadAvg(t *testing.T) {
	l := parseLoadAvg("15.01 10.26 9.16 7/181 27316\n")
	if !l.Known || l.One != 15.01 || l.Five != 10.26 || l.Fifteen != 9.16 {
		t.Errorf("%+v", l)
	}
	if parseLoadAvg("").Known || parseLoadAvg("a b c").Known {
		t.Error("garbage parsed as a load average")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Open: func(context.Context) (eventstore.Store, error) { return nil, nil }, Wiring: testWiring(slog.New(slog.DiscardHandler))}.withDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no Open":         func(c *Config) { c.Open = nil },
		"no wiring":       func(c *Config) { c.Wiring.Server = nil },
		"tiny log":        func(c *Config) { c.Events = 10 },
		"no concurrency":  func(c *Config) { c.Concurrency = -1 },
		"rounds too thin": func(c *Config) { c.Duration = time.Microsecond },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestNewLogger: the request log is formatted but not printed; warnings
// and errors are printed.
func TestNewLogger(t *testing.T) {
	var out bytes.Buffer
	l := NewLogger(&out).With("component", "api")
	if !l.Enabled(context.Background(), slog.LevelInfo) || l.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("want info and above enabled (formatted), debug not")
	}
	l.Info("request", "status", 200)
	if out.Len() != 0 {
		t.Fatalf("an info record was printed: %s", out.String())
	}
	l.Warn("slow", "ms", 900)
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["msg"] != "slow" || rec["component"] != "api" {
		t.Fatalf("warning printed as %q (%v)", out.String(), err)
	}
}

// TestLoadRun: turns are bounded in count, every operation is counted and
// timed, the views settle after every turn, and a failure stops the run.
func TestLoadRun(t *testing.T) {
	ctx := context.Background()
	var settles, fast, slow atomic.Int64
	l := load{duration: 40 * time.Millisecond, rounds: 4, workers: 3, maxOps: 20,
		settle: func(context.Context) error { settles.Add(1); return nil }}
	cs := []*contender{
		{name: "fast", op: func(context.Context, int, int64) error { fast.Add(1); return nil }},
		{name: "slow", op: func(context.Context, int, int64) error { slow.Add(1); time.Sleep(time.Millisecond); return nil }},
	}
	ts, err := l.run(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if n := ts[0].ops; n < 12 || n > 20 {
		t.Errorf("fast: %d operations, want 3 to 5 a round (maxOps 20 over 4 rounds, 3 workers)", n)
	}
	for i, c := range []*atomic.Int64{&fast, &slow} {
		if got, want := c.Load(), ts[i].ops+3; got != want {
			t.Errorf("%s: %d operations run, %d counted + 3 of warm-up", cs[i].name, got, ts[i].ops)
		}
		if int64(len(ts[i].lat)) != ts[i].ops || ts[i].elapsed <= 0 || !slices.IsSorted(ts[i].lat) {
			t.Errorf("%s: %d latencies for %d operations in %s", cs[i].name, len(ts[i].lat), ts[i].ops, ts[i].elapsed)
		}
	}
	if got := settles.Load(); got != 1+4*2 {
		t.Errorf("settled %d times, want after the warm-up and every turn (9)", got)
	}

	boom := errors.New("boom")
	failing := []*contender{{name: "failing", op: func(_ context.Context, _ int, i int64) error {
		if i == 10 {
			return boom
		}
		return nil
	}}}
	if _, err := (load{duration: time.Second, rounds: 2, workers: 2, maxOps: 1000}).run(ctx, failing); !errors.Is(err, boom) || !strings.Contains(err.Error(), "failing") {
		t.Errorf("a failing operation: %v", err)
	}
}
