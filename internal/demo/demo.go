package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Options configures Load. The zero value loads seed 0 ending now, in
// Asia/Shanghai, over two years.
type Options struct {
	// Seed selects the dataset: the same seed, Now and Location give the
	// same commands, ids and events.
	Seed int64
	// Now is the end of the dataset: nothing is dated or recorded after it.
	// Zero means time.Now(). It is truncated to the second.
	Now time.Time
	// Location is the server's configured zone: civil dates (a signing
	// date, a deadline) are days in it. Nil means Asia/Shanghai.
	Location *time.Location
	// Years is how many years the dataset covers, ending at Now; the last
	// Years calendar years get targets and every one of them that has ended
	// is assessed and published. Zero means 2.
	Years int
	// Clock, when set, is driven through the simulation while Load runs.
	// Pass the same clock to the store (backend.WithClock(clock.Now)) so
	// its recorded_at follows the simulation. Nil: Load keeps its own clock for
	// the commands and the store stamps its own time.
	Clock *Clock
	// Workers bounds how many commands run at once within a batch;
	// zero means 32. Concurrent commands share the store's commits.
	Workers int
	// Logger, when set, is handed to the command handlers.
	Logger *slog.Logger
}

// ErrNotEmpty is returned when the store holds events that are not this
// demo: the demo never mixes into a real ledger, nor one demo into another.
var ErrNotEmpty = errors.New("demo: the store is not empty")

// Summary tells what Load did and what the dataset holds.
type Summary struct {
	Seed  int64
	Now   time.Time
	Years int
	// Resumed: the store already held this demo (same seed), so Load sent
	// the same commands again; those recorded before answered from their
	// idempotency records and appended nothing.
	Resumed bool
	// Commands is how many commands were sent; Replayed how many of them
	// had been recorded before; Events how many domain events the accepted
	// commands appended (each accepted command also appends its
	// idempotency record, and each rejected report its rejection).
	Commands, Replayed, Events int
	// What the dataset holds.
	Units, Projects, Rejected, Transfers, Orders, Cases, Corrections, Amendments int
	// Stages counts the projects by their stage at Now.
	Stages map[domain.Stage]int
	// Took is how long the load took.
	Took time.Duration
}

// String reports the summary in a few lines for the command line.
func (s Summary) String() string {
	var b strings.Builder
	verb := "loaded"
	if s.Resumed {
		verb = "already held; resumed"
	}
	fmt.Fprintf(&b, "demo dataset (seed %d, %d years to %s) %s in %s\n", s.Seed, s.Years,
		s.Now.Format("2006-01-02 15:04 MST"), verb, s.Took.Round(time.Millisecond))
	fmt.Fprintf(&b, "  commands %d (replayed %d), events appended %d\n", s.Commands, s.Replayed, s.Events)
	fmt.Fprintf(&b, "  units %d, projects %d, rejected reports %d, transfers %d, supervision orders %d, tolerance cases %d\n",
		s.Units, s.Projects, s.Rejected, s.Transfers, s.Orders, s.Cases)
	var parts []string
	for _, st := range domain.Stages() {
		parts = append(parts, fmt.Sprintf("%s %d", st, s.Stages[st]))
	}
	fmt.Fprintf(&b, "  stages: %s\n", strings.Join(parts, ", "))
	return b.String()
}

// resolved are the options with defaults applied.
type resolved struct {
	seed       int64
	now, start time.Time
	loc        *time.Location
	years      []int // the assessment years, oldest first
	nYears     int
	marker     string
	workers    int
}

func resolve(o Options) (resolved, error) {
	r := resolved{seed: o.Seed, loc: o.Location, nYears: o.Years, workers: o.Workers}
	if r.loc == nil {
		r.loc = shanghai()
	}
	if r.nYears == 0 {
		r.nYears = 2
	}
	if r.nYears < 1 || r.nYears > 10 {
		return r, fmt.Errorf("demo: Years must be between 1 and 10, not %d", r.nYears)
	}
	if r.workers <= 0 {
		r.workers = 32
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	r.now = now.Truncate(time.Second).In(r.loc)
	r.start = r.now.AddDate(-r.nYears, 0, 0)
	for y := r.now.Year() - r.nYears + 1; y <= r.now.Year(); y++ {
		r.years = append(r.years, y)
	}
	r.marker = fmt.Sprintf("demo:seed=%d:years=%d:now=%d", r.seed, r.nYears, r.now.Unix())
	return r, nil
}

// shanghai is Asia/Shanghai, or the +08:00 it has kept since 1991 when the
// machine has no zone database.
func shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Shanghai", 8*3600)
}

// parseMarker reads the correlation id every demo event carries.
func parseMarker(s string) (seed int64, years int, now time.Time, ok bool) {
	rest, found := strings.CutPrefix(s, "demo:seed=")
	if !found {
		return 0, 0, time.Time{}, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || !strings.HasPrefix(parts[1], "years=") || !strings.HasPrefix(parts[2], "now=") {
		return 0, 0, time.Time{}, false
	}
	seed, err1 := strconv.ParseInt(parts[0], 10, 64)
	y, err2 := strconv.Atoi(strings.TrimPrefix(parts[1], "years="))
	unix, err3 := strconv.ParseInt(strings.TrimPrefix(parts[2], "now="), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, time.Time{}, false
	}
	return seed, y, time.Unix(unix, 0), true
}

// Load loads the demo dataset into store through the command handlers
// (commands.New over the same store), every fact by the actor who would
// record it: the admin registers the units, the centre adopts the policy,
// sets targets, transfers projects, issues and closes supervision orders,
// awards points and publishes the assessment, each unit's staff keep their
// unit's projects, the discipline commission decides tolerance cases.
//
// The commands run in simulated time: the steps are grouped in batches
// (the facts entered at one sitting, twice a week), each recorded at that
// evening's moment with the commands' clock (and Options.Clock) set to it;
// commands of different projects in a batch run concurrently.
//
// Every command carries an idempotency key derived from the seed and its
// step, and the correlation id "demo:seed=S:years=Y:now=UNIX", which marks
// the events as the demo's. Load refuses a store that holds anything else
// (ErrNotEmpty). On a store that already holds the demo of the same seed it
// sends the same commands again with the recorded Now and Years: what was
// recorded answers from its idempotency record, so a complete demo appends
// nothing and an interrupted one is completed.
func Load(ctx context.Context, store commands.Store, opts Options) (Summary, error) {
	began := time.Now()
	o, err := resolve(opts)
	if err != nil {
		return Summary{}, err
	}
	resumed, err := inspect(ctx, store, &o)
	if err != nil {
		return Summary{}, err
	}
	clock := opts.Clock
	if clock == nil {
		clock = &Clock{}
	}
	defer clock.set(time.Time{})
	app, err := commands.New(commands.Deps{Store: store, Clock: clock.Now, Location: o.loc, Logger: opts.Logger})
	if err != nil {
		return Summary{}, err
	}

	g := newGen(o)
	g.build()
	x := &runner{app: app, seed: o.seed, marker: o.marker, refs: map[string]string{}}
	if err := execute(ctx, x, clock, o, g.steps); err != nil {
		return Summary{}, err
	}
	return Summary{
		Seed: o.seed, Now: o.now, Years: o.nYears, Resumed: resumed,
		Commands: int(x.commands.Load()), Replayed: int(x.replayed.Load()), Events: int(x.events.Load()),
		Units: len(unitSpecs) + 1, Projects: g.stats.projects, Rejected: g.stats.rejected,
		Transfers: g.stats.transfers, Orders: g.stats.orders, Cases: g.stats.cases,
		Corrections: g.stats.corrections, Amendments: g.stats.amendments,
		Stages: maps.Clone(g.stats.stages), Took: time.Since(began),
	}, nil
}

// inspect decides whether the store can take the demo: an empty store
// can; one whose first units event carries this seed's demo marker is
// resumed with the options it was loaded with; anything else is refused.
func inspect(ctx context.Context, store commands.Store, o *resolved) (resumed bool, err error) {
	head, err := store.Head(ctx)
	if err != nil {
		return false, fmt.Errorf("demo: read the store's head: %w", err)
	}
	if head.IsZero() {
		return false, nil
	}
	evs, err := store.ReadStream(ctx, domain.StreamUnits, 1, eventstore.Forwards, 1)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return false, fmt.Errorf("demo: read the units: %w", err)
	}
	if len(evs) == 0 {
		return false, fmt.Errorf("%w: it holds events but no units", ErrNotEmpty)
	}
	seed, years, now, ok := parseMarker(evs[0].CorrelationID)
	if !ok {
		return false, fmt.Errorf("%w: it holds a ledger that is not the demo", ErrNotEmpty)
	}
	if seed != o.seed {
		return false, fmt.Errorf("%w: it holds the demo of seed %d, not %d", ErrNotEmpty, seed, o.seed)
	}
	resolvedAgain, err := resolve(Options{Seed: seed, Now: now, Location: o.loc, Years: years, Workers: o.workers})
	if err != nil {
		return false, err
	}
	*o = resolvedAgain
	return true, nil
}

// runner carries what the steps share while they run: the handlers and
// the ids of what earlier steps created.
type runner struct {
	app    *commands.App
	seed   int64
	marker string

	mu   sync.Mutex
	refs map[string]string

	commands, replayed, events atomic.Int64
}

// id is the id an earlier step created under ref.
func (x *runner) id(ref string) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	id, ok := x.refs[ref]
	if !ok {
		return "", fmt.Errorf("demo: %s was not created", ref)
	}
	return id, nil
}

func (x *runner) run(ctx context.Context, s *step) error {
	meta := commands.Meta{Actor: s.actor, IdempotencyKey: "demo-" + strconv.FormatInt(x.seed, 10) + "/" + s.key,
		CorrelationID: x.marker}
	res, err := s.do(ctx, x, meta)
	x.commands.Add(1)
	if s.expect != nil {
		if !errors.Is(err, s.expect) {
			return fmt.Errorf("demo: step %s by %s: want %v, got %v", s.key, s.actor.Subject, s.expect, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo: step %s by %s: %w", s.key, s.actor.Subject, err)
	}
	if res.Replayed {
		x.replayed.Add(1)
	} else {
		x.events.Add(int64(res.Appended))
	}
	if s.ref != "" {
		x.mu.Lock()
		x.refs[s.ref] = res.ID
		x.mu.Unlock()
	}
	return nil
}

// batch is the steps recorded together at one moment.
type batch struct {
	at    time.Time
	phase phase
	steps []*step
}

// batchAt is the moment the batch holding a step recorded at at is
// entered: the units bring their ledgers up to date twice a week, on
// Tuesday and Friday evenings (17:30–20:00, varying by day), and the last
// batch is at Now. Recording in batches is also what makes the load fast:
// a batch's commands share the store's commits.
func (o resolved) batchAt(at time.Time) time.Time {
	d := at.In(o.loc)
	for {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d/%s", o.seed, d.Format(time.DateOnly))
		t := time.Date(d.Year(), d.Month(), d.Day(), 17, 30, 0, 0, o.loc).Add(time.Duration(h.Sum32()%150) * time.Minute)
		if wd := d.Weekday(); !t.Before(at) && (wd == time.Tuesday || wd == time.Friday) {
			if t.After(o.now) {
				return o.now
			}
			return t
		}
		d = d.AddDate(0, 0, 1)
	}
}

// batches groups the steps (sorted by at) into batches in the order they
// run: by moment, then phase.
func batches(o resolved, steps []step) []*batch {
	type key struct {
		at    time.Time
		phase phase
	}
	byKey := map[key]*batch{}
	var out []*batch
	for i := range steps {
		s := &steps[i]
		k := key{o.batchAt(s.at), s.phase}
		b := byKey[k]
		if b == nil {
			b = &batch{at: k.at, phase: k.phase}
			byKey[k] = b
			out = append(out, b)
		}
		b.steps = append(b.steps, s)
	}
	slices.SortStableFunc(out, func(a, b *batch) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.phase, b.phase))
	})
	return out
}

// execute runs the batches in order, each with the clock at its moment, the
// chains of a batch concurrently and each chain's steps in order.
func execute(ctx context.Context, x *runner, clock *Clock, o resolved, steps []step) error {
	for _, b := range batches(o, steps) {
		clock.set(b.at)
		var chains [][]*step
		index := map[int]int{}
		for _, s := range b.steps {
			i, ok := index[s.chain]
			if !ok {
				i = len(chains)
				index[s.chain] = i
				chains = append(chains, nil)
			}
			chains[i] = append(chains[i], s)
		}
		if err := runChains(ctx, x, chains, o.workers); err != nil {
			return err
		}
	}
	return nil
}

// runChains runs each chain's steps in order, up to workers chains at a
// time, and returns the first error (the others stop at their next step).
func runChains(ctx context.Context, x *runner, chains [][]*step, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  atomic.Int64
	)
	for range min(workers, len(chains)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(chains) || ctx.Err() != nil {
					return
				}
				for _, s := range chains[i] {
					if err := x.run(ctx, s); err != nil {
						once.Do(func() { first = err; cancel() })
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
