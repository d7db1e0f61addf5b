package projections

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Time travel. Every view can be asked "as known at T" (only events
// recorded at or before T: what the dashboard showed that day) and "as of
// T" in business time (only events that occurred by T, as the ledger knows
// them now). Runner.AsKnownAt and Runner.AsOf replay the log into fresh
// views; the ranking and the assessment also answer as_of directly from
// their contribution records (RankingQuery.AsOf), which is a filter and a
// sum instead of a replay. A single project's state at T folds only its own
// stream (ProjectAt).

// ProjectAt answers GET /projects/{id}?as_of=T&basis=: the project folded
// from its own stream (and the policy stream, which decides tiers and
// alert rules) as known at t (basis recorded) or as of t (basis occurred),
// with its alerts judged at t. Alerts that depend on other streams (an
// order about the project, a rejected rival report) need those streams
// too: Runner.ProjectAt names them from the live views; here, extra.
func ProjectAt(ctx context.Context, s eventstore.Store, opts Options, id string, t time.Time, basis Basis, extra ...string) (ProjectState, bool, error) {
	if err := opts.defaults(); err != nil {
		return ProjectState{}, false, err
	}
	k, err := newKnown(t, basis)
	if err != nil {
		return ProjectState{}, false, err
	}
	if !domain.ValidID(id) {
		return ProjectState{}, false, nil
	}
	var evs []eventstore.Event
	for _, stream := range append([]string{domain.StreamPolicy, domain.ProjectStream(id)}, extra...) {
		part, err := s.ReadStream(ctx, stream, 1, eventstore.Forwards, 0)
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			return ProjectState{}, false, err
		}
		evs = append(evs, part...)
	}
	slices.SortFunc(evs, func(a, b eventstore.Event) int { return a.Position.Compare(b.Position) })
	kept := evs[:0]
	for _, e := range evs {
		if k.keeps(e.OccurredAt, e.RecordedAt) {
			kept = append(kept, e)
		}
	}
	v := NewViews(opts)
	err = runPipeline(ctx, 1, newDecoder(nil, opts.Location), sliceSource(kept, 1024), func(dec []decoded, hashes [][32]byte) error {
		v.apply(dec, hashes)
		return nil
	})
	if err != nil {
		return ProjectState{}, false, err
	}
	st, _, ok := v.Project(id, t)
	return st, ok, nil
}

// ProjectAt is the package function on the runner's store, with the
// streams of every supervision order about the project and of every claim
// holding a report rejected under its exclusivity, so that its alerts at t
// (order_overdue, breaches an order closed, exclusivity_conflict) are those
// the views showed, or would show, then.
func (r *Runner) ProjectAt(ctx context.Context, id string, t time.Time, basis Basis) (ProjectState, bool, error) {
	return ProjectAt(ctx, r.cfg.Store, r.cfg.Options, id, t, basis, r.views.relatedStreams(id)...)
}

// relatedStreams are the streams other than its own whose events decide a
// project's alerts: its orders' and the claim streams of its conflicts.
func (v *Views) relatedStreams(id string) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []string
	for _, s := range v.sup.byProject[id] {
		out = append(out, domain.SupervisionStream(v.sup.orders[s].id))
	}
	if en := v.proj.byID[id]; en != nil {
		for _, c := range en.conflicts {
			if !slices.Contains(out, c.stream) {
				out = append(out, c.stream)
			}
		}
	}
	return out
}

// KnownPosition is the position of the last event recorded at or before t
// (the position an answer "as known at t" is computed at).
func (v *Views) KnownPosition(t time.Time) eventstore.Position {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.tl.positionAt(t)
}

// LastRecorded is the latest recorded_at among the events the views hold
// (zero when none).
func (v *Views) LastRecorded() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.tl.entries.Len() > 0 {
		return time.Unix(0, v.tl.entries.Last().recorded).UTC()
	}
	return time.Time{}
}
