package projections

import (
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The tolerance view (容错免责, Jiaxing 2024 三(四)): every case with the
// ledger's evaluation, check by check, computed by domain.EvaluateTolerance
// over the project's events as the ledger knows them — with their
// positions and recorded_at, because evidence recorded after the fact
// never counts — and the discipline commission's decision.

type caseEntry struct {
	seq        uint32
	id         string
	c          domain.ToleranceCase
	projectID  string
	unit       domain.UnitCode
	eval       domain.Evaluation
	evalAt     eventstore.Position
	decidedBy  string
	decidedRec time.Time
	version    uint64
	pos        eventstore.Position
}

type toleranceState struct {
	byID  map[string]*caseEntry
	bySeq []*caseEntry
}

func newToleranceState() toleranceState { return toleranceState{byID: map[string]*caseEntry{}} }

// evidenceTypes are the project events EvaluateTolerance weighs; keeping
// only them (in log order) gives the same evaluation as the whole stream.
func isEvidence(e domain.Event) bool {
	switch e.(type) {
	case domain.DueProcessRecorded, domain.ContractSigned, domain.ProjectTerminated, domain.DetailsCorrected:
		return true
	}
	return false
}

func (v *Views) tolProjectEvent(en *projectEntry, d *decoded, e domain.Event) {
	if !isEvidence(e) {
		return
	}
	en.evidence = append(en.evidence, evidenceRec{pos: d.Position, recorded: d.RecordedAt, e: e})
	for _, seq := range en.cases {
		v.evaluate(v.tol.bySeq[seq], en, d.Position)
	}
}

// evidenceRec is one event EvaluateTolerance weighs, kept compact: every
// project keeps its own, and few ever have a case.
type evidenceRec struct {
	pos      eventstore.Position
	recorded time.Time
	e        domain.Event
}

func (v *Views) evaluate(c *caseEntry, en *projectEntry, at eventstore.Position) {
	var evs []domain.RecordedEvent
	if en != nil {
		evs = make([]domain.RecordedEvent, len(en.evidence))
		for i, r := range en.evidence {
			evs[i] = domain.RecordedEvent{Position: r.pos.String(), OccurredAt: r.e.Occurred(), RecordedAt: r.recorded, Event: r.e}
		}
	}
	c.eval = domain.EvaluateTolerance(evs)
	c.evalAt = at
	v.applied[vTol]++
	if v.touch != nil {
		v.touch.Cases[c.id] = struct{}{}
	}
}

func (v *Views) applyCase(d *decoded) {
	ts := &v.tol
	id := streamID(d.Stream)
	c := ts.byID[id]
	if c == nil {
		id = strings.Clone(id) // see projectsState.create
		c = &caseEntry{seq: uint32(len(ts.bySeq)), id: id}
		ts.byID[id] = c
		ts.bySeq = append(ts.bySeq, c)
	}
	v.subj = subjCase | c.seq
	e := domain.Unwrap(d.Data)
	c.c.Apply(e)
	c.version, c.pos = d.Version, d.Position
	switch x := e.(type) {
	case domain.ToleranceRequested:
		if c.projectID == "" {
			c.projectID, c.unit = x.ProjectID, x.Unit
			en := v.proj.byID[x.ProjectID]
			if en != nil {
				en.cases = append(en.cases, c.seq)
			}
			v.evaluate(c, en, d.Position)
		}
	case domain.ToleranceDecided:
		if c.decidedRec.IsZero() {
			c.decidedBy, c.decidedRec = strings.Clone(d.Actor.Subject), d.RecordedAt
		}
		v.applied[vTol]++
	}
	if v.touch != nil {
		v.touch.Cases[c.id] = struct{}{}
	}
}

// CaseDecision is the discipline commission's decision on a case.
type CaseDecision struct {
	Decision  domain.ToleranceDecision `json:"decision"`
	Rationale string                   `json:"rationale"`
	By        string                   `json:"by"`
	At        time.Time                `json:"at"`
}

// CaseItem is a tolerance case (API.md "Tolerance case").
type CaseItem struct {
	ID          string            `json:"id"`
	ProjectID   string            `json:"project_id"`
	Unit        domain.UnitCode   `json:"unit"`
	Grounds     string            `json:"grounds"`
	RequestedAt time.Time         `json:"requested_at"`
	Status      string            `json:"status"`
	Evaluation  domain.Evaluation `json:"evaluation"`
	// EvaluatedAt is the position of the last event the evaluation weighed.
	EvaluatedAt eventstore.Position `json:"evaluated_at"`
	Decision    *CaseDecision       `json:"decision"`
	Version     uint64              `json:"version"`
	Position    eventstore.Position `json:"position"`
}

func (c *caseEntry) item() CaseItem {
	req, _ := c.c.Request()
	it := CaseItem{ID: c.id, ProjectID: c.projectID, Unit: c.unit, Grounds: req.Grounds, RequestedAt: req.OccurredAt,
		Status: c.c.Status(), Evaluation: cloneEvaluation(c.eval), EvaluatedAt: c.evalAt, Version: c.version, Position: c.pos}
	if dec, ok := c.c.Decision(); ok {
		it.Decision = &CaseDecision{Decision: dec.Decision, Rationale: dec.Rationale, By: c.decidedBy, At: dec.OccurredAt}
	}
	return it
}

func cloneEvaluation(e domain.Evaluation) domain.Evaluation {
	out := domain.Evaluation{Eligible: e.Eligible, Checks: make([]domain.Check, len(e.Checks))}
	for i, c := range e.Checks {
		c.Evidence = append([]string{}, c.Evidence...)
		out.Checks[i] = c
	}
	return out
}

// CaseQuery selects tolerance cases.
type CaseQuery struct {
	// Status keeps open or decided cases.
	Status    string
	ProjectID string
	Unit      domain.UnitCode
	Limit     int
	Cursor    string
}

// CasePage is a page of cases in the order they were requested.
type CasePage struct {
	Position   eventstore.Position `json:"-"`
	Items      []CaseItem          `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// Cases answers GET /tolerance/cases.
func (v *Views) Cases(q CaseQuery) (CasePage, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return CasePage{}, err
	}
	switch q.Status {
	case "", domain.CaseOpen, domain.CaseDecided:
	default:
		return CasePage{}, queryError("status must be open or decided")
	}
	var from uint64
	tag := cursorTag("t", q.Status, q.ProjectID, string(q.Unit))
	if q.Cursor != "" {
		if from, err = decodeCursor(q.Cursor, tag); err != nil {
			return CasePage{}, err
		}
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	page := CasePage{Position: v.pos, Items: []CaseItem{}}
	var last uint32
	for _, c := range v.tol.bySeq[min(int(from), len(v.tol.bySeq)):] {
		if !c.c.Exists() || (q.Status != "" && c.c.Status() != q.Status) ||
			(q.ProjectID != "" && c.projectID != q.ProjectID) || (q.Unit != "" && c.unit != q.Unit) {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(tag, uint64(last)+1)
			break
		}
		page.Items = append(page.Items, c.item())
		last = c.seq
	}
	return page, nil
}

// Case returns one case.
func (v *Views) Case(id string) (CaseItem, eventstore.Position, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c := v.tol.byID[id]
	if c == nil || !c.c.Exists() {
		return CaseItem{}, v.pos, false
	}
	return c.item(), v.pos, true
}
