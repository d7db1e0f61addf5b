package domain

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Project is the state of one project stream, folded from its events by Apply.
// Its fields are unexported: only Apply changes it, and Apply never validates
// (events are facts). Decide checks a command against it. Snapshot gives the
// read side a copy of everything.
type Project struct {
	// summary: the negotiations and due-process records are counted, not
	// kept (NewProjectSummary). It comes first, with the snapshot's most
	// touched fields after it: folding a talk reads it.
	summary bool
	s       ProjectSnapshot
	// stream is the id of the stream the project is folded from, when the
	// caller said (NewProjectFor), so that Decide on a project that does
	// not exist yet can name it.
	stream string
}

// ProjectSnapshot is a deep copy of a project's state for readers. Times are
// business times (occurred_at) as recorded, corrections applied.
type ProjectSnapshot struct {
	ID    string `json:"id"`
	Stage Stage  `json:"stage"`
	// Funds is here, beside Stage, because a third of a ledger's events are
	// arrivals: a read model folding 50k projects then finds the list's
	// header in the cache line it has just read.
	Funds []FundsArrived `json:"funds"`
	// NegotiationCount, Events and the two latest times are here too: talks
	// are four in ten of a ledger's events, and folding one touches only
	// these.
	NegotiationCount int `json:"negotiation_count"`
	// Events is how many events were applied.
	Events int `json:"events"`
	// LastOccurredAt is the latest business time of any project event.
	LastOccurredAt time.Time `json:"last_occurred_at"`
	// LastProgressAt is the latest business time of an event that moves the
	// project: any but a correction of its details, which fixes the record
	// rather than advancing the project (the stale rule waits for progress).
	LastProgressAt time.Time `json:"last_progress_at"`

	Name              string        `json:"name"`
	Unit              UnitCode      `json:"unit"`       // current owner
	FirstUnit         UnitCode      `json:"first_unit"` // the unit that reported it (首谈地)
	Investor          Investor      `json:"investor"`
	IndustryChain     string        `json:"industry_chain"`
	PlannedInvestment Money         `json:"planned_investment"`
	SourceChannel     SourceChannel `json:"source_channel"`
	Referrer          string        `json:"referrer"`
	LeadOfficial      string        `json:"lead_official"`
	Major             bool          `json:"major"`
	ExclusivityKey    string        `json:"exclusivity_key"`
	ExclusiveUntil    *time.Time    `json:"exclusive_until"`
	PolicyVersion     int           `json:"policy_version"` // policy version the report was judged under

	ReportedAt   time.Time `json:"reported_at"`
	SignedAt     time.Time `json:"signed_at"` // zero until signed
	RegisteredAt time.Time `json:"registered_at"`
	StartedAt    time.Time `json:"started_at"`
	ProducingAt  time.Time `json:"producing_at"`
	TerminatedAt time.Time `json:"terminated_at"`

	// Negotiations and DueProcess are empty in a summary project
	// (NewProjectSummary), which keeps what the rules read of them:
	// NegotiationCount, how many negotiations were recorded, and
	// DueProcessDone, which kinds of due-process record exist.
	Negotiations   []NegotiationRecorded `json:"negotiations"`
	DueProcess     []DueProcessRecorded  `json:"due_process"`
	DueProcessDone DueProcessFlags       `json:"due_process_done"`
	Filings        []SigningFiled        `json:"filings"`
	// Signing is the signing as recorded, its contract figure corrected when a
	// correction targeted it. ContractInvestment is the current figure (signing
	// or last amendment).
	Signing            *ContractSigned      `json:"signing"`
	ContractInvestment *Money               `json:"contract_investment"`
	Amendments         []ContractAmended    `json:"amendments"`
	Transfers          []ProjectTransferred `json:"transfers"`
	CompanyUSCC        string               `json:"company_uscc"`
	RegisteredCapital  *Money               `json:"registered_capital"`
	PermitNo           string               `json:"permit_no"`
	Termination        *ProjectTerminated   `json:"termination"`
	Corrections        []DetailsCorrected   `json:"corrections"`
}

// NewProject returns an empty project (no stream yet).
func NewProject() *Project { return &Project{} }

// NewProjectSummary returns an empty project that folds everything but the
// negotiations' and due-process records themselves: its Snapshot's
// Negotiations and DueProcess are empty, NegotiationCount and DueProcessDone
// are kept, and every rule answers as for the full project. Talks are
// four in ten of a ledger's events and no rule reads their content, so
// read models that fold every project (the views) keep this leaner state;
// Decide is the same, but commands fold full projects.
func NewProjectSummary() *Project { return &Project{summary: true} }

// InitSummary makes p, which must be an empty project (a zero Project), a
// summary project in place: read models that allocate their projects in
// bulk start from zeroed memory and need write nothing else.
func (p *Project) InitSummary() { p.summary = true }

// NewProjectFor returns an empty project to fold the stream of project id
// into: if the stream turns out to be empty, Decide's *NotFoundError names id.
func NewProjectFor(id string) *Project { return &Project{stream: id} }

// FoldProject folds events into a new Project.
func FoldProject(events []Event) *Project {
	p := NewProject()
	for _, e := range events {
		p.Apply(e)
	}
	return p
}

// Exists reports whether the project has been reported.
func (p *Project) Exists() bool { return p.s.Stage != StageNone }

// ID is the project id.
func (p *Project) ID() string { return p.s.ID }

// Stage is the current stage.
func (p *Project) Stage() Stage { return p.s.Stage }

// Unit is the current owner.
func (p *Project) Unit() UnitCode { return p.s.Unit }

// FirstUnit is the unit that reported the project (首谈地); a transfer keeps it.
func (p *Project) FirstUnit() UnitCode { return p.s.FirstUnit }

// Snapshot returns a deep copy of the state.
func (p *Project) Snapshot() ProjectSnapshot {
	s := p.s
	s.Investor.Categories = slices.Clone(s.Investor.Categories)
	s.ExclusiveUntil = clonePtr(s.ExclusiveUntil)
	s.Negotiations = slices.Clone(s.Negotiations)
	for i := range s.Negotiations {
		s.Negotiations[i].Participants = slices.Clone(s.Negotiations[i].Participants)
	}
	s.DueProcess = slices.Clone(s.DueProcess)
	s.Filings = slices.Clone(s.Filings)
	if s.Signing != nil {
		c := *s.Signing
		c.ForeignInvestment = clonePtr(c.ForeignInvestment)
		c.Commitments = cloneCommitments(c.Commitments)
		s.Signing = &c
	}
	s.ContractInvestment = clonePtr(s.ContractInvestment)
	s.Amendments = slices.Clone(s.Amendments)
	s.Transfers = slices.Clone(s.Transfers)
	s.RegisteredCapital = clonePtr(s.RegisteredCapital)
	s.Funds = slices.Clone(s.Funds)
	s.Termination = clonePtr(s.Termination)
	s.Corrections = slices.Clone(s.Corrections)
	for i := range s.Corrections {
		c := &s.Corrections[i]
		c.Value = slices.Clone(c.Value)
		c.Previous = slices.Clone(c.Previous)
		c.AffectedYears = slices.Clone(c.AffectedYears)
		c.PublishedYears = slices.Clone(c.PublishedYears)
	}
	return s
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneCommitments(c Commitments) Commitments {
	c.RegisterBy = clonePtr(c.RegisterBy)
	c.StartBy = clonePtr(c.StartBy)
	c.Funds = slices.Clone(c.Funds)
	return c
}

// Apply folds one event into the state. It never validates and never fails:
// the log is the truth, and a replay must reproduce the state whatever it holds.
// Events of other aggregates are ignored.
func (p *Project) Apply(e Event) {
	s := &p.s
	switch e := Unwrap(e).(type) {
	case ProjectReported:
		if s.Stage != StageNone {
			// A project is reported once (its stream is created by the report);
			// a duplicate in a damaged log must not reset it.
			break
		}
		s.ID = e.ProjectID
		s.Stage = StageReported
		s.Name = e.Name
		s.Unit, s.FirstUnit = e.Unit, e.Unit
		s.Investor = e.Investor
		s.Investor.Categories = slices.Clone(e.Investor.Categories)
		s.IndustryChain = e.IndustryChain
		s.PlannedInvestment = e.PlannedInvestment
		s.SourceChannel, s.Referrer, s.LeadOfficial = e.SourceChannel, e.Referrer, e.LeadOfficial
		s.Major = e.Major
		s.ExclusivityKey = e.ExclusivityKey
		s.ExclusiveUntil = clonePtr(e.ExclusiveUntil)
		s.PolicyVersion = e.PolicyVersion
		s.ReportedAt = e.OccurredAt
	case NegotiationRecorded:
		if !p.summary {
			e.Participants = slices.Clone(e.Participants)
			s.Negotiations = append(s.Negotiations, e)
		}
		s.NegotiationCount++
		if s.Stage == StageReported {
			s.Stage = StageNegotiating
		}
	case DueProcessRecorded:
		if !p.summary {
			s.DueProcess = append(s.DueProcess, e)
		}
		s.DueProcessDone.set(e.Kind)
	case SigningFiled:
		s.Filings = append(s.Filings, e)
	case ContractSigned:
		c := e
		c.ForeignInvestment = clonePtr(e.ForeignInvestment)
		c.Commitments = cloneCommitments(e.Commitments)
		s.Signing = &c
		m := e.ContractInvestment
		s.ContractInvestment = &m
		s.SignedAt = e.OccurredAt
		s.advance(StageSigned)
	case ContractAmended:
		s.Amendments = append(s.Amendments, e)
		m := e.ContractInvestment
		s.ContractInvestment = &m
	case ProjectTransferred:
		s.Transfers = append(s.Transfers, e)
		s.Unit = e.ToUnit
	case CompanyRegistered:
		s.RegisteredAt = e.OccurredAt
		s.CompanyUSCC = e.CompanyUSCC
		s.RegisteredCapital = clonePtr(e.RegisteredCapital)
		s.advance(StageRegistered)
	case ConstructionStarted:
		s.StartedAt = e.OccurredAt
		s.PermitNo = e.PermitNo
		s.advance(StageStarted)
	case FundsArrived:
		if len(s.Funds) == cap(s.Funds) {
			// Funds arrive in tranches, a dozen or more over a contract's life;
			// growing the list from one slot, as append does, made its
			// copies most of a read model's allocation.
			s.Funds = slices.Grow(s.Funds, max(16, len(s.Funds)))
		}
		s.Funds = append(s.Funds, e)
	case ProductionStarted:
		s.ProducingAt = e.OccurredAt
		s.advance(StageProducing)
	case ProjectTerminated:
		t := e
		s.Termination = &t
		s.TerminatedAt = e.OccurredAt
		if s.Stage != StageNone {
			s.Stage = StageTerminated
		}
	case DetailsCorrected:
		s.applyCorrection(e)
		c := e
		c.Value = slices.Clone(e.Value)
		c.Previous = slices.Clone(e.Previous)
		s.Corrections = append(s.Corrections, c)
	default:
		return
	}
	s.Events++
	t := e.Occurred()
	if t.After(s.LastOccurredAt) {
		s.LastOccurredAt = t
	}
	if _, fix := Unwrap(e).(DetailsCorrected); !fix && t.After(s.LastProgressAt) {
		s.LastProgressAt = t
	}
}

// advance moves the stage forward only; a replayed out-of-order fact never
// moves a project backwards or out of termination.
func (s *ProjectSnapshot) advance(to Stage) {
	if s.Stage == StageNone || s.Stage == StageTerminated {
		return
	}
	if to.Order() > s.Stage.Order() {
		s.Stage = to
	}
}

// latestMilestone is the latest business time among signing, registration,
// start and production: a later stage's fact may not be dated before it.
func (s *ProjectSnapshot) latestMilestone() time.Time {
	var t time.Time
	for _, m := range []time.Time{s.SignedAt, s.RegisteredAt, s.StartedAt, s.ProducingAt} {
		if m.After(t) {
			t = m
		}
	}
	return t
}

// ---- commands ----

// ProjectCommand is a command on an existing project (all but ReportProject,
// which DecideReport handles together with the exclusivity claim).
type ProjectCommand interface{ projectCommand() }

// RecordNegotiation is POST /projects/{id}/negotiations.
type RecordNegotiation struct {
	OccurredAt   time.Time   `json:"occurred_at"`
	LeaderLevel  LeaderLevel `json:"leader_level"`
	Participants []string    `json:"participants,omitempty"`
	Summary      string      `json:"summary"`
}

// RecordDueProcess is POST /projects/{id}/due-process.
type RecordDueProcess struct {
	Kind           DueProcessKind `json:"kind"`
	OccurredAt     time.Time      `json:"occurred_at"`
	Body           string         `json:"body,omitempty"`
	Summary        string         `json:"summary"`
	DocumentRef    string         `json:"document_ref,omitempty"`
	DocumentSHA256 string         `json:"document_sha256,omitempty"`
}

// FileSigning is POST /projects/{id}/signing-filings.
type FileSigning struct {
	PlannedDate        Date   `json:"planned_date"`
	ContractInvestment Money  `json:"contract_investment"`
	Venue              string `json:"venue,omitempty"`
}

// SignContract is POST /projects/{id}/signing.
type SignContract struct {
	OccurredAt         time.Time     `json:"occurred_at"`
	ContractInvestment Money         `json:"contract_investment"`
	ForeignInvestment  *Money        `json:"foreign_investment,omitempty"`
	Agreement          AgreementKind `json:"agreement"`
	Commitments        *Commitments  `json:"commitments,omitempty"`
}

// AmendContract is POST /projects/{id}/amendments.
type AmendContract struct {
	OccurredAt         time.Time `json:"occurred_at"`
	ContractInvestment Money     `json:"contract_investment"`
	Reason             string    `json:"reason"`
}

// TransferProject is POST /projects/{id}/transfers (centre only, checked in commands).
type TransferProject struct {
	ToUnit     UnitCode  `json:"to_unit"`
	Reason     string    `json:"reason"`
	OccurredAt time.Time `json:"occurred_at"`
}

// RegisterCompany is POST /projects/{id}/registration.
type RegisterCompany struct {
	OccurredAt        time.Time `json:"occurred_at"`
	CompanyUSCC       string    `json:"company_uscc"`
	RegisteredCapital *Money    `json:"registered_capital,omitempty"`
}

// StartConstruction is POST /projects/{id}/construction-start.
type StartConstruction struct {
	OccurredAt time.Time `json:"occurred_at"`
	PermitNo   string    `json:"permit_no,omitempty"`
}

// RecordFunds is POST /projects/{id}/funds.
type RecordFunds struct {
	OccurredAt time.Time  `json:"occurred_at"`
	Amount     Money      `json:"amount"`
	Source     FundSource `json:"source"`
}

// StartProduction is POST /projects/{id}/production.
type StartProduction struct {
	OccurredAt time.Time `json:"occurred_at"`
}

// TerminateProject is POST /projects/{id}/termination.
type TerminateProject struct {
	OccurredAt  time.Time        `json:"occurred_at"`
	Kind        TerminationKind  `json:"kind"`
	Cause       TerminationCause `json:"cause"`
	Explanation string           `json:"explanation"`
}

// CorrectDetails is POST /projects/{id}/corrections. PublishedYears is not
// part of the body: the commands layer fills in the years whose assessment is
// published, so the correction can be flagged.
type CorrectDetails struct {
	Field          CorrectionField `json:"field"`
	Value          json.RawMessage `json:"value"`
	Reason         string          `json:"reason"`
	PublishedYears []int           `json:"-"`
}

func (RecordNegotiation) projectCommand() {}
func (RecordDueProcess) projectCommand()  {}
func (FileSigning) projectCommand()       {}
func (SignContract) projectCommand()      {}
func (AmendContract) projectCommand()     {}
func (TransferProject) projectCommand()   {}
func (RegisterCompany) projectCommand()   {}
func (StartConstruction) projectCommand() {}
func (RecordFunds) projectCommand()       {}
func (StartProduction) projectCommand()   {}
func (TerminateProject) projectCommand()  {}
func (CorrectDetails) projectCommand()    {}

// earliestBusinessTime bounds occurred_at from below: a date before it is a typo
// (a year 0202 for 2024), not a fact of an investment-attraction ledger.
var earliestBusinessTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// checkOccurred validates a caller-given business time: present, not absurdly
// old, and not in the future beyond the policy's clock skew (DOMAIN.md "Time":
// occurred_at may not lie in the future).
func checkOccurred(v *validator, field string, t, now time.Time, pol Policy) {
	switch {
	case t.IsZero():
		v.add(field, "required", "is required")
	case t.Before(earliestBusinessTime):
		v.add(field, "out_of_range", "must not be before 1980")
	case !encodable(t):
		v.add(field, "format", "has a zone offset that cannot be recorded")
	case t.After(now.Add(pol.ClockSkew())):
		v.add(field, "not_future", "must not be in the future")
	}
}

// encodable reports whether t survives encoding/json (which reads offsets such
// as +24:00 that it refuses to write back): a fact the store cannot encode
// must be refused as a client error, not fail the append.
func encodable(t time.Time) bool {
	_, err := t.MarshalJSON()
	return err == nil
}

// Decide checks a command against the project and the policy at time now and
// returns the events to append, or an error matching ErrNotFound,
// ErrInvalidTransition or ErrValidation. It never changes the project.
func (p *Project) Decide(cmd ProjectCommand, pol Policy, now time.Time) ([]Event, error) {
	if !p.Exists() {
		return nil, &NotFoundError{What: "project", ID: p.stream}
	}
	var (
		e   Event
		err error
	)
	switch c := cmd.(type) {
	case RecordNegotiation:
		e, err = p.decideNegotiation(c, pol, now)
	case RecordDueProcess:
		e, err = p.decideDueProcess(c, pol, now)
	case FileSigning:
		e, err = p.decideFiling(c, now)
	case SignContract:
		e, err = p.decideSigning(c, pol, now)
	case AmendContract:
		e, err = p.decideAmendment(c, pol, now)
	case TransferProject:
		e, err = p.decideTransfer(c, pol, now)
	case RegisterCompany:
		e, err = p.decideRegistration(c, pol, now)
	case StartConstruction:
		e, err = p.decideConstruction(c, pol, now)
	case RecordFunds:
		e, err = p.decideFunds(c, pol, now)
	case StartProduction:
		e, err = p.decideProduction(c, pol, now)
	case TerminateProject:
		e, err = p.decideTermination(c, pol, now)
	case CorrectDetails:
		e, err = p.decideCorrection(c, pol, now)
	default:
		return nil, ValidationErrors{{Field: "", Rule: "unknown_command", Message: "unknown project command"}}
	}
	if err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

func (p *Project) refuse(action, reason string) error {
	return transition("project", string(p.s.Stage), action, reason)
}

// requireActive refuses any fact after termination (DOMAIN.md "The project
// lifecycle": terminated is terminal).
func (p *Project) requireActive(action string) error {
	if p.s.Stage == StageTerminated {
		return p.refuse(action, "the project is terminated")
	}
	return nil
}

// NegotiationRecorded: allowed at every active stage (rounds after signing, or a
// late record of an earlier round, do not move the stage); the first moves
// reported → negotiating.
func (p *Project) decideNegotiation(c RecordNegotiation, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("record a negotiation for"); err != nil {
		return nil, err
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	if c.LeaderLevel == "" {
		v.add("leader_level", "required", "is required")
	} else if !c.LeaderLevel.Valid() {
		v.add("leader_level", "unknown", "must be principal, deputy or department")
	}
	if len(c.Participants) > 200 {
		v.add("participants", "too_many", "has more than 200 entries")
	}
	for i, s := range c.Participants {
		checkText(&v, "participants["+itoa(i)+"]", s, true, maxName)
	}
	checkText(&v, "summary", c.Summary, true, maxSummary)
	if err := v.err(); err != nil {
		return nil, err
	}
	return NegotiationRecorded{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, LeaderLevel: c.LeaderLevel,
		Participants: slices.Clone(c.Participants), Summary: c.Summary}, nil
}

// DueProcessRecorded: evidence for tolerance review (Jiaxing 2024 三(四)
// 科学论证、风险评估、集体决策). Accepted at any active stage; whether it counts
// is judged later by when it was recorded (EvaluateTolerance).
func (p *Project) decideDueProcess(c RecordDueProcess, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("record due process for"); err != nil {
		return nil, err
	}
	var v validator
	if c.Kind == "" {
		v.add("kind", "required", "is required")
	} else if !c.Kind.Valid() {
		v.add("kind", "unknown", "must be feasibility_study, risk_assessment or collective_decision")
	}
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	checkText(&v, "body", c.Body, false, maxName)
	checkText(&v, "summary", c.Summary, true, maxSummary)
	checkText(&v, "document_ref", c.DocumentRef, false, maxShort)
	sum := strings.ToLower(strings.TrimSpace(c.DocumentSHA256))
	if sum != "" {
		if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
			v.add("document_sha256", "format", "must be 64 hexadecimal characters")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return DueProcessRecorded{ProjectID: p.s.ID, Kind: c.Kind, OccurredAt: c.OccurredAt, Body: c.Body,
		Summary: c.Summary, DocumentRef: c.DocumentRef, DocumentSHA256: sum}, nil
}

// SigningFiled: 重大签约须提前一周报备 (Jiaxing 2024 二(一)3). A filing announces
// a signing, so it is only possible before the project is signed. Its business
// time is the moment of filing (now).
func (p *Project) decideFiling(c FileSigning, now time.Time) (Event, error) {
	if err := p.requireActive("file a signing for"); err != nil {
		return nil, err
	}
	if p.s.Stage.Signed() {
		return nil, p.refuse("file a signing for", "the project is already signed")
	}
	var v validator
	if c.PlannedDate.IsZero() {
		v.add("planned_date", "required", "is required")
	} else if !c.PlannedDate.Valid() {
		v.add("planned_date", "format", "must be a real date YYYY-MM-DD")
	}
	c.ContractInvestment.validate(&v, "contract_investment", true)
	checkText(&v, "venue", c.Venue, false, maxShort)
	if err := v.err(); err != nil {
		return nil, err
	}
	return SigningFiled{ProjectID: p.s.ID, PlannedDate: c.PlannedDate, ContractInvestment: c.ContractInvestment,
		Venue: c.Venue, OccurredAt: now}, nil
}

// ContractSigned: counts once (DOMAIN.md: no double counting). Re-signing a
// signed project is an invalid transition; a change of investment is an
// amendment. A missing advance filing does not stop the signing: it raises the
// signing_not_filed alert (SigningFiledInTime).
func (p *Project) decideSigning(c SignContract, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("sign"); err != nil {
		return nil, err
	}
	if p.s.Stage.Signed() {
		return nil, p.refuse("sign", "the project is already signed; record a change as an amendment")
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	c.ContractInvestment.validate(&v, "contract_investment", true)
	if c.ForeignInvestment != nil {
		c.ForeignInvestment.validate(&v, "foreign_investment", false)
		if c.ForeignInvestment.Currency.Valid() && c.ContractInvestment.Currency.Valid() {
			f, err1 := c.ForeignInvestment.ToCNY(pol.USDCNYRate)
			t, err2 := c.ContractInvestment.ToCNY(pol.USDCNYRate)
			if err1 == nil && err2 == nil && f.Amount > t.Amount {
				v.add("foreign_investment", "exceeds_contract", "must not exceed the contract investment")
			}
		}
	}
	if c.Agreement == "" {
		v.add("agreement", "required", "is required")
	} else if !c.Agreement.Valid() {
		v.add("agreement", "unknown", "must be framework or formal")
	}
	var com Commitments
	if c.Commitments != nil {
		com = cloneCommitments(*c.Commitments)
		// The signing's civil date in the server's zone (now's; API.md: a
		// date means 00:00 in the configured zone), whatever offset the
		// caller wrote occurred_at in.
		signDate := DateOf(c.OccurredAt, now.Location())
		checkCommitDate := func(field string, d *Date) {
			if d == nil {
				return
			}
			if !d.Valid() {
				v.add(field, "format", "must be a real date YYYY-MM-DD")
			} else if !c.OccurredAt.IsZero() && d.Before(signDate) {
				v.add(field, "before_signing", "must not be before the signing date")
			}
		}
		checkCommitDate("commitments.register_by", com.RegisterBy)
		checkCommitDate("commitments.start_by", com.StartBy)
		for i := range com.Funds {
			f := "commitments.funds[" + itoa(i) + "]"
			checkCommitDate(f+".by", &com.Funds[i].By)
			com.Funds[i].Amount.validate(&v, f+".amount", true)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return ContractSigned{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, ContractInvestment: c.ContractInvestment,
		ForeignInvestment: clonePtr(c.ForeignInvestment), Agreement: c.Agreement, Commitments: com,
		Unit: p.s.Unit}, nil
}

// ContractAmended: a change of contracted investment after signing; the
// increment (new − previous, possibly negative) counts in the period it occurred
// (DOMAIN.md: "a later capital increase counts only its increment"). Amendments
// keep the contract's currency so the increment is exact.
func (p *Project) decideAmendment(c AmendContract, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("amend"); err != nil {
		return nil, err
	}
	if !p.s.Stage.Signed() || p.s.ContractInvestment == nil {
		return nil, p.refuse("amend", "the project is not signed")
	}
	prev := *p.s.ContractInvestment
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	if !c.OccurredAt.IsZero() && c.OccurredAt.Before(p.s.SignedAt) {
		v.add("occurred_at", "before_signing", "must not be before the signing")
	}
	c.ContractInvestment.validate(&v, "contract_investment", true)
	checkText(&v, "reason", c.Reason, true, maxSummary)
	var inc Money
	if c.ContractInvestment.Currency.Valid() {
		switch {
		case c.ContractInvestment.Currency != prev.Currency:
			v.add("contract_investment.currency", "currency_mismatch", "must be %s, the contract's currency", prev.Currency)
		case c.ContractInvestment.Amount == prev.Amount:
			v.add("contract_investment.amount", "unchanged", "equals the current contract investment")
		default:
			var err error
			if inc, err = c.ContractInvestment.Sub(prev); err != nil {
				v.add("contract_investment.amount", "overflow", "is out of range")
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return ContractAmended{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, PreviousInvestment: prev,
		ContractInvestment: c.ContractInvestment, Increment: inc, Reason: c.Reason}, nil
}

// ProjectTransferred: 项目流转 (Jiaxing 2024 二(一)3 "流转至其他主体洽谈并落户";
// Xiamen 三(二)4). Only the centre may transfer (commands checks the role). A
// transfer hands over a project still being courted, so it is refused once the
// project has landed (signed) or ended; the owner moves, the first unit stays.
func (p *Project) decideTransfer(c TransferProject, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("transfer"); err != nil {
		return nil, err
	}
	if p.s.Stage.Signed() {
		return nil, p.refuse("transfer", "a signed project has landed; transfers move projects still under negotiation")
	}
	var v validator
	if err := c.ToUnit.Validate("to_unit"); err != nil {
		v.addErr("to_unit", err)
	} else if c.ToUnit == p.s.Unit {
		v.add("to_unit", "same_unit", "the project already belongs to %s", c.ToUnit)
	}
	checkText(&v, "reason", c.Reason, true, maxSummary)
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	if err := v.err(); err != nil {
		return nil, err
	}
	return ProjectTransferred{ProjectID: p.s.ID, FromUnit: p.s.Unit, ToUnit: c.ToUnit, Reason: c.Reason,
		OccurredAt: c.OccurredAt}, nil
}

// checkMilestoneOrder: a later stage's fact may not be dated before an earlier
// stage's (DOMAIN.md "The project lifecycle": stages never move backwards, also
// in business time; a fact out of order is rejected). The report's date is not
// among them: it dates the project's entry in the ledger (入库), which often
// follows the first meetings or even the signing (docs/import.md).
func (p *Project) checkMilestoneOrder(v *validator, t time.Time) {
	if last := p.s.latestMilestone(); !t.IsZero() && t.Before(last) {
		v.add("occurred_at", "before_previous_stage", "must not be before the previous stage's date (%s)",
			last.Format(time.RFC3339))
	}
}

// CompanyRegistered: 注册(备案) follows signing (Jiaxing 2024 二(一)1's third
// list). Registration before signing, or after a later stage, is out of order.
func (p *Project) decideRegistration(c RegisterCompany, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("register"); err != nil {
		return nil, err
	}
	if p.s.Stage != StageSigned {
		reason := "registration follows signing"
		if p.s.Stage.Order() > StageSigned.Order() {
			reason = "the project is already registered or beyond"
		}
		return nil, p.refuse("register", reason)
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	p.checkMilestoneOrder(&v, c.OccurredAt)
	uscc := NormaliseUSCC(c.CompanyUSCC)
	if uscc == "" {
		v.add("company_uscc", "required", "is required")
	} else if !ValidUSCC(uscc) {
		v.add("company_uscc", "format", "must be an 18-character unified social credit code with a valid check character")
	}
	if c.RegisteredCapital != nil {
		c.RegisteredCapital.validate(&v, "registered_capital", true)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return CompanyRegistered{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, CompanyUSCC: uscc,
		RegisteredCapital: clonePtr(c.RegisteredCapital)}, nil
}

// ConstructionStarted: 开工, after signing (registration may be skipped).
func (p *Project) decideConstruction(c StartConstruction, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("start construction of"); err != nil {
		return nil, err
	}
	if p.s.Stage != StageSigned && p.s.Stage != StageRegistered {
		reason := "construction starts after signing"
		switch {
		case p.s.Stage == StageStarted:
			reason = "construction has already started"
		case p.s.Stage.Order() > StageStarted.Order():
			reason = "the project is already producing; a start skipped before production is not recorded after it"
		}
		return nil, p.refuse("start construction of", reason)
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	p.checkMilestoneOrder(&v, c.OccurredAt)
	checkText(&v, "permit_no", c.PermitNo, false, maxName)
	if err := v.err(); err != nil {
		return nil, err
	}
	return ConstructionStarted{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, PermitNo: c.PermitNo}, nil
}

// FundsArrived: 资金到位 of a signed project, cumulative (Suzhou 五(五) 资金到位率).
func (p *Project) decideFunds(c RecordFunds, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("record funds for"); err != nil {
		return nil, err
	}
	if !p.s.Stage.Signed() {
		return nil, p.refuse("record funds for", "funds arrive under a signed contract")
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	if !c.OccurredAt.IsZero() && c.OccurredAt.Before(p.s.SignedAt) {
		// Funds arrive under the contract: dated before it, they would count
		// in a period before the project was signed.
		v.add("occurred_at", "before_signing", "must not be before the signing (%s)", p.s.SignedAt.Format(time.RFC3339))
	}
	c.Amount.validate(&v, "amount", true)
	if c.Source == "" {
		v.add("source", "required", "is required")
	} else if !c.Source.Valid() {
		v.add("source", "unknown", "must be domestic, foreign or out_of_province")
	}
	if c.Amount.Currency.Valid() && c.Amount.Amount > 0 {
		// The cumulative total must stay representable.
		all := make([]Money, 0, len(p.s.Funds)+1)
		for _, f := range p.s.Funds {
			all = append(all, f.Amount)
		}
		if _, err := SumCNY(pol.USDCNYRate, append(all, c.Amount)...); err != nil {
			v.add("amount", "overflow", "makes the cumulative funds overflow")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return FundsArrived{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, Amount: c.Amount, Source: c.Source}, nil
}

// ProductionStarted: 投产, after signing (earlier stages may be skipped).
func (p *Project) decideProduction(c StartProduction, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("start production of"); err != nil {
		return nil, err
	}
	if !p.s.Stage.Signed() || p.s.Stage == StageProducing {
		reason := "production starts after signing"
		if p.s.Stage == StageProducing {
			reason = "production has already started"
		}
		return nil, p.refuse("start production of", reason)
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	p.checkMilestoneOrder(&v, c.OccurredAt)
	if err := v.err(); err != nil {
		return nil, err
	}
	return ProductionStarted{ProjectID: p.s.ID, OccurredAt: c.OccurredAt}, nil
}

// ProjectTerminated: terminal. Kind and cause are validated because they decide
// fault tolerance (Jiaxing 2024 三(四)); the kind must fit the stage
// (TerminationKind.AllowedFrom).
func (p *Project) decideTermination(c TerminateProject, pol Policy, now time.Time) (Event, error) {
	if err := p.requireActive("terminate"); err != nil {
		return nil, err
	}
	var v validator
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	p.checkMilestoneOrder(&v, c.OccurredAt)
	switch {
	case c.Kind == "":
		v.add("kind", "required", "is required")
	case !c.Kind.Valid():
		v.add("kind", "unknown", "must be negotiation_ended, built_not_invested, below_expectation or withdrawn")
	case !c.Kind.AllowedFrom(p.s.Stage):
		v.add("kind", "not_applicable", "%s does not apply to a project in stage %s", c.Kind, p.s.Stage)
	}
	if c.Cause == "" {
		v.add("cause", "required", "is required")
	} else if !c.Cause.Valid() {
		v.add("cause", "unknown", "must be policy_change, market_change, force_majeure, investor_decision, subjective_fault or other")
	}
	checkText(&v, "explanation", c.Explanation, true, maxSummary)
	if err := v.err(); err != nil {
		return nil, err
	}
	return ProjectTerminated{ProjectID: p.s.ID, OccurredAt: c.OccurredAt, Kind: c.Kind, Cause: c.Cause,
		Explanation: c.Explanation, StageBefore: p.s.Stage}, nil
}
