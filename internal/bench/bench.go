package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// Wiring is how the binary composes zhaoshang over a store. The bench takes
// it from its caller, so that it measures the composition the binary
// serves rather than a copy of it.
type Wiring struct {
	// Commands builds the write side over s.
	Commands func(s eventstore.Store) (*commands.App, error)
	// Views replays s's log into fresh views and returns their runner once
	// it is ready, still following the log until stop is called.
	Views func(ctx context.Context, s eventstore.Store) (r *projections.Runner, stop context.CancelFunc, err error)
	// Server builds the API over the store, the commands and the views,
	// verifying bearer tokens signed with secret. The bench serves it on
	// 127.0.0.1 at a port of the system's choosing.
	Server func(s eventstore.Store, app *commands.App, r *projections.Runner, secret []byte) (*api.Server, error)
}

// Config configures Run. Zero fields take the defaults below.
type Config struct {
	// Open opens the store under test. It is called several times: the
	// cold start closes the store and opens it again. The store must be
	// empty when the run starts (the bench writes a generated log and
	// benchmark events into it). Required.
	Open func(ctx context.Context) (eventstore.Store, error)
	// Store describes the store for the report (its kind and a URL
	// without a password).
	Store string
	// Wiring composes the system under test. Required.
	Wiring Wiring
	// Events is the size of the generated log the read path and the
	// rebuild are measured on (default 200,000).
	Events int
	// Duration is how long each write and read figure is measured, and
	// how long the in-memory rebuild passes repeat (at least three pairs
	// of passes; default 5 s).
	Duration time.Duration
	// Rounds splits each figure's Duration into turns taken in
	// alternation with the figures it is compared with (default 5).
	Rounds int
	// Concurrency is the number of callers of the write path and of
	// clients of the read path (default 64).
	Concurrency int
	// MaxOps bounds the operations of each write and read figure
	// (default 200,000), whatever the duration.
	MaxOps int64
	// ColdStarts is how many times the store is opened and replayed into
	// fresh views (default 3; the median is reported).
	ColdStarts int
	// Seed selects the generated log (default 1).
	Seed uint64
	// Progress, when set, receives a line as each step starts.
	Progress io.Writer
}

// Defaults of Config.
const (
	DefaultEvents      = 200_000
	DefaultDuration    = 5 * time.Second
	DefaultRounds      = 5
	DefaultConcurrency = 64
	DefaultMaxOps      = 200_000
	DefaultColdStarts  = 3
)

func (c Config) withDefaults() Config {
	if c.Events == 0 {
		c.Events = DefaultEvents
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxOps == 0 {
		c.MaxOps = DefaultMaxOps
	}
	if c.ColdStarts == 0 {
		c.ColdStarts = DefaultColdStarts
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// Validate reports what is missing or out of range, after defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Open == nil {
		errs = append(errs, errors.New("Open is required"))
	}
	if c.Wiring.Commands == nil || c.Wiring.Views == nil || c.Wiring.Server == nil {
		errs = append(errs, errors.New("Wiring needs Commands, Views and Server"))
	}
	if c.Events < 1000 {
		errs = append(errs, fmt.Errorf("Events is %d; at least 1000 gives a log with projects in it", c.Events))
	}
	if c.Rounds < 1 || c.Concurrency < 1 || c.MaxOps < 1 || c.ColdStarts < 1 {
		errs = append(errs, errors.New("Rounds, Concurrency, MaxOps and ColdStarts must be positive"))
	}
	if c.Rounds >= 1 && c.Duration/time.Duration(c.Rounds) < time.Millisecond {
		errs = append(errs, fmt.Errorf("Duration %s split in %d rounds leaves less than 1ms a round", c.Duration, c.Rounds))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: config: %w", err)
	}
	return nil
}

// Names of the rebuild figures.
const (
	FigureDecodeOnly = "decode only, in memory"
	FigureRebuild    = "replay into all views, in memory"
	FigureScan       = "open + read the log"
	FigureColdStart  = "cold start: open + replay to ready"
)

// run is one bench run in progress.
type run struct {
	cfg     Config
	rep     *Report
	started time.Time
	log     *synth.Log
	figs    map[string][]Figure // by phase
}

// Run measures the figures on this machine and returns the report. On an
// error it returns what it measured so far with the error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &run{cfg: cfg, started: time.Now(), figs: map[string][]Figure{}}
	b.rep = &Report{
		Started:   b.started,
		Machine:   thisMachine(),
		LoadStart: loadAvg(),
		Store:     cfg.Store,
		Settings: Settings{Events: cfg.Events, Duration: cfg.Duration.Seconds(), Rounds: cfg.Rounds, Concurrency: cfg.Concurrency,
			MaxOps: cfg.MaxOps, ColdStarts: cfg.ColdStarts, Seed: cfg.Seed},
	}
	err := b.all(ctx)
	for _, ph := range []string{PhaseWrite, PhaseRead, PhaseRebuild} {
		b.rep.Figures = append(b.rep.Figures, b.figs[ph]...)
	}
	b.rep.LoadEnd = loadAvg()
	b.rep.Seconds = time.Since(b.started).Seconds()
	return b.rep, err
}

func (b *run) progress(format string, args ...any) {
	if b.cfg.Progress == nil {
		return
	}
	fmt.Fprintf(b.cfg.Progress, "bench [%5.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *run) load() load {
	return load{duration: b.cfg.Duration, rounds: b.cfg.Rounds, workers: b.cfg.Concurrency, maxOps: b.cfg.MaxOps}
}

// all runs the steps in the order that lets each reuse the last one's
// state: the generated log is rebuilt in memory, then written into the
// store; the cold start's views then serve the read path, and the same
// server the write path.
func (b *run) all(ctx context.Context) (err error) {
	if err := b.checkEmpty(ctx); err != nil {
		return err
	}
	if err := b.generate(); err != nil {
		return err
	}
	if err := b.rebuild(ctx); err != nil {
		return err
	}
	if err := b.write(ctx); err != nil {
		return err
	}
	s, runner, stop, err := b.coldStarts(ctx)
	if err != nil {
		return err
	}
	defer func() {
		stop()
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the store: %w", cerr)
		}
	}()
	return b.serve(ctx, s, runner)
}

func (b *run) generate() error {
	b.progress("generating a log of %d events", b.cfg.Events)
	t0 := time.Now()
	log, err := synth.Generate(synth.Config{Events: b.cfg.Events, Seed: b.cfg.Seed})
	if err != nil {
		return fmt.Errorf("generating the log: %w", err)
	}
	streams := map[string]struct{}{}
	for i := range log.Events {
		streams[log.Events[i].Stream] = struct{}{}
	}
	b.log = log
	b.rep.Log = LogInfo{Events: len(log.Events), Projects: log.Projects, Streams: len(streams), Units: len(log.Units),
		Year: log.Config.End().Year() - 1, GenerateSeconds: time.Since(t0).Seconds()}
	return nil
}

func (b *run) rebuild(ctx context.Context) error {
	b.progress("rebuild in memory, alternating with decode-only passes, for %s", b.cfg.Duration)
	decode, rebuild, err := rebuildInMemory(ctx, b.log, b.cfg.Duration)
	if err != nil {
		return err
	}
	base := figure(PhaseRebuild, FigureDecodeOnly, UnitEventsPerSec, &decode, nil,
		"every event's data decoded on every core by the runner's pipeline (projections.Replay), nothing applied")
	b.figs[PhaseRebuild] = append(b.figs[PhaseRebuild], base,
		figure(PhaseRebuild, FigureRebuild, UnitEventsPerSec, &rebuild, &base,
			"the same pipeline applying every event to every view, in log order"))
	return nil
}

// checkEmpty refuses a store that holds events, before anything is
// spent: the bench writes hundreds of thousands of events of its own, so
// it must never run against a store someone uses.
func (b *run) checkEmpty(ctx context.Context) error {
	s, err := b.cfg.Open(ctx)
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	head, err := s.Head(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reading the store's head: %w", err)
	}
	if !head.IsZero() {
		return fmt.Errorf("the store already holds events (head %s): the bench writes into an empty store only", head)
	}
	return nil
}

// write writes the generated log into the store.
func (b *run) write(ctx context.Context) error {
	s, err := b.cfg.Open(ctx)
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	b.progress("writing the log into the store")
	t0 := time.Now()
	appends, err := fill(ctx, s, b.log.Events, b.cfg.Concurrency, fillWindow)
	if err != nil {
		s.Close()
		return fmt.Errorf("writing the log into the store: %w", err)
	}
	b.rep.Log.WriteSeconds, b.rep.Log.Appends = time.Since(t0).Seconds(), appends
	// From here on the log lives in the store alone, as it does for a
	// server: holding it in memory too would make every collection of the
	// phases that follow scan it.
	b.log.Events = nil
	return s.Close()
}

// fillWindow is how many events of the log are written at a time: large
// enough that a window's streams go in few appends that share commits
// (200,000 events take about 32,000 appends, against 120,000 with windows
// of 4096 — minutes on PostgreSQL), small enough that the store's order
// stays the generated one to within a sixth of the history.
const fillWindow = 32768

// coldStarts opens the store and reads its log (the floor), then opens it
// again and replays it into fresh views until they are ready, ColdStarts
// times, alternately. It returns the last cold start's store and views,
// still following the log.
func (b *run) coldStarts(ctx context.Context) (eventstore.Store, *projections.Runner, context.CancelFunc, error) {
	var scanT, coldT tally
	n := int64(b.rep.Log.Events)
	for k := range b.cfg.ColdStarts {
		b.progress("cold start %d/%d", k+1, b.cfg.ColdStarts)
		// Each run starts from a collected heap, so none pays for the
		// garbage of the one before.
		runtime.GC()
		t0 := time.Now()
		read, s, err := scan(ctx, b.cfg.Open)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the store's log: %w", err)
		}
		took := time.Since(t0)
		if err := s.Close(); err != nil {
			return nil, nil, nil, err
		}
		if read != n {
			return nil, nil, nil, fmt.Errorf("the store's log holds %d events, %d were written", read, n)
		}
		scanT.add(n, took)

		runtime.GC()
		t0 = time.Now()
		s, err = b.cfg.Open(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("opening the store: %w", err)
		}
		runner, stop, err := b.cfg.Wiring.Views(ctx, s)
		if err != nil {
			s.Close()
			return nil, nil, nil, fmt.Errorf("replaying the store's log: %w", err)
		}
		took = time.Since(t0)
		if got := runner.Events(); got != uint64(n) {
			stop()
			s.Close()
			return nil, nil, nil, fmt.Errorf("the views were ready after %d events of %d", got, n)
		}
		coldT.add(n, took)
		if k == b.cfg.ColdStarts-1 {
			b.coldFigures(&scanT, &coldT)
			return s, runner, stop, nil
		}
		stop()
		if err := s.Close(); err != nil {
			return nil, nil, nil, err
		}
	}
	panic("unreachable: ColdStarts is positive")
}

func (t *tally) add(ops int64, d time.Duration) {
	t.ops += ops
	t.elapsed += d
	t.lat = append(t.lat, d)
}

// coldFigures reports the median run of each: a cold start is one long
// operation, and the median shrugs off the one a neighbour disturbed.
func (b *run) coldFigures(scanT, coldT *tally) {
	median := func(t *tally) Figure {
		slices.Sort(t.lat)
		med := t.percentile(0.5)
		return Figure{Phase: PhaseRebuild, Unit: UnitSeconds, Value: med.Seconds(), Ops: int64(b.rep.Log.Events),
			Seconds: med.Seconds(), P50Ms: ms(med), P99Ms: ms(t.percentile(0.99))}
	}
	base := median(scanT)
	base.Name = FigureScan
	base.Note = "open the store and read its whole log, decoding nothing: the store's floor"
	cold := median(coldT)
	cold.Name = FigureColdStart
	cold.Note = "open the store and replay its log into fresh views until ready, as serve, rebuild and export start"
	compare(&cold, base)
	b.figs[PhaseRebuild] = append(b.figs[PhaseRebuild], base, cold)
}

// serve serves the API over the cold start's views and measures the read
// path, then the write path.
func (b *run) serve(ctx context.Context, s eventstore.Store, runner *projections.Runner) error {
	app, err := b.cfg.Wiring.Commands(s)
	if err != nil {
		return err
	}
	// A key of this run alone: its tokens are good for nothing else.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	srv, err := b.cfg.Wiring.Server(s, app, runner, secret)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srvCtx, stopServer := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	c := newClient("http://"+ln.Addr().String(), b.cfg.Concurrency)
	err = b.readPath(ctx, c, secret)
	if err == nil {
		err = b.writePath(ctx, s, runner, app, c, secret)
	}
	c.close()
	stopServer()
	if serr := <-served; serr != nil && err == nil {
		err = fmt.Errorf("serving: %w", serr)
	}
	return err
}

func (b *run) readPath(ctx context.Context, c *client, secret []byte) error {
	tok, err := api.MintToken(secret, "bench-leader", api.RoleLeader, "", 24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	cs := readContenders(c, tok, b.rep.Log.Year)
	l := b.load()
	l.progress = func(format string, args ...any) { b.progress("read path: "+format, args...) }
	ts, err := l.run(ctx, cs)
	if err != nil {
		return fmt.Errorf("read path: %w", err)
	}
	base := figure(PhaseRead, cs[0].name, UnitReqPerSec, &ts[0], nil, "no token, no views: the HTTP floor")
	b.figs[PhaseRead] = append(b.figs[PhaseRead], base)
	for i := 1; i < len(cs); i++ {
		b.figs[PhaseRead] = append(b.figs[PhaseRead], figure(PhaseRead, cs[i].name, UnitReqPerSec, &ts[i], &base,
			"a leader's bearer token, answered from the views as JSON"))
	}
	return nil
}

func (b *run) writePath(ctx context.Context, s eventstore.Store, runner *projections.Runner, app *commands.App, c *client, secret []byte) error {
	var unit domain.UnitCode
	for _, u := range b.log.Units {
		if u.Kind == domain.UnitCounty {
			unit = u.Code
			break
		}
	}
	if unit == "" {
		return errors.New("write path: the generated log registers no county")
	}
	ws, err := newWriteSide(s, app, c, b.cfg.Concurrency, unit, secret)
	if err != nil {
		return err
	}
	b.progress("write path: reporting and signing %d projects to record funds on", b.cfg.Concurrency*projectsPerWorker)
	if err := ws.setup(ctx); err != nil {
		return fmt.Errorf("write path: %w", err)
	}
	l := b.load()
	l.progress = func(format string, args ...any) { b.progress("write path: "+format, args...) }
	l.settle = func(ctx context.Context) error {
		head, err := s.Head(ctx)
		if err != nil {
			return err
		}
		return runner.WaitFor(ctx, head)
	}
	cs := ws.contenders()
	ts, err := l.run(ctx, cs)
	if err != nil {
		return fmt.Errorf("write path: %w", err)
	}
	const overHTTP = "the same command as a JSON request with a bearer token over a kept-alive loopback connection (the client's cost included)"
	bare := figure(PhaseWrite, FigureAppend, UnitOpsPerSec, &ts[0], nil,
		"one event of a RecordFunds's size appended to the caller's own stream, no expected version: the store's floor")
	funds := figure(PhaseWrite, FigureFundsInProc, UnitOpsPerSec, &ts[1], &bare,
		"authorise, load the project (cached), decide, append one event with the expected version")
	report := figure(PhaseWrite, FigureReportInProc, UnitOpsPerSec, &ts[2], &bare,
		"a major report of a new investor: read its claim stream, decide 首报首谈, append the claim and the project (two appends)")
	b.figs[PhaseWrite] = append(b.figs[PhaseWrite], bare, funds, report,
		figure(PhaseWrite, FigureFundsHTTP, UnitOpsPerSec, &ts[3], &funds, overHTTP),
		figure(PhaseWrite, FigureReportHTTP, UnitOpsPerSec, &ts[4], &report, overHTTP))
	return nil
}

// figure turns a tally into a figure, compared with base when it is not
// itself a baseline.
func figure(phase, name, unit string, t *tally, base *Figure, note string) Figure {
	f := Figure{Phase: phase, Name: name, Unit: unit, Ops: t.ops, Seconds: t.elapsed.Seconds(),
		P50Ms: ms(t.percentile(0.5)), P99Ms: ms(t.percentile(0.99)), Note: note}
	f.Value = f.Throughput()
	if base != nil {
		compare(&f, *base)
	}
	return f
}

func compare(f *Figure, base Figure) {
	f.Baseline = base.Name
	if bt := base.Throughput(); bt > 0 {
		f.Ratio = f.Throughput() / bt
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
