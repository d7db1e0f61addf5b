package projections

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// A pipeline decodes batches of events on several goroutines ahead of a
// single goroutine that applies them strictly in log order. Decoding JSON is
// most of the cost of a rebuild and parallelises perfectly; applying must be
// sequential because every view is a left fold over the log.
//
//	source ─batches─▶ N decoders ─▶ in-order apply
//
// The order channel carries every batch in source order; the applier waits
// for each batch's decoding to finish before applying it, so batches decoded
// out of order are still applied in order.

type batchJob struct {
	events []eventstore.Event
	dec    []decoded
	hashes [][32]byte
	err    error
	done   chan struct{}
}

// batchSource returns the next batch of events, io.EOF when there are no
// more, or another error.
type batchSource func(ctx context.Context) ([]eventstore.Event, error)

// decodeWorkers is how many goroutines decode by default: every core.
func decodeWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

func runPipeline(ctx context.Context, workers int, d *decoder, next batchSource, apply func(dec []decoded, hashes [][32]byte) error) error {
	if workers <= 0 {
		workers = decodeWorkers()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	work := make(chan *batchJob, workers)
	order := make(chan *batchJob, 2*workers+2)
	var (
		wg      sync.WaitGroup
		srcErr  error
		srcDone = make(chan struct{})
	)
	go func() {
		defer close(srcDone)
		defer close(order)
		defer close(work)
		for {
			evs, err := next(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					srcErr = err
				}
				return
			}
			if len(evs) == 0 {
				continue
			}
			job := &batchJob{events: evs, done: make(chan struct{})}
			select {
			case work <- job:
			case <-ctx.Done():
				srcErr = ctx.Err()
				return
			}
			select {
			case order <- job:
			case <-ctx.Done():
				srcErr = ctx.Err()
				return
			}
		}
	}()
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for job := range work {
				job.dec = make([]decoded, len(job.events))
				job.hashes = make([][32]byte, len(job.events))
				job.err = d.decode(job.events, job.dec)
				if job.err == nil {
					job.err = decodeHashes(job.events, job.hashes)
				}
				close(job.done)
			}
		}()
	}

	var applyErr error
	for job := range order {
		select {
		case <-job.done:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			applyErr = ctx.Err()
			break
		}
		if job.err != nil {
			applyErr = job.err
			break
		}
		if err := apply(job.dec, job.hashes); err != nil {
			applyErr = err
			break
		}
	}
	cancel()
	// Drain so the source and the decoders can finish, then wait for them:
	// a pipeline never leaves goroutines behind.
	for range order {
	}
	wg.Wait()
	<-srcDone
	if applyErr != nil {
		return applyErr
	}
	return srcErr
}

// decodeHashes turns the events' hex hashes into raw bytes for the digest
// chain, off the sequential apply path.
func decodeHashes(evs []eventstore.Event, out [][32]byte) error {
	for i := range evs {
		h := evs[i].Hash
		if len(h) != 64 {
			return fmt.Errorf("projections: event at %s has hash %q, not a SHA-256 hex string", evs[i].Position, h)
		}
		if _, err := hex.Decode(out[i][:], []byte(h)); err != nil {
			return fmt.Errorf("projections: event at %s has hash %q: %w", evs[i].Position, h, err)
		}
	}
	return nil
}

// sliceSource serves an in-memory log in batches.
func sliceSource(evs []eventstore.Event, batch int) batchSource {
	i := 0
	return func(ctx context.Context) ([]eventstore.Event, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i >= len(evs) {
			return nil, io.EOF
		}
		j := min(len(evs), i+batch)
		b := evs[i:j]
		i = j
		return b, nil
	}
}

// readAllSource reads the store's log after a position until it is
// exhausted (the head at the time of reading), then reports io.EOF.
func readAllSource(s eventstore.Store, after eventstore.Position, batch int) batchSource {
	done := false
	return func(ctx context.Context) ([]eventstore.Event, error) {
		if done {
			return nil, io.EOF
		}
		evs, err := s.ReadAll(ctx, after, batch)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			done = true
			return nil, io.EOF
		}
		after = evs[len(evs)-1].Position
		return evs, nil
	}
}

// subscribeSource subscribes to the store's log after a position and
// groups events that arrive together into batches: during catch-up the
// subscription outruns the applier and batches fill up; live, each event
// is applied as soon as it arrives.
func subscribeSource(ctx context.Context, s eventstore.Store, after eventstore.Position, batch int) (batchSource, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan eventstore.Event, batch)
	errc := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		errc <- s.Subscribe(ctx, after, func(e eventstore.Event) error {
			select {
			case ch <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var subErr error
	next := func(ctx context.Context) ([]eventstore.Event, error) {
		if subErr != nil {
			return nil, subErr
		}
		var first eventstore.Event
		select {
		case first = <-ch:
		case err := <-errc:
			subErr = err
			if err == nil {
				subErr = io.EOF
			}
			return nil, subErr
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		out := make([]eventstore.Event, 1, batch)
		out[0] = first
		for len(out) < batch {
			select {
			case e := <-ch:
				out = append(out, e)
				continue
			default:
			}
			break
		}
		return out, nil
	}
	stop := func() {
		cancel()
		<-exited
	}
	return next, stop
}
