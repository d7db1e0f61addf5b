// Package domain is the pure core of zhaoshang, the ledger of a city's
// investment-attraction work (招商引资): value types, the events, the policy and
// the aggregates, with every rule of ../shared/design/DOMAIN.md and a comment
// citing the policy clause it comes from.
//
// Nothing here does I/O, reads a clock or imports another package of this
// module. Time is passed in: decide functions take now (the moment the command
// is being recorded, in the server's configured zone, e.g.
// time.Now().In(loc)); functions that reason about civil dates take a
// *time.Location.
//
// # Where things are
//
//   - events.go: the event structs, their stable type names (Type…), the
//     explicit registry EventTypes / Decode / DecodeWith, and Unwrap.
//   - streams.go: stream names (ProjectStream, ExclusivityStream, …).
//   - values.go, money.go, date.go, normalise.go: unit codes and kinds, roles,
//     stages, the enumerations, Money with overflow-safe arithmetic and exact
//     USD→CNY conversion, tiers, civil dates, investor-name normalisation.
//   - policy.go: Policy, DefaultPolicy, Validate, and the Policies aggregate.
//   - project.go, correction.go: the Project aggregate (stage order, signing,
//     amendments, transfers, corrections).
//   - exclusivity.go: 首报首谈 — ReportProject, the ExclusivityClaims aggregate
//     and DecideReport.
//   - rules.go: pure alert rules the read side calls (late records, signing
//     filing lead time, overdue commitments, stale projects, rates).
//   - credit.go, period.go: what a project contributes to each indicator in a
//     period ("2024", "2024-Q2", "2024-05", "2024-W18"), and to which units
//     (transfer credit).
//   - supervision.go, tolerance.go, targets.go, units.go, assessment.go,
//     ranking.go: the other aggregates and the scoring functions.
//   - errors.go: the sentinels (ErrValidation, ErrInvalidTransition,
//     ErrNotFound, ErrExclusivityConflict, …) and their detailed types.
//
// # Deciding and evolving
//
// Each aggregate has an Apply(Event) that folds a fact without validating it
// (events are facts; a replay must never fail) and a Decide that checks a
// command against the state, the policy and now, returning the events to
// append or a typed error. Decide never mutates the state: the caller appends
// the events with the expected version it loaded and then applies them. A
// Decide that returns no events and no error means "nothing to record" (an
// identical re-PUT of a unit, targets or policy).
//
// Reporting a project involves the claim streams of the investor + chain —
// one per key of cmd.ExclusivityKeys(): the normalised name key, and the uscc
// key when a code is given — and the new project stream. DecideReport judges
// the report against the claims of all those streams (SameInvestor: same code
// when both sides have one, else same normalised name); the commands layer
// appends each claim (if any) to its own stream with the expected version it
// read, in key order, which is what makes two simultaneous reports unable to
// both win, then the project's first event. On *ExclusivityConflictError it
// appends RejectionRecord(cmd, conflict) to the stream of conflict.Key
// instead (and to any stream it had already claimed, voiding that half-made
// claim). A report that creates no claim (not major, or the holder's own unit
// again) leaves the claim streams untouched.
//
// Decide functions that name a unit check its syntax only; whether the unit is
// registered is asked of the Units state with Units.Require, which the commands
// layer has loaded anyway to authorise the actor.
package domain
