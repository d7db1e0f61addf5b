package commands

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// engine is the write path every handler shares: the store, the clock, the
// cached policy and units, the cache of decoded streams, the in-process
// stream locks.
type engine struct {
	store      Store
	clock      func() time.Time
	loc        *time.Location
	maxRetries int
	logger     *slog.Logger
	observe    func(Operation, time.Duration, error)

	policies *streamCache[*domain.Policies]
	units    *streamCache[*domain.Units]
	streams  *streamLRU
	locks    *streamLocks
}

func newEngine(d Deps) *engine {
	retries := d.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	cached := d.CachedStreams
	if cached == 0 {
		cached = DefaultCachedStreams
	}
	return &engine{
		store: d.Store, clock: d.Clock, loc: d.Location, maxRetries: retries,
		logger: d.Logger, observe: d.Observe,
		policies: newStreamCache(domain.StreamPolicy, func(evs []domain.Event) *domain.Policies {
			ps := &domain.Policies{}
			fold(ps, evs)
			return ps
		}),
		units: newStreamCache(domain.StreamUnits, func(evs []domain.Event) *domain.Units {
			us := &domain.Units{}
			fold(us, evs)
			return us
		}),
		streams: newStreamLRU(cached),
		locks:   newStreamLocks(),
	}
}

// now is the moment of a decision in the configured zone: the domain's
// "now" (DOMAIN.md: occurred_at may not lie in the future; windows are judged
// when the command is recorded).
func (e *engine) now() time.Time { return e.clock().In(e.loc) }

// policy is the policy in force (the last adopted version, or the built-in
// defaults, version 0).
func (e *engine) policy(ctx context.Context) (domain.Policy, error) {
	ps, err := e.policies.get(ctx, e)
	if err != nil {
		return domain.Policy{}, err
	}
	return ps.Current(), nil
}

// unitRef is a unit a command names, with the body field that names it.
type unitRef struct {
	field string
	code  domain.UnitCode
	// host: the unit is to take a project over (domain.Units.RequireHost).
	host bool
}

// requireUnits checks that every referenced unit is registered, naming the
// field of each one that is not (a *domain.ValidationError, rule
// "unknown_unit").
func (e *engine) requireUnits(ctx context.Context, refs ...unitRef) error {
	if len(refs) == 0 {
		return nil
	}
	us, err := e.units.get(ctx, e)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range refs {
		if r.host {
			errs = append(errs, us.RequireHost(r.field, r.code))
		} else {
			errs = append(errs, us.Require(r.field, r.code))
		}
	}
	return mergeValidation(errs...)
}

// read returns every event of stream; a stream that does not exist has none.
func (e *engine) read(ctx context.Context, stream string) ([]eventstore.Event, error) {
	evs, err := e.store.ReadStream(ctx, stream, 1, eventstore.Forwards, 0)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("commands: read %s: %w", stream, err)
	}
	return evs, nil
}

// headVersion is a stream's current version (0 when it does not exist), read
// as its last event only: the cheap check that keeps the caches honest.
func (e *engine) headVersion(ctx context.Context, stream string) (uint64, error) {
	evs, err := e.store.ReadStream(ctx, stream, eventstore.End, eventstore.Backwards, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(evs) == 0 {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("commands: read %s: %w", stream, err)
	}
	return evs[0].Version, nil
}

// decode decodes a recorded event into its domain struct. Types the domain
// does not register (this package's own records, a newer version's events)
// decode to nil and are skipped by the folds; a registered type whose data
// does not decode is an error, because deciding on a partial state would be
// wrong.
func decode(ev *eventstore.Event) (domain.Event, error) {
	d, err := domain.Decode(ev.Type, ev.Data)
	if errors.Is(err, domain.ErrUnknownEventType) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("commands: %s version %d: %w", ev.Stream, ev.Version, err)
	}
	return d, nil
}

func decodeAll(evs []eventstore.Event) ([]domain.Event, error) {
	out := make([]domain.Event, len(evs))
	for i := range evs {
		d, err := decode(&evs[i])
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// aggregate is what every domain aggregate offers the write path.
type aggregate interface{ Apply(domain.Event) }

func fold(a aggregate, evs []domain.Event) {
	for _, d := range evs {
		if d != nil {
			a.Apply(d)
		}
	}
}

// streamPlan describes a command that acts on one stream: the write path
// (execute) loads the stream, checks, decides, appends and retries.
type streamPlan[S aggregate] struct {
	stream string
	// id is Result.ID.
	id string
	// state returns the empty aggregate to fold into.
	state func() S
	// check runs after the load and before If-Match and the decision:
	// existence (NotFound for a path id) and the unit-scope authorisation,
	// which needs the loaded state (the project's current owner).
	check func(ctx context.Context, st S) error
	// decide returns the events to append (none: nothing to record).
	decide func(ctx context.Context, st S, now time.Time) ([]domain.Event, error)
	// finish completes the Result from the state before the command and
	// the events it appended (Created, ExclusiveUntil, PolicyVersion).
	finish func(r *Result, before S, appended []domain.Event)
}

// execute is the write path of a one-stream command (ARCHITECTURE.md "The
// write path"): load and fold the stream, check, decide with the clock's
// now, append with the version loaded as the expected version. A lost race
// (a version conflict) means someone else appended first: none of these
// decisions depends on the caller's view of the version, so the command is
// reloaded and decided again, up to maxRetries times — unless the caller
// named a version with If-Match, which then fails.
//
// Commands on one stream are serialised in this process by a stream lock,
// so optimistic retries are only spent on writers in other processes.
func execute[S aggregate](ctx context.Context, e *engine, x *exec, p streamPlan[S]) (Result, error) {
	unlock, err := e.locks.lock(ctx, p.stream)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	for attempt := 0; ; attempt++ {
		r, err := executeOnce(ctx, e, x, p)
		if err == nil || !e.retry(ctx, x, err, attempt) {
			return r, err
		}
	}
}

func executeOnce[S aggregate](ctx context.Context, e *engine, x *exec, p streamPlan[S]) (Result, error) {
	l, err := e.load(ctx, p.stream)
	if err != nil {
		return Result{}, err
	}
	// A keyed command whose events are already in the stream ran before and
	// failed to record its answer (a crash, a lost connection): its answer
	// is rebuilt from its events rather than deciding again.
	if at, n := x.findOwn(l.ids, roleMain); n > 0 {
		before := p.state()
		fold(before, l.events[:at])
		r := x.result(p.id, p.stream, l.versions[at+n-1], l.positions[at+n-1], n)
		if p.finish != nil {
			p.finish(&r, before, l.events[at:at+n])
		}
		return r, nil
	}
	st := p.state()
	fold(st, l.events)
	if p.check != nil {
		if err := p.check(ctx, st); err != nil {
			return Result{}, err
		}
	}
	version := l.version()
	if err := x.checkIfMatch(p.stream, version); err != nil {
		return Result{}, err
	}
	news, err := p.decide(ctx, st, e.now())
	if err != nil {
		return Result{}, err
	}
	r := x.result(p.id, p.stream, version, l.last(), 0)
	if len(news) > 0 {
		res, err := e.append(ctx, x, p.stream, eventstore.Exact(version), roleMain, news)
		if err != nil {
			return Result{}, x.precondition(p.stream, err)
		}
		r = x.result(p.id, p.stream, res.Version, res.Position, len(news))
	}
	if p.finish != nil {
		p.finish(&r, st, news)
	}
	return r, nil
}

// append encodes domain events into envelopes stamped by the server and
// appends them.
func (e *engine) append(ctx context.Context, x *exec, stream string, expected eventstore.ExpectedVersion, role string, evs []domain.Event) (eventstore.AppendResult, error) {
	news, err := x.envelopes(role, evs)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return e.store.Append(ctx, stream, expected, news)
}

// retry reports whether an attempt that failed with err should be made
// again, after a short randomised pause that lets competing writers in other
// processes finish. Only a lost race is retried — and, for a keyed command,
// an event id the store has already seen (a concurrent retry of the same
// request won; the next load finds its events).
func (e *engine) retry(ctx context.Context, x *exec, err error, attempt int) bool {
	if attempt >= e.maxRetries {
		return false
	}
	switch {
	case errors.Is(err, eventstore.ErrVersionConflict):
	case x.keyed && errors.Is(err, eventstore.ErrInvalidEvent):
	default:
		return false
	}
	if attempt == 0 {
		return ctx.Err() == nil
	}
	// Up to 1, 2, 4 … ms, capped at 50 ms: long enough for a competitor's
	// group commit, short enough to stay well inside an HTTP timeout.
	d := min(time.Duration(1<<min(attempt-1, 6))*time.Millisecond, 50*time.Millisecond)
	t := time.NewTimer(rand.N(d) + time.Millisecond/4)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// streamLocks serialise, within this process, the commands acting on the
// same stream. Correctness never depends on them (the store's expected
// version does that, across processes too); they stop concurrent commands on
// one hot stream from burning their retries against each other. Striped so
// the lock table stays fixed in size; a collision between two streams only
// costs a brief wait. Channels rather than mutexes so a waiting command
// still honours its context.
type streamLocks struct {
	stripes [256]chan struct{}
}

func newStreamLocks() *streamLocks {
	l := &streamLocks{}
	for i := range l.stripes {
		l.stripes[i] = make(chan struct{}, 1)
	}
	return l
}

func (l *streamLocks) lock(ctx context.Context, stream string) (func(), error) {
	return l.lockAll(ctx, stream)
}

// lockAll locks the stripes of several streams (a report's claim streams).
// Each stripe is taken once, in ascending order, so two commands locking
// overlapping sets never wait for each other in a cycle, and two streams on
// one stripe do not deadlock their own command.
func (l *streamLocks) lockAll(ctx context.Context, streams ...string) (func(), error) {
	idx := make([]int, 0, len(streams))
	for _, s := range streams {
		h := fnv.New32a()
		h.Write([]byte(s))
		idx = append(idx, int(h.Sum32()%uint32(len(l.stripes))))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	unlock := func(n int) {
		for i := n - 1; i >= 0; i-- {
			<-l.stripes[idx[i]]
		}
	}
	for i, s := range idx {
		select {
		case l.stripes[s] <- struct{}{}:
		case <-ctx.Done():
			unlock(i)
			return nil, ctx.Err()
		}
	}
	return func() { unlock(len(idx)) }, nil
}
