package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// catchUpGCPercent is the runner's garbage-collector setting while it
// replays (projections.Config.CatchUpGCPercent's default). The in-memory
// passes use it too, so they measure what a start-up replay costs.
const catchUpGCPercent = 400

// The in-memory passes repeat in pairs: at least minRebuildPairs, so that
// one burst of a neighbour's work cannot decide the ratio alone, and at
// most maxRebuildPairs, so that a tiny log does not repeat hundreds of
// times to fill the duration.
const (
	minRebuildPairs = 3
	maxRebuildPairs = 50
)

// rebuildInMemory replays the generated log into fresh views, and, in
// alternation with it, runs a decode-only pass: the same pipeline
// (projections.Replay over the same in-memory source) with every event
// decoded and none applied. Pairs of passes repeat until they have taken
// d (within the bounds above). It returns the decode-only and the rebuild
// tallies.
func rebuildInMemory(ctx context.Context, log *synth.Log, d time.Duration) (decode, rebuild tally, err error) {
	src := memLog{evs: log.Events}
	opts := projections.Options{Location: synth.Zone}
	skipAll := func(*eventstore.Event) bool { return false }
	defer debug.SetGCPercent(debug.SetGCPercent(catchUpGCPercent))
	pass := func(t *tally, keep func(*eventstore.Event) bool) error {
		// Each pass starts from a collected heap, so neither pays for the
		// other's garbage.
		runtime.GC()
		t0 := time.Now()
		v, err := projections.Replay(ctx, src, opts, eventstore.Start, keep)
		if err != nil {
			return err
		}
		took := time.Since(t0)
		if n := v.Events(); keep == nil && n != uint64(len(log.Events)) {
			return fmt.Errorf("the rebuild applied %d events of %d", n, len(log.Events))
		}
		t.ops += int64(len(log.Events))
		t.elapsed += took
		t.lat = append(t.lat, took)
		return nil
	}
	start := time.Now()
	for pairs := 0; pairs < minRebuildPairs || time.Since(start) < d && pairs < maxRebuildPairs; pairs++ {
		if err := pass(&decode, skipAll); err != nil {
			return tally{}, tally{}, fmt.Errorf("decode-only pass: %w", err)
		}
		if err := pass(&rebuild, nil); err != nil {
			return tally{}, tally{}, fmt.Errorf("rebuild: %w", err)
		}
	}
	slices.Sort(decode.lat)
	slices.Sort(rebuild.lat)
	return decode, rebuild, nil
}

// fill appends the log to s, which must be empty, window by window: the
// events of a window are grouped by stream, each group is one append with
// the stream's exact expected version, and the groups of a window are
// appended by workers at once, so that the appends share commits where the
// store commits in groups. A window starts once the previous one is
// written. Every stream keeps its events, their order and versions; the
// global order is the generated one to within a window (the store assigns
// positions in commit order). It returns how many appends it made.
func fill(ctx context.Context, s eventstore.Store, evs []eventstore.Event, workers, window int) (int, error) {
	type group struct {
		stream string
		first  uint64 // version of the group's first event
		events []eventstore.NewEvent
	}
	appends := 0
	for lo := 0; lo < len(evs); lo += window {
		hi := min(len(evs), lo+window)
		var groups []*group
		byStream := map[string]*group{}
		for i := lo; i < hi; i++ {
			e := &evs[i]
			g := byStream[e.Stream]
			if g == nil {
				g = &group{stream: e.Stream, first: e.Version}
				byStream[e.Stream] = g
				groups = append(groups, g)
			}
			g.events = append(g.events, eventstore.NewEvent{ID: e.ID, Type: e.Type, Data: e.Data, OccurredAt: e.OccurredAt,
				Actor: e.Actor, CommandID: e.CommandID, CorrelationID: e.CorrelationID, CausationID: e.CausationID})
		}
		// Streams are handed out in the order they first appear in the
		// window, so the reference streams (units, policy) that open the
		// log are committed first.
		work := make(chan *group)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for g := range work {
					if errs[w] != nil {
						continue
					}
					_, err := s.Append(ctx, g.stream, eventstore.Exact(g.first-1), g.events)
					if err != nil {
						errs[w] = fmt.Errorf("append %d events to %s at version %d: %w", len(g.events), g.stream, g.first-1, err)
					}
				}
			})
		}
	feed:
		for _, g := range groups {
			select {
			case work <- g:
			case <-ctx.Done():
				break feed
			}
		}
		close(work)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return appends, err
		}
		if err := ctx.Err(); err != nil {
			return appends, err
		}
		appends += len(groups)
	}
	return appends, nil
}

// scan opens the store and reads its whole log, decoding nothing: the
// floor of a cold start from that store. It returns the events read and
// the store, still open.
func scan(ctx context.Context, open func(context.Context) (eventstore.Store, error)) (int64, eventstore.Store, error) {
	s, err := open(ctx)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	after := eventstore.Start
	for {
		evs, err := s.ReadAll(ctx, after, 2048)
		if err != nil {
			s.Close()
			return 0, nil, err
		}
		if len(evs) == 0 {
			return n, s, nil
		}
		n += int64(len(evs))
		after = evs[len(evs)-1].Position
	}
}
