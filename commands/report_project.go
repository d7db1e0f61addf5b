package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

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
// involves several streams: the claim stream of each of the report's keys
// (domain.ExclusivityKeysOf: the normalised investor name + chain, and the
// uscc + chain when a code is given) and the new project stream.
//
//  1. Every claim stream is read and folded into one domain.ExclusivityClaims,
//     and domain.DecideReport judges the report against it at now — the
//     moment the report is recorded. Judging by every key is what keeps a
//     competitor from dodging a holder by leaving the code out (or putting
//     it in): a holder with a code is found under its code and its name, a
//     holder without one under its name.
//  2. A report that earns first-negotiation rights appends its
//     ExclusivityClaimed to each claim stream, in key order, each with the
//     version it read as the expected version, before the project exists.
//     Any two reports that must not both win (domain.SameInvestor) share a
//     key — the code when both have the same one, else the name — so both
//     read and append that stream at the same version; the store lets
//     exactly one append, and the other reloads every stream and decides
//     again — now against the winner's claim, so it is rejected. The race is
//     settled by the store, across processes and API nodes, not by memory.
//     The fixed order means two reports contending for two streams meet
//     them in the same order, so neither can keep the other retrying.
//  3. The project's first event is appended to its new stream ("no stream").
//
// A report rejected for a conflict is kept on record for the centre
// (DOMAIN.md: "the attempt itself is kept on record"): ReportRejected is
// appended to the stream of the conflict's key and the handler returns the
// domain's *ExclusivityConflictError (holder unit, holder project, end of
// window). It is the one deliberate exception to "a rejected command appends
// nothing". The rejection is appended with no expected version: it records
// a refusal already justified by a claim in the stream, which no later
// append can undo, so it need not compete with other writers.
//
// Claims on two streams cannot be appended atomically. A report that claimed
// the first of its streams and then lost the race for the second (a
// competitor with the same code under another name claimed it) is rejected
// on the retry; its rejection is then appended to the stream it had already
// claimed too, which voids that half-made claim (domain.ExclusivityClaims),
// so it blocks no one. A report that loses a race and, deciding again, is
// still accepted completes the claim it started, under the window it
// started with (even if the retry finds its own unit holding the investor
// meanwhile: a half-made claim is finished or voided, never left half).
//
// Reports that make no claim — not major, the window already over for a
// backdated report, or the holder's own unit reporting the same investor
// again (which the domain accepts without extending the window) — append
// nothing to the claim streams. They take effect as of their read of them:
// such a report racing a competitor's claim is accepted as if it had come
// first, which it may have, and which grants no rights a claim could
// conflict with.
//
// If the process dies after a claim is appended and before the project is
// (or a report loses so many races in a row that its retries run out
// between its claims), the claim stands without its project. A retry with the same
// Idempotency-Key finds its own claims, completes any missing one and the
// report; without a key the centre sees a claim whose project does not
// exist, and it holds its window (a claim cannot tell a crash from a slow
// report, and letting it lapse silently would let a competitor in
// unseen). A keyed report that was rejected answers its recorded rejection
// again on every retry with the key — the first answer, as for any keyed
// command — and completes the record of it if the first attempt died
// half-way.
func (h reportProjectHandler) Handle(ctx context.Context, c ReportProject) (Result, error) {
	if err := authorizeUnit(c.Meta.Actor, OpReportProject, c.Unit); err != nil {
		return Result{}, err
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		cmd := domain.ReportProject{ProjectID: x.entityID(), Name: c.Name, Unit: c.Unit, Investor: c.Investor,
			IndustryChain: c.IndustryChain, PlannedInvestment: c.PlannedInvestment, SourceChannel: c.SourceChannel,
			Referrer: c.Referrer, LeadOfficial: c.LeadOfficial, OccurredAt: c.OccurredAt}
		keys := cmd.ExclusivityKeys()
		streams := make([]string, len(keys))
		for i, k := range keys {
			streams[i] = domain.ExclusivityStream(k)
		}
		unlock, err := h.e.locks.lockAll(ctx, streams...)
		if err != nil {
			return Result{}, err
		}
		defer unlock()
		for attempt := 0; ; attempt++ {
			r, err := h.once(ctx, x, cmd, keys)
			if err == nil || !h.e.retry(ctx, x, err, attempt) {
				return r, err
			}
		}
	})
}

// claimStream is one claim stream of a report as one attempt read it, with
// this execution's own claim and rejection found in it.
type claimStream struct {
	key, stream string
	l           *loaded
	own         *domain.ExclusivityClaimed
	rejected    *domain.ReportRejected
}

// Event roles of a report's claim and rejection in the stream of key: one
// per stream, so the ids of the copies differ.
func claimRole(key string) string     { return roleClaim + ":" + key }
func rejectionRole(key string) string { return roleRejection + ":" + key }

// ownIn finds this execution's first event of role among ids. Unlike
// findOwn it also looks when the command has no idempotency key: a report
// writes several streams in turn, so even an unkeyed one meets, when it
// decides again after a lost race, the claims it made before.
func (x *exec) ownIn(ids []uuid.UUID, role string) (int, bool) {
	id := x.eventID(role, 0)
	for i := range ids {
		if ids[i] == id {
			return i, true
		}
	}
	return 0, false
}

func (h reportProjectHandler) once(ctx context.Context, x *exec, cmd domain.ReportProject, keys []string) (Result, error) {
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
			return Result{}, &domain.AlreadyExistsError{What: "project", ID: cmd.ProjectID}
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
	if uerr := e.requireUnits(ctx, unitRef{field: "unit", code: cmd.Unit}); uerr != nil {
		if !errors.Is(uerr, domain.ErrValidation) {
			return Result{}, uerr
		}
		return Result{}, mergeValidation(cmd.Validate(pol, now), uerr)
	}

	// This execution's own claims and rejection, recorded by an earlier
	// attempt (a keyed retry, or a decision lost to a race on a later
	// stream), are not judged against: the attempt completes or voids what
	// the earlier one started.
	var (
		claims    domain.ExclusivityClaims
		own       *domain.ExclusivityClaimed
		rejection *domain.ReportRejected
	)
	streams := make([]claimStream, len(keys))
	for i, k := range keys {
		cs := &streams[i]
		cs.key, cs.stream = k, domain.ExclusivityStream(k)
		if cs.l, err = e.load(ctx, cs.stream); err != nil {
			return Result{}, err
		}
		claimAt, claimed := x.ownIn(cs.l.ids, claimRole(k))
		rejAt, rejected := x.ownIn(cs.l.ids, rejectionRole(k))
		for j, d := range cs.l.events {
			if d == nil {
				continue
			}
			switch ev := domain.Unwrap(d).(type) {
			case domain.ExclusivityClaimed:
				if claimed && j == claimAt {
					cs.own = &ev
					own = &ev
					continue
				}
			case domain.ReportRejected:
				if rejected && j == rejAt {
					cs.rejected = &ev
					rejection = &ev
				}
			}
			claims.Apply(d)
		}
	}
	if rejection != nil {
		return Result{}, h.reject(ctx, x, streams, *rejection)
	}

	d, err := domain.DecideReport(cmd, &claims, pol, now)
	var conflict *domain.ExclusivityConflictError
	if errors.As(err, &conflict) {
		return Result{}, h.reject(ctx, x, streams, domain.RejectionRecord(cmd, conflict))
	}
	if err != nil {
		return Result{}, err
	}
	var missing []domain.ExclusivityClaimed
	if own != nil {
		// Complete the claim an earlier attempt started, as it was made.
		until := own.Until
		d.Reported.ExclusiveUntil = &until
		for _, k := range keys {
			cl := *own
			cl.Key = k
			missing = append(missing, cl)
		}
	} else {
		missing = d.Claims
	}
	// A conflict on any claim stream is a competing report: the loop
	// reloads every stream and decides again. It is never the caller's
	// If-Match, which names the project.
	for _, cl := range missing {
		for i := range streams {
			cs := &streams[i]
			if cs.key != cl.Key || cs.own != nil {
				continue
			}
			if _, err := e.append(ctx, x, cs.stream, eventstore.Exact(cs.l.version()), claimRole(cs.key), []domain.Event{cl}); err != nil {
				return Result{}, err
			}
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

// reject records a rejected report and returns its conflict: the record goes
// to the stream of the conflict's key (where the holder's claim is), and to
// every stream this execution had already claimed, where it voids the
// half-made claim. A stream that already holds this execution's record (a
// keyed retry of a rejected report, or an attempt that died half-way) is
// not written again.
func (h reportProjectHandler) reject(ctx context.Context, x *exec, streams []claimStream, rec domain.ReportRejected) error {
	// Until in the configured zone, as every answer gives times.
	conflict := &domain.ExclusivityConflictError{Key: rec.Key, HolderUnit: rec.HolderUnit,
		HolderProject: rec.HolderProject, Until: rec.Until.In(h.e.loc)}
	holderRead := false
	for _, cs := range streams {
		if cs.key == rec.Key {
			holderRead = true
		}
		if cs.key != rec.Key && cs.own == nil || cs.rejected != nil {
			continue
		}
		if _, err := h.e.append(ctx, x, cs.stream, eventstore.Any(), rejectionRole(cs.key), []domain.Event{rec}); err != nil {
			return err
		}
	}
	if !holderRead {
		// The domain names the key of a claim it was given, always one of
		// the streams read; this keeps the record with the holder anyway.
		if _, err := h.e.append(ctx, x, domain.ExclusivityStream(rec.Key), eventstore.Any(), rejectionRole(rec.Key),
			[]domain.Event{rec}); err != nil {
			return err
		}
	}
	return conflict
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
