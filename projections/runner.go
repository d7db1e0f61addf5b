package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Config configures a Runner.
type Config struct {
	// Store is the event store whose global log feeds the views. Required.
	Store eventstore.Store
	// Options configures the views (time zone, default policy).
	Options Options
	// Workers is how many goroutines decode ahead of the in-order apply;
	// 0 means one per core.
	Workers int
	// Batch is the largest number of events applied under one write lock;
	// 0 means 512. Smaller batches keep queries waiting less while the log
	// is being caught up.
	Batch int
	// Unmarshal decodes event data; nil means FastUnmarshal.
	Unmarshal Unmarshal
	// Start, when not nil, is where the runner begins instead of an empty
	// set of views: views restored from a verified snapshot, for instance.
	// The runner then tails the log after Start.Position().
	Start *Views
	// CatchUpGCPercent is the garbage collector's target (GOGC) while the
	// runner replays the log at start, restored once it is ready: the
	// views only grow during a replay, and a collection every time the heap
	// doubles costs as much as the replay itself. 0 means 400; -1 leaves
	// the setting alone. A GOMEMLIMIT still bounds the heap.
	CatchUpGCPercent int
}

func (c *Config) defaults() error {
	if c.Store == nil {
		return errors.New("projections: Config.Store is required")
	}
	if c.Batch <= 0 {
		c.Batch = 512
	}
	if c.Workers <= 0 {
		c.Workers = decodeWorkers()
	}
	if c.Unmarshal == nil {
		c.Unmarshal = FastUnmarshal
	}
	if c.CatchUpGCPercent == 0 {
		c.CatchUpGCPercent = 400
	}
	return c.Options.defaults()
}

// Runner tails the store's global log and feeds every view in order. Start
// it with Run; query its Views at any time (reads are safe while it
// applies); wait for a position with WaitFor.
type Runner struct {
	cfg   Config
	views *Views
	dec   *decoder

	applied  *eventstore.Notifier
	ready    chan struct{}
	readyOne sync.Once
	running  atomic.Bool

	mu      sync.Mutex
	head    eventstore.Position // the head seen when Run started
	lastErr error
}

// NewRunner returns a runner over cfg.Store. Nothing is read until Run.
func NewRunner(cfg Config) (*Runner, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	v := cfg.Start
	if v == nil {
		v = NewViews(cfg.Options)
	}
	return &Runner{
		cfg:     cfg,
		views:   v,
		dec:     newDecoder(cfg.Unmarshal, cfg.Options.Location),
		applied: eventstore.NewNotifier(),
		ready:   make(chan struct{}),
	}, nil
}

// Views are the live views the runner feeds.
func (r *Runner) Views() *Views { return r.views }

// Run replays the log from the views' position and then follows it live,
// until ctx is done (it returns ctx.Err()) or the log cannot be read or
// decoded (it returns that error; the views keep what they had applied).
// Run may be called once.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("projections: Runner.Run called twice")
	}
	head, err := r.cfg.Store.Head(ctx)
	if err != nil {
		return r.fail(fmt.Errorf("projections: reading the log head: %w", err))
	}
	r.mu.Lock()
	r.head = head
	r.mu.Unlock()
	from := r.views.Position()
	if from.Compare(head) >= 0 {
		r.markReady()
	} else if r.cfg.CatchUpGCPercent > 0 {
		old := debug.SetGCPercent(r.cfg.CatchUpGCPercent)
		var once sync.Once
		restore := func() { once.Do(func() { debug.SetGCPercent(old) }) }
		defer restore()
		exited := make(chan struct{})
		defer close(exited)
		go func() {
			select {
			case <-r.ready:
			case <-exited:
			}
			restore()
		}()
	}
	apply := func(dec []decoded, hashes [][32]byte) error {
		// Apply in chunks of at most Batch events, so that readers never
		// wait long for the write lock.
		for i := 0; i < len(dec); i += r.cfg.Batch {
			j := min(len(dec), i+r.cfg.Batch)
			r.views.apply(dec[i:j], hashes[i:j])
			r.applied.Notify()
		}
		if r.views.Position().Compare(head) >= 0 {
			r.markReady()
		}
		return nil
	}
	// Catch up by reading the log in large batches (no per-event hand-off),
	// then follow it live through a subscription from where the catch-up
	// ended.
	if !r.Ready() {
		r.views.setBulk(true)
		if err := runPipeline(ctx, r.cfg.Workers, r.dec, readAllSource(r.cfg.Store, from, catchUpRead), apply); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return r.fail(err)
		}
	}
	next, stop := subscribeSource(ctx, r.cfg.Store, r.views.Position(), r.cfg.Batch)
	defer stop()
	err = runPipeline(ctx, r.cfg.Workers, r.dec, next, apply)
	if err == nil {
		err = io.ErrUnexpectedEOF // a subscription never ends by itself
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return r.fail(err)
}

// catchUpRead is how many events the catch-up reads at once.
const catchUpRead = 4096

func (r *Runner) fail(err error) error {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	r.applied.Notify()
	return err
}

// Err is the error that stopped Run, or nil while it runs.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// markReady arms what the catch-up left pending before anyone is told the
// views are ready.
func (r *Runner) markReady() {
	r.readyOne.Do(func() {
		r.views.setBulk(false)
		close(r.ready)
	})
}

// Ready reports whether the views have caught up with the head of the log
// as it was when Run started (what /readyz answers).
func (r *Runner) Ready() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// WaitReady blocks until Ready or ctx is done.
func (r *Runner) WaitReady(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Position is the position of the last event every view has applied.
func (r *Runner) Position() eventstore.Position { return r.views.Position() }

// Events is how many events the views have consumed.
func (r *Runner) Events() uint64 { return r.views.Events() }

// StartHead is the log head seen when Run started; Ready turns true when
// the views reach it.
func (r *Runner) StartHead() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.head
}

// WaitFor blocks until the views have applied pos (min_position), ctx is
// done, or the runner has stopped. Callers bound the wait with ctx (the API
// uses at most 5 s).
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		wake := r.applied.C()
		if r.views.Position().Compare(pos) >= 0 {
			return nil
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("projections: views stopped at %s before %s: %w", r.views.Position(), pos, err)
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("projections: views at %s, waiting for %s: %w", r.views.Position(), pos, ctx.Err())
		}
	}
}

// Digests are the views' reconciliation digests now.
func (r *Runner) Digests() []Digest { return r.views.Digests() }

// Replay builds fresh views from the store's log: every event after Start
// whose envelope keep accepts (nil keeps all), up to and including through
// (the head when through is Start). It is the primitive behind time travel
// and reconciliation; it does not touch the runner's live views.
func Replay(ctx context.Context, s eventstore.Store, opts Options, through eventstore.Position, keep func(*eventstore.Event) bool) (*Views, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if through.IsZero() {
		h, err := s.Head(ctx)
		if err != nil {
			return nil, err
		}
		through = h
	}
	v := NewViews(opts)
	src := readAllSource(s, eventstore.Start, 2048)
	bounded := func(ctx context.Context) ([]eventstore.Event, error) {
		evs, err := src(ctx)
		if err != nil {
			return nil, err
		}
		n := 0
		for n < len(evs) && evs[n].Position.Compare(through) <= 0 {
			n++
		}
		if n == 0 {
			return nil, io.EOF
		}
		return evs[:n], nil
	}
	v.bulk = true
	err := runPipeline(ctx, 0, newDecoder(nil, opts.Location), bounded, func(dec []decoded, hashes [][32]byte) error {
		v.applyFiltered(dec, hashes, keep)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.setBulk(false)
	return v, nil
}

// ReplaySlice builds fresh views from an in-memory log (tests, benchmarks,
// the bench command), decoding on workers goroutines (0: one per core).
func ReplaySlice(ctx context.Context, evs []eventstore.Event, opts Options, workers int, u Unmarshal) (*Views, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	v := NewViews(opts)
	v.bulk = true
	err := runPipeline(ctx, workers, newDecoder(u, opts.Location), sliceSource(evs, 1024), func(dec []decoded, hashes [][32]byte) error {
		v.apply(dec, hashes)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.setBulk(false)
	return v, nil
}

// Feed applies an in-memory log to v, in order, decoding on workers
// goroutines (0: one per core); events at or before v's position are
// skipped. Tests, benchmarks and importers use it; a server feeds its views
// through a Runner.
func (v *Views) Feed(ctx context.Context, evs []eventstore.Event, workers int) error {
	from := v.Position()
	i := 0
	for i < len(evs) && evs[i].Position.Compare(from) <= 0 {
		i++
	}
	v.setBulk(true)
	defer v.setBulk(false)
	return runPipeline(ctx, workers, newDecoder(nil, v.loc), sliceSource(evs[i:], 1024), func(dec []decoded, hashes [][32]byte) error {
		v.apply(dec, hashes)
		return nil
	})
}

// AsKnownAt answers "as known at t": fresh views of every event recorded at
// or before t (recorded_at ≤ t), what the dashboard showed at that moment.
func (r *Runner) AsKnownAt(ctx context.Context, t time.Time) (*Views, error) {
	through := r.views.Position()
	return Replay(ctx, r.cfg.Store, r.cfg.Options, through, func(e *eventstore.Event) bool {
		return !e.RecordedAt.After(t)
	})
}

// AsOf answers "as of t" in business time: fresh views of every event that
// occurred at or before t (occurred_at ≤ t), as far as the ledger knows now.
func (r *Runner) AsOf(ctx context.Context, t time.Time) (*Views, error) {
	through := r.views.Position()
	return Replay(ctx, r.cfg.Store, r.cfg.Options, through, func(e *eventstore.Event) bool {
		return !e.OccurredAt.After(t)
	})
}
