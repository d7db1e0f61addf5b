package relay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Log is what the relay reads: the store's global log. Every
// eventstore.Store is one.
type Log interface {
	Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error
	Head(ctx context.Context) (eventstore.Position, error)
}

// Publisher is where the relay publishes: a Transport, or any watermill
// publisher.
type Publisher interface {
	Publish(topic string, messages ...*message.Message) error
}

// ErrRunning is returned by Run while another Run of the same relay is
// under way: two runs would publish the same events and race on one
// checkpoint file.
var ErrRunning = errors.New("relay: already running")

// Relay tails the global log from its checkpoint and publishes every event,
// in log order, one at a time, to Config.Topic.
type Relay struct {
	log    Log
	pub    Publisher
	cfg    Config
	logger watermill.LoggerAdapter

	running    atomic.Bool
	mu         sync.Mutex
	ckpt       *checkpointer
	published  atomic.Uint64
	failures   atomic.Uint64
	lastFailed atomic.Pointer[string]
}

// New returns a relay from log to pub. cfg is completed with its defaults
// and validated; logger may be nil.
func New(log Log, pub Publisher, cfg Config, logger watermill.LoggerAdapter) (*Relay, error) {
	if log == nil {
		return nil, fmt.Errorf("%w: nil log", ErrInvalidConfig)
	}
	if pub == nil {
		return nil, fmt.Errorf("%w: nil publisher", ErrInvalidConfig)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CheckpointPath == "" {
		return nil, fmt.Errorf("%w: CheckpointPath is required", ErrInvalidConfig)
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &Relay{
		log:    log,
		pub:    pub,
		cfg:    cfg,
		logger: logger.With(watermill.LogFields{"component": "relay", "topic": cfg.Topic}),
	}, nil
}

// Run publishes events until ctx is done (returning ctx.Err()) or the
// checkpoint file cannot be written (returning that error; a failing
// subscription to the log is retried like a failing publish). It starts
// after the position in the checkpoint file (or at the start of the log,
// or at its head with Config.FromHead, when there is none), and writes the
// checkpoint only after the events up to it were published, so every event
// is published at least once: after a crash, the events published since the
// last checkpoint write are published again, with the same message ids.
//
// A publish that fails is retried with exponential backoff until it
// succeeds or ctx is done; the relay never skips an event.
func (r *Relay) Run(ctx context.Context) (err error) {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer r.running.Store(false)

	start, err := r.start(ctx)
	if err != nil {
		return err
	}
	ckpt := newCheckpointer(r.cfg.CheckpointPath, r.cfg.target(), r.cfg.CheckpointEvery, start)
	r.mu.Lock()
	r.ckpt = ckpt
	r.mu.Unlock()

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		ticker := time.NewTicker(r.cfg.CheckpointInterval)
		defer ticker.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-ticker.C:
				if err := ckpt.flush(); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	defer func() {
		cancel(nil)
		<-flusherDone
		// Whatever stopped the run, what was published is recorded, so a
		// restart repeats as little as possible.
		if ferr := ckpt.flush(); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}()

	r.logger.Info("Relay starting", watermill.LogFields{"after": start.String(), "target": r.cfg.target()})
	handle := func(e eventstore.Event) error {
		if err := runCtx.Err(); err != nil {
			return err
		}
		msg, err := NewMessage(e)
		if err != nil {
			return fatal{err}
		}
		if err := r.publish(runCtx, msg); err != nil {
			return err
		}
		r.published.Add(1)
		if err := ckpt.advance(e.Position); err != nil {
			return fatal{err}
		}
		return nil
	}
	delay := r.cfg.PublishRetryMin
	for {
		after, _, _ := ckpt.state()
		err = r.log.Subscribe(runCtx, after, handle)
		if runCtx.Err() != nil {
			break
		}
		if f, ok := errors.AsType[fatal](err); ok {
			return f.err
		}
		if now, _, _ := ckpt.state(); now != after {
			// It made progress before failing: a new failure, not the
			// same one again.
			delay = r.cfg.PublishRetryMin
		}
		// The store's subscription failed (a network store's connection
		// dropped, say): resume after the last event published, which
		// neither skips nor repeats one.
		r.logger.Error("Reading the log failed, resubscribing", err, watermill.LogFields{"after": after.String(), "wait": delay.String()})
		if !sleep(runCtx, delay) {
			break
		}
		delay = min(2*delay, r.cfg.PublishRetryMax)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Only the flusher cancels the run on its own: it failed to write the
	// checkpoint.
	return context.Cause(runCtx)
}

// fatal marks the errors that end a run instead of a resubscription: the
// relay's own, which retrying the log cannot cure.
type fatal struct{ err error }

func (f fatal) Error() string { return f.err.Error() }

// sleep waits d, answering false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// start reads the checkpoint and answers the position to resume after.
func (r *Relay) start(ctx context.Context) (eventstore.Position, error) {
	if err := os.MkdirAll(filepath.Dir(r.cfg.CheckpointPath), 0o755); err != nil {
		return eventstore.Start, fmt.Errorf("relay: checkpoint directory: %w", err)
	}
	pos, target, ok, err := ReadCheckpoint(r.cfg.CheckpointPath)
	if err != nil {
		return eventstore.Start, err
	}
	if ok {
		if target != r.cfg.target() {
			return eventstore.Start, fmt.Errorf("%w: %s was written for %q at position %s, and this relay publishes to %q; "+
				"delete it to publish the whole log to the new destination, or set its target to %q to continue from there",
				ErrCheckpointTarget, r.cfg.CheckpointPath, target, pos, r.cfg.target(), r.cfg.target())
		}
		// A checkpoint past the log's head belongs to a later log than this
		// one (a store restored from an older backup, a renumbered one):
		// resuming after it would skip every event recorded up to it.
		head, err := r.log.Head(ctx)
		if err != nil {
			return eventstore.Start, fmt.Errorf("relay: head of the log: %w", err)
		}
		if pos.Compare(head) > 0 {
			return eventstore.Start, fmt.Errorf("%w: %s says position %s was published, but the log ends at %s (a store restored from an older backup, or renumbered); "+
				"delete it to publish the whole log again (consumers dedupe by event id), or write the position to continue after",
				ErrCheckpointAhead, r.cfg.CheckpointPath, pos, head)
		}
		return pos, nil
	}
	if !r.cfg.FromHead {
		return eventstore.Start, nil
	}
	head, err := r.log.Head(ctx)
	if err != nil {
		return eventstore.Start, fmt.Errorf("relay: head of the log: %w", err)
	}
	// Recorded at once, so that a restart before the first event keeps
	// meaning "from when the relay was added".
	if err := newCheckpointer(r.cfg.CheckpointPath, r.cfg.target(), 1, head).save(); err != nil {
		return eventstore.Start, err
	}
	return head, nil
}

// publish publishes msg, retrying with exponential backoff until the
// publisher takes it or ctx is done.
func (r *Relay) publish(ctx context.Context, msg *message.Message) error {
	delay := r.cfg.PublishRetryMin
	for attempt := 1; ; attempt++ {
		err := r.pub.Publish(r.cfg.Topic, msg)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.failures.Add(1)
		text := err.Error()
		r.lastFailed.Store(&text)
		r.logger.Error("Publishing event failed, retrying", err, watermill.LogFields{
			"event_id": msg.UUID,
			"position": msg.Metadata.Get(MetaPosition),
			"attempt":  attempt,
			"wait":     delay.String(),
		})
		if !sleep(ctx, delay) {
			return ctx.Err()
		}
		delay = min(2*delay, r.cfg.PublishRetryMax)
	}
}

// Stats describes a relay's progress since it was created.
type Stats struct {
	// Published is the position of the last event published, Saved the
	// one in the checkpoint file (both Start before the first run).
	Published, Saved eventstore.Position
	// Events is the number of events published; Failures the number of
	// publish attempts that failed (and were retried); CheckpointWrites
	// the number of checkpoint files written by the current or last run.
	Events, Failures, CheckpointWrites uint64
	// LastFailure is the error of the last failed attempt, if any.
	LastFailure string
}

// Stats reports the relay's progress.
func (r *Relay) Stats() Stats {
	s := Stats{Events: r.published.Load(), Failures: r.failures.Load()}
	if p := r.lastFailed.Load(); p != nil {
		s.LastFailure = *p
	}
	r.mu.Lock()
	ckpt := r.ckpt
	r.mu.Unlock()
	if ckpt != nil {
		s.Published, s.Saved, s.CheckpointWrites = ckpt.state()
	}
	return s
}
