package domain

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ToleranceCase is the state of one tolerance stream (容错免责,
// tolerance-<uuid>; Jiaxing 2024 三(四), Xiamen 三(五)2 完善容错纠错机制).
type ToleranceCase struct {
	// id is the case id of the stream, when the caller said
	// (NewToleranceCase), so that a not-found error names it.
	id        string
	requested *ToleranceRequested
	decided   *ToleranceDecided
}

// Case status values.
const (
	CaseOpen    = "open"
	CaseDecided = "decided"
)

// NewToleranceCase returns an empty case to fold the stream of case id into:
// if the stream turns out to be empty, DecideDecision's *NotFoundError names
// id. The zero ToleranceCase is usable too; its not-found error has no id.
func NewToleranceCase(id string) *ToleranceCase { return &ToleranceCase{id: id} }

// Apply folds one event; other events are ignored.
func (c *ToleranceCase) Apply(e Event) {
	switch e := Unwrap(e).(type) {
	case ToleranceRequested:
		if c.requested == nil {
			r := e
			c.requested = &r
		}
	case ToleranceDecided:
		if c.decided == nil {
			d := e
			c.decided = &d
		}
	}
}

// Exists reports whether the case was requested.
func (c *ToleranceCase) Exists() bool { return c.requested != nil }

// Request returns the request.
func (c *ToleranceCase) Request() (ToleranceRequested, bool) {
	if c.requested == nil {
		return ToleranceRequested{}, false
	}
	return *c.requested, true
}

// Decision returns the decision, if decided.
func (c *ToleranceCase) Decision() (ToleranceDecided, bool) {
	if c.decided == nil {
		return ToleranceDecided{}, false
	}
	return *c.decided, true
}

// Status is open or decided ("" before the request).
func (c *ToleranceCase) Status() string {
	switch {
	case c.requested == nil:
		return ""
	case c.decided != nil:
		return CaseDecided
	}
	return CaseOpen
}

// RequestTolerance is POST /tolerance/cases (owner unit or centre).
type RequestTolerance struct {
	CaseID    string `json:"-"`
	ProjectID string `json:"project_id"`
	Grounds   string `json:"grounds"`
}

// DecideTolerance is POST /tolerance/cases/{id}/decision (discipline only,
// checked in commands).
type DecideTolerance struct {
	Decision  ToleranceDecision `json:"decision"`
	Rationale string            `json:"rationale"`
}

// DecideRequest opens a case for project. Jiaxing 2024 三(四) grants tolerance
// for a project whose negotiation ended or that was built but not invested or
// invested below expectation — outcomes that only exist once the project has
// ended — so a case can only be opened for a terminated project. Grounds are
// required. Whether the case is eligible is advised by EvaluateTolerance, not
// decided here: any terminated project may ask.
func (c *ToleranceCase) DecideRequest(cmd RequestTolerance, project *Project, now time.Time) ([]Event, error) {
	if c.requested != nil {
		return nil, &AlreadyExistsError{What: "tolerance case", ID: c.requested.CaseID}
	}
	var v validator
	checkID(&v, "id", cmd.CaseID)
	checkID(&v, "project_id", cmd.ProjectID)
	checkText(&v, "grounds", cmd.Grounds, true, maxSummary)
	if err := v.err(); err != nil {
		return nil, err
	}
	if project == nil || !project.Exists() {
		return nil, &NotFoundError{What: "project", ID: cmd.ProjectID}
	}
	if project.ID() != cmd.ProjectID {
		return nil, ValidationErrors{{Field: "project_id", Rule: "mismatch", Message: "does not match the loaded project"}}
	}
	if project.Stage() != StageTerminated {
		return nil, transition("project", string(project.Stage()), "request tolerance for",
			"fault tolerance applies to a terminated project (Jiaxing 2024 三(四))")
	}
	return []Event{ToleranceRequested{CaseID: cmd.CaseID, ProjectID: cmd.ProjectID, Unit: project.Unit(),
		Grounds: cmd.Grounds, OccurredAt: now}}, nil
}

// DecideDecision records the discipline commission's decision: exempt (免责),
// reduced (减责) or rejected, with a rationale, once (Jiaxing 2024 三(四)
// "按有关规定实行容错免责减责"). The evaluation advises; this is the decision.
func (c *ToleranceCase) DecideDecision(cmd DecideTolerance, now time.Time) ([]Event, error) {
	if c.requested == nil {
		return nil, &NotFoundError{What: "tolerance case", ID: c.id}
	}
	if c.decided != nil {
		return nil, &TransitionError{Aggregate: "tolerance case", From: CaseDecided, Action: "decide",
			Reason: "the case is already decided"}
	}
	var v validator
	if cmd.Decision == "" {
		v.add("decision", "required", "is required")
	} else if !cmd.Decision.Valid() {
		v.add("decision", "unknown", "must be exempt, reduced or rejected")
	}
	checkText(&v, "rationale", cmd.Rationale, true, maxSummary)
	if err := v.err(); err != nil {
		return nil, err
	}
	return []Event{ToleranceDecided{CaseID: c.requested.CaseID, ProjectID: c.requested.ProjectID,
		Decision: cmd.Decision, Rationale: cmd.Rationale, OccurredAt: now}}, nil
}

// ---- evaluation (pure, for the read side) ----

// RecordedEvent is an event with the facts of its envelope the evaluation
// needs: its position in the global log, its business time and when the ledger
// learned it. The domain does not import the event store; the caller copies
// these in, in log order.
type RecordedEvent struct {
	Position   string
	OccurredAt time.Time
	RecordedAt time.Time
	Event      Event
}

// Check is one check of an evaluation, with the positions of the events that
// prove or refute it.
type Check struct {
	Name     string   `json:"name"`
	Passed   bool     `json:"passed"`
	Detail   string   `json:"detail"`
	Evidence []string `json:"evidence"`
}

// Evaluation is the ledger's advice on a tolerance case.
type Evaluation struct {
	Eligible bool    `json:"eligible"`
	Checks   []Check `json:"checks"`
}

// Tolerance check names (DOMAIN.md "Tolerance of error").
const (
	CheckTerminationKind    = "termination_kind"
	CheckDueProcess         = "due_process"
	CheckObjectiveCause     = "objective_cause"
	CheckNoHiddenCorrection = "no_hidden_correction"
)

func (r RecordedEvent) occurred() time.Time {
	if !r.OccurredAt.IsZero() {
		return r.OccurredAt
	}
	if r.Event != nil {
		return r.Event.Occurred()
	}
	return time.Time{}
}

// EvaluateTolerance evaluates a project's events (its whole stream, in log
// order, as known at the moment of evaluation) against Jiaxing 2024 三(四)
// ("在对项目准入进行科学论证、风险评估、集体决策流程后，确因国家政策调整、
// 市场变化、不可抗力等客观因素导致项目洽谈终止或建而未投、投而未达预期"). Audit
// judges by recorded_at (DOMAIN.md "Time"): evidence entered after the fact
// never counts. The four checks:
//
//  1. termination_kind: the project terminated as negotiation_ended,
//     built_not_invested or below_expectation;
//  2. due_process: feasibility_study, risk_assessment and collective_decision
//     were each recorded before the decision they justify was recorded (the
//     signing, or the termination when never signed) and dated no later than
//     it — no later than its corrected date too, when a correction moved the
//     signing earlier (the correction is then part of the evidence);
//  3. objective_cause: the cause is policy_change, market_change or
//     force_majeure;
//  4. no_hidden_correction: no correction of the project was recorded after the
//     termination. Every correction is in the log, so none is hidden; the
//     check fails when there is any, and lists them, so the reviewer weighs
//     each one instead of trusting the corrected record.
//
// Eligible is true when all four pass. The evaluation advises; the reviewer
// decides (ToleranceDecided).
func EvaluateTolerance(events []RecordedEvent) Evaluation {
	var (
		term, sign       = -1, -1
		termEv           ProjectTerminated
		recordedBeforeIx = func(i, j int) bool { // i recorded before j
			return i < j && !events[i].RecordedAt.After(events[j].RecordedAt)
		}
	)
	for i, r := range events {
		switch e := Unwrap(r.Event).(type) {
		case ProjectTerminated:
			if term < 0 {
				term, termEv = i, e
			}
		case ContractSigned:
			if sign < 0 {
				sign = i
			}
		}
	}
	pos := func(i int) string { return events[i].Position }

	// 1. termination kind
	c1 := Check{Name: CheckTerminationKind, Evidence: []string{}}
	switch {
	case term < 0:
		c1.Detail = "the project has not terminated"
	case termEv.Kind.ToleranceRelevant():
		c1.Passed = true
		c1.Detail = fmt.Sprintf("terminated as %s", termEv.Kind)
		c1.Evidence = append(c1.Evidence, pos(term))
	default:
		c1.Detail = fmt.Sprintf("terminated as %s, not a case Jiaxing 2024 三(四) names", termEv.Kind)
		c1.Evidence = append(c1.Evidence, pos(term))
	}

	// 2. due process recorded before the decision
	c2 := Check{Name: CheckDueProcess, Evidence: []string{}}
	decision, what := sign, "signing"
	if decision < 0 {
		decision, what = term, "termination"
	}
	// The decision's date as recorded, or as the last correction of
	// signed_at gives it if that is earlier: a signing corrected to an
	// earlier date came before what it was recorded at, and evidence dated
	// after that was not before the decision. A correction a later one
	// undid does not count.
	decidedBy, moved := time.Time{}, -1
	if decision >= 0 {
		decidedBy = events[decision].occurred()
	}
	if sign >= 0 {
		last, lastAt := -1, time.Time{}
		for i, r := range events {
			dc, ok := Unwrap(r.Event).(DetailsCorrected)
			if !ok || dc.Field != FieldSignedAt {
				continue
			}
			var t time.Time
			if json.Unmarshal(dc.Value, &t) == nil && !t.IsZero() {
				last, lastAt = i, t
			}
		}
		if last >= 0 && lastAt.Before(decidedBy) {
			decidedBy, moved = lastAt, last
		}
	}
	if decision < 0 {
		c2.Detail = "no signing or termination to justify"
	} else {
		var missing, late []string
		var proof, refute []string
		for _, kind := range DueProcessKinds() {
			found := false
			var lateHere []string
			for i, r := range events {
				dp, ok := Unwrap(r.Event).(DueProcessRecorded)
				if !ok || dp.Kind != kind {
					continue
				}
				if recordedBeforeIx(i, decision) && !r.occurred().After(decidedBy) {
					if !found {
						proof = append(proof, pos(i))
					}
					found = true
				} else {
					lateHere = append(lateHere, pos(i))
				}
			}
			if !found {
				if len(lateHere) > 0 {
					late = append(late, string(kind))
					refute = append(refute, lateHere...)
				} else {
					missing = append(missing, string(kind))
				}
			}
		}
		c2.Passed = len(missing) == 0 && len(late) == 0
		if c2.Passed {
			c2.Detail = "feasibility study, risk assessment and collective decision recorded before the " + what
			c2.Evidence = append(append(c2.Evidence, proof...), pos(decision))
			if moved >= 0 {
				c2.Evidence = append(c2.Evidence, pos(moved))
			}
		} else {
			var parts []string
			if len(missing) > 0 {
				parts = append(parts, "missing: "+strings.Join(missing, ", "))
			}
			if len(late) > 0 {
				parts = append(parts, "recorded or dated after the "+what+": "+strings.Join(late, ", "))
			}
			if moved >= 0 {
				parts = append(parts, fmt.Sprintf("the signing's date was corrected to %s", decidedBy.Format(time.DateOnly)))
			}
			c2.Detail = strings.Join(parts, "; ")
			c2.Evidence = append(append(append(c2.Evidence, proof...), refute...), pos(decision))
			if moved >= 0 {
				c2.Evidence = append(c2.Evidence, pos(moved))
			}
		}
	}

	// 3. objective cause
	c3 := Check{Name: CheckObjectiveCause, Evidence: []string{}}
	switch {
	case term < 0:
		c3.Detail = "the project has not terminated"
	case termEv.Cause.Objective():
		c3.Passed = true
		c3.Detail = fmt.Sprintf("cause %s is objective", termEv.Cause)
		c3.Evidence = append(c3.Evidence, pos(term))
	default:
		c3.Detail = fmt.Sprintf("cause %s is not one of policy_change, market_change, force_majeure", termEv.Cause)
		c3.Evidence = append(c3.Evidence, pos(term))
	}

	// 4. corrections after termination
	c4 := Check{Name: CheckNoHiddenCorrection, Evidence: []string{}}
	if term < 0 {
		c4.Detail = "the project has not terminated"
	} else {
		var fields []string
		for i, r := range events {
			dc, ok := Unwrap(r.Event).(DetailsCorrected)
			if !ok {
				continue
			}
			if i > term || r.RecordedAt.After(events[term].RecordedAt) {
				c4.Evidence = append(c4.Evidence, pos(i))
				fields = append(fields, string(dc.Field))
			}
		}
		c4.Passed = len(fields) == 0
		if c4.Passed {
			c4.Detail = "no correction recorded after the termination"
		} else {
			c4.Detail = fmt.Sprintf("%d correction(s) recorded after the termination (%s), shown for the reviewer",
				len(fields), strings.Join(fields, ", "))
		}
	}

	checks := []Check{c1, c2, c3, c4}
	ev := Evaluation{Eligible: true, Checks: checks}
	for _, c := range checks {
		ev.Eligible = ev.Eligible && c.Passed
	}
	return ev
}
