package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// ReportProject is POST /api/v1/projects: a unit enters a project (入库). The
// server assigns the project id (Result.ID). unit_staff may report only for
// its own unit; the unit must be registered.
type ReportProject struct {
	Name              string               `json:"name"`
	Unit              domain.UnitCode      `json:"unit"`
	Investor          domain.Investor      `json:"investor"`
	IndustryChain     string               `json:"industry_chain"`
	PlannedInvestment domain.Money         `json:"planned_investment"`
	SourceChannel     domain.SourceChannel `json:"source_channel,omitempty"`
	Referrer          string               `json:"referrer,omitempty"`
	LeadOfficial      string               `json:"lead_official,omitempty"`
	OccurredAt        time.Time            `json:"occurred_at"`
	Meta              Meta                 `json:"-"`
}

// Operation is OpReportProject.
func (ReportProject) Operation() Operation { return OpReportProject }

// Metadata returns the command's Meta.
func (c ReportProject) Metadata() Meta { return c.Meta }

type reportProjectHandler struct{ e *engine }

// Handle reports the project under 首报首谈 (Jiaxing 2024 二(一)3), which
// involves two streams: the claim stream of the normalised investor + chain
// (domain.ExclusivityStream) and the new project stream.
//
//  1. The claim stream is read and folded, and domain.DecideReport judges
//     the report against it at now — the moment the report is recorded.
//  2. A report that earns first-negotiation rights appends its
//     ExclusivityClaimed to the claim stream with the version it read as the
//     expected version, before the project exists. Two units reporting the
//     same investor and chain at once both read the same version; the store
//     lets exactly one append, and the other reloads and decides again — now
//     against the winner's claim, so it is rejected. The race is settled by
//     the store, across processes and API nodes, not by memory.
//  3. The project's first event is appended to its new stream ("no stream").
//
// A report rejected for a conflict is kept on record for the centre
// (DOMAIN.md: "the attempt itself is kept on record"): ReportRejected is
// appended to the claim stream and the handler returns the domain's
// *ExclusivityConflictError (holder unit, holder project, end of window). It
// is the one deliberate exception to "a rejected command appends nothing".
// The rejection is appended with no expected version: it records a refusal
// already justified by a claim in the stream, which no later append can
// undo, so it need not compete with other writers.
//
// Reports that make no claim — not major, the window already over for a
// backdated report, or the holder's own unit reporting the same investor
// again (which the domain accepts without extending the window) — append
// nothing to the claim stream. They take effect as of their read of it: such
// a report racing a competitor's claim is accepted as if it had come first,
// which it may have, and which grants no rights a claim could conflict with.
//
// If the process dies after the claim is appended and before the project
// is, the claim stands without its project. A retry with the same
// Idempotency-Key finds its own claim and completes the report; without a
// key the centre sees a claim whose project does not exist.
func (h reportProjectHandler) Handle(ctx context.Context, c ReportProject) (Result, error) {
	if err := authorizeUnit(c.Meta.Actor, OpReportProject, c.Unit); err != nil {
		return Result{}, err
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		cmd := domain.ReportProject{ProjectID: x.entityID(), Name: c.Name, Unit: c.Unit, Investor: c.Investor,
			IndustryChain: c.IndustryChain, PlannedInvestment: c.PlannedInvestment, SourceChannel: c.SourceChannel,
			Referrer: c.Referrer, LeadOfficial: c.LeadOfficial, OccurredAt: c.OccurredAt}
		claimStream := domain.ExclusivityStream(cmd.ExclusivityKey())
		unlock, err := h.e.locks.lock(ctx, claimStream)
		if err != nil {
			return Result{}, err
		}
		defer unlock()
		for attempt := 0; ; attempt++ {
			r, err := h.once(ctx, x, cmd, claimStream)
			if err == nil || !h.e.retry(ctx, x, err, attempt) {
				return r, err
			}
		}
	})
}

func (h reportProjectHandler) once(ctx context.Context, x *exec, cmd domain.ReportProject, claimStream string) (Result, error) {
	e := h.e
	projectStream := domain.ProjectStream(cmd.ProjectID)
	// Only a keyed report can meet its project stream already written (by
	// its own earlier attempt); a keyless one has a fresh random id, and its
	// "no stream" append guards the rest.
	if x.keyed {
		proj, err := e.load(ctx, projectStream)
		if err != nil {
			return Result{}, err
		}
		if at, n := x.findOwn(proj.ids, roleProject); n > 0 {
			r := x.result(cmd.ProjectID, projectStream, proj.versions[at+n-1], proj.positions[at+n-1], n)
			finishReport(&r, proj.events[at:at+n])
			return r, nil
		}
		if proj.len() > 0 {
			return Result{}, fmt.Errorf("%w: project %s", domain.ErrAlreadyExists, cmd.ProjectID)
		}
	}
	if err := x.checkIfMatch(projectStream, 0); err != nil {
		return Result{}, err
	}
	pol, err := e.policy(ctx)
	if err != nil {
		return Result{}, err
	}
	now := e.now()
	// An unregistered unit is refused before the claim is judged, so no
	// claim or rejection is ever recorded for a unit that does not exist.
	if uerr := e.requireUnits(ctx, unitRef{"unit", cmd.Unit}); uerr != nil {
		if !errors.Is(uerr, domain.ErrValidation) {
			return Result{}, uerr
		}
		return Result{}, mergeValidation(cmd.Validate(pol, now), uerr)
	}

	cl, err := e.load(ctx, claimStream)
	if err != nil {
		return Result{}, err
	}
	// This command's own claim or rejection, recorded by an earlier attempt
	// of a keyed request, is not judged against: the retry completes what
	// the first attempt started.
	ownClaimAt, ownClaims := x.findOwn(cl.ids, roleClaim)
	_, ownRejections := x.findOwn(cl.ids, roleRejection)
	var (
		claims domain.ExclusivityClaims
		own    *domain.ExclusivityClaimed
	)
	for i, d := range cl.events {
		if ownClaims > 0 && i == ownClaimAt {
			if c, ok := domain.Unwrap(d).(domain.ExclusivityClaimed); ok {
				own = &c
				continue
			}
		}
		if d != nil {
			claims.Apply(d)
		}
	}

	d, err := domain.DecideReport(cmd, &claims, pol, now)
	var conflict *domain.ExclusivityConflictError
	if errors.As(err, &conflict) {
		if ownRejections == 0 {
			rej := []domain.Event{domain.RejectionRecord(cmd, conflict)}
			if _, aerr := e.append(ctx, x, claimStream, eventstore.Any(), roleRejection, rej); aerr != nil {
				return Result{}, aerr
			}
		}
		return Result{}, err
	}
	if err != nil {
		return Result{}, err
	}
	switch {
	case own != nil:
		until := own.Until
		d.Reported.ExclusiveUntil = &until
	case d.Claim != nil:
		// A conflict here is a competing report: the loop reloads and
		// decides again. It is never the caller's If-Match, which names
		// the project.
		if _, err := e.append(ctx, x, claimStream, eventstore.Exact(cl.version()), roleClaim, d.ClaimEvents()); err != nil {
			return Result{}, err
		}
	}
	evs := d.Events()
	res, err := e.append(ctx, x, projectStream, eventstore.NoStream(), roleProject, evs)
	if err != nil {
		return Result{}, x.precondition(projectStream, err)
	}
	r := x.result(cmd.ProjectID, projectStream, res.Version, res.Position, len(evs))
	finishReport(&r, evs)
	return r, nil
}

func finishReport(r *Result, evs []domain.Event) {
	r.Created = true
	for _, ev := range evs {
		if pr, ok := domain.Unwrap(ev).(domain.ProjectReported); ok && pr.ExclusiveUntil != nil {
			u := *pr.ExclusiveUntil
			r.ExclusiveUntil = &u
		}
	}
}
