package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// contender is one thing whose rate is measured: op is called by several
// workers at once until the contender's time or count is spent.
type contender struct {
	name string
	// op performs the contender's operation number i (0, 1, 2 … over the
	// whole run, warm-up included, so every operation can be made
	// distinct) on behalf of worker w (0 ≤ w < workers; a worker runs one
	// operation at a time).
	op   func(ctx context.Context, w int, i int64) error
	next atomic.Int64
}

// tally is what one contender did over every round.
type tally struct {
	ops     int64
	elapsed time.Duration
	lat     []time.Duration // one per operation, sorted once the rounds are over
}

// percentile is the latency below which a fraction p of the operations
// finished (nearest rank).
func (t *tally) percentile(p float64) time.Duration {
	if len(t.lat) == 0 {
		return 0
	}
	i := int(p*float64(len(t.lat))+0.5) - 1
	return t.lat[min(max(i, 0), len(t.lat)-1)]
}

// load is how contenders are driven.
type load struct {
	// duration is each contender's measuring time, over all rounds.
	duration time.Duration
	// rounds splits it: the contenders take turns round by round, so a
	// change in what else the shared machine (or its disk) is doing
	// weighs on every contender alike, and their ratios stay meaningful
	// when the absolute figures drift.
	rounds int
	// workers is the concurrency: how many operations are in flight.
	workers int
	// maxOps bounds each contender's operations over all rounds, so that
	// a very fast machine cannot grow the store without bound.
	maxOps int64
	// settle, when set, is called after every turn, untimed: the write
	// path lets the views catch up with what the turn appended, so that no
	// turn pays for the backlog of the one before.
	settle func(ctx context.Context) error
	// progress, when set, is told when each round starts.
	progress func(format string, args ...any)
}

// warm runs one operation per worker of each contender, untimed: caches
// fill, connections open, lazily built indexes are built, so the first
// round does not pay for what every later one gets for free.
func (l load) warm(ctx context.Context, cs []*contender) error {
	for _, c := range cs {
		var wg sync.WaitGroup
		errs := make([]error, l.workers)
		for w := range l.workers {
			wg.Go(func() { errs[w] = c.op(ctx, w, c.next.Add(1)-1) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("%s (warm-up): %w", c.name, err)
			}
		}
	}
	return nil
}

// run measures the contenders in interleaved rounds and returns their
// tallies, in the order given. The first failed operation stops the run:
// a figure that counts failures as work measures nothing.
func (l load) run(ctx context.Context, cs []*contender) ([]tally, error) {
	if err := l.warm(ctx, cs); err != nil {
		return nil, err
	}
	if l.settle != nil {
		if err := l.settle(ctx); err != nil {
			return nil, fmt.Errorf("after the warm-up: %w", err)
		}
	}
	out := make([]tally, len(cs))
	per := l.duration / time.Duration(l.rounds)
	capOps := (l.maxOps + int64(l.rounds) - 1) / int64(l.rounds)
	for r := range l.rounds {
		if l.progress != nil {
			l.progress("round %d/%d", r+1, l.rounds)
		}
		// Each round starts with the next contender, so none always
		// follows the same one: whatever a turn leaves behind (dirty
		// pages, a grown heap) falls on every contender in turn.
		for k := range cs {
			i := (r + k) % len(cs)
			c := cs[i]
			t, err := l.round(ctx, c, per, capOps)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			out[i].ops += t.ops
			out[i].elapsed += t.elapsed
			out[i].lat = append(out[i].lat, t.lat...)
			if l.settle != nil {
				if err := l.settle(ctx); err != nil {
					return nil, fmt.Errorf("after %s: %w", c.name, err)
				}
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].lat)
	}
	return out, nil
}

// round runs c on every worker for d or capOps operations, whichever comes
// first (but at least one operation). Its elapsed time runs until the last
// operation in flight has finished, so every operation counted is inside
// it.
func (l load) round(ctx context.Context, c *contender, d time.Duration, capOps int64) (tally, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		started  atomic.Int64
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	lats := make([][]time.Duration, l.workers)
	start := time.Now()
	deadline := start.Add(d)
	for w := range l.workers {
		wg.Go(func() {
			// Every worker's first operation runs even if the goroutine
			// started late on a busy machine: no turn is ever empty.
			for first := true; ctx.Err() == nil && (first || time.Now().Before(deadline)) && started.Add(1) <= capOps; first = false {
				t0 := time.Now()
				if err := c.op(ctx, w, c.next.Add(1)-1); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	t := tally{elapsed: time.Since(start)}
	if firstErr != nil {
		return t, firstErr
	}
	if err := ctx.Err(); err != nil {
		return t, err // the caller's context ended the round early
	}
	for _, ls := range lats {
		t.ops += int64(len(ls))
		t.lat = append(t.lat, ls...)
	}
	return t, nil
}
