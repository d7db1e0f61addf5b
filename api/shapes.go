package api

import (
	"slices"
	"strconv"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// The answers of the read routes, as docs/openapi.yaml describes them. They
// are the API's own types, filled from the views' results, so that the
// contract is written here and a change in the read side's Go types cannot
// change what clients receive without a change in this file (and its spec).

// AsOfInfo says an answer is the state at a past moment.
type AsOfInfo struct {
	At    time.Time `json:"at"`
	Basis string    `json:"basis"`
}

func asOfInfo(at *time.Time, basis projections.Basis) *AsOfInfo {
	if at == nil {
		return nil
	}
	b := string(basis)
	if b == "" {
		b = BasisRecorded
	}
	return &AsOfInfo{At: *at, Basis: b}
}

// Investor is a project's investor.
type Investor struct {
	Name       string   `json:"name"`
	USCC       string   `json:"uscc,omitempty"`
	Origin     string   `json:"origin,omitempty"`
	Categories []string `json:"categories"`
}

// ProjectSummary is a project as lists show it.
type ProjectSummary struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	Stage              domain.Stage    `json:"stage"`
	Unit               domain.UnitCode `json:"unit"`
	FirstUnit          domain.UnitCode `json:"first_unit"`
	Investor           Investor        `json:"investor"`
	IndustryChain      string          `json:"industry_chain"`
	SourceChannel      *string         `json:"source_channel"`
	PlannedInvestment  domain.Money    `json:"planned_investment"`
	ContractInvestment *domain.Money   `json:"contract_investment"`
	Tier               *domain.Tier    `json:"tier"`
	USD100m            bool            `json:"usd100m"`
	Major              bool            `json:"major"`
	ExclusiveUntil     *time.Time      `json:"exclusive_until"`
	ReportedAt         *domain.Date    `json:"reported_at"`
	SignedAt           *domain.Date    `json:"signed_at"`
	RegisteredAt       *domain.Date    `json:"registered_at"`
	StartedAt          *domain.Date    `json:"started_at"`
	ProducingAt        *domain.Date    `json:"producing_at"`
	TerminatedAt       *domain.Date    `json:"terminated_at"`
	FundsArrived       domain.Money    `json:"funds_arrived"`
	Version            uint64          `json:"version"`
}

// Project is GET /projects/{id}: the summary, the due-process flags, how it
// ended, its open alerts, and the position it reflects.
type Project struct {
	ProjectSummary
	DueProcess  projections.DueProcessFlags `json:"due_process"`
	Termination *Termination                `json:"termination"`
	Alerts      []string                    `json:"alerts"`
	Position    eventstore.Position         `json:"position"`
	AsOf        *AsOfInfo                   `json:"as_of,omitempty"`
	// Corrections are every correction of its details in log order, with
	// the published years each is flagged for (omitted when none).
	Corrections []CorrectionNote `json:"corrections,omitempty"`
}

// CorrectionNote is one correction of a project's details.
type CorrectionNote struct {
	Field         string              `json:"field"`
	Reason        string              `json:"reason"`
	OccurredAt    time.Time           `json:"occurred_at"`
	Position      eventstore.Position `json:"position"`
	AffectedYears []int               `json:"affected_years"`
	FlaggedYears  []int               `json:"flagged_years"`
	Flagged       bool                `json:"flagged"`
}

// FlaggedCorrection is a correction flagged for a published year: why its
// current result differs from the frozen one.
type FlaggedCorrection struct {
	ProjectID  string              `json:"project_id"`
	Field      string              `json:"field"`
	Reason     string              `json:"reason"`
	OccurredAt time.Time           `json:"occurred_at"`
	Position   eventstore.Position `json:"position"`
}

// Termination is how a terminated project ended.
type Termination struct {
	Kind  domain.TerminationKind  `json:"kind"`
	Cause domain.TerminationCause `json:"cause"`
}

func projectSummary(p projections.ProjectState, loc *time.Location) ProjectSummary {
	inv := Investor{Name: p.Investor.Name, USCC: p.Investor.USCC, Origin: p.Investor.Origin, Categories: []string{}}
	for _, c := range p.Investor.Categories {
		inv.Categories = append(inv.Categories, string(c))
	}
	s := ProjectSummary{
		ID: p.ID, Name: p.Name, Stage: p.Stage, Unit: p.Unit, FirstUnit: p.FirstUnit, Investor: inv,
		IndustryChain: p.IndustryChain, PlannedInvestment: p.PlannedInvestment, ContractInvestment: p.ContractInvestment,
		Tier: p.Tier, USD100m: p.USD100m, Major: p.Major, ReportedAt: p.ReportedAt, SignedAt: p.SignedAt,
		RegisteredAt: p.RegisteredAt, StartedAt: p.StartedAt, ProducingAt: p.ProducingAt, TerminatedAt: p.TerminatedAt,
		FundsArrived: p.FundsArrived, Version: p.Version,
	}
	if p.SourceChannel != "" {
		ch := p.SourceChannel
		s.SourceChannel = &ch
	}
	if p.ExclusiveUntil != nil {
		t := p.ExclusiveUntil.In(loc)
		s.ExclusiveUntil = &t
	}
	return s
}

func projectOf(p projections.ProjectState, loc *time.Location) Project {
	out := Project{ProjectSummary: projectSummary(p, loc), DueProcess: p.DueProcess, Alerts: p.Alerts, Position: p.Position}
	if out.Alerts == nil {
		out.Alerts = []string{}
	}
	if p.Termination != nil {
		out.Termination = &Termination{Kind: p.Termination.Kind, Cause: p.Termination.Cause}
	}
	for _, c := range p.Corrections {
		out.Corrections = append(out.Corrections, CorrectionNote{Field: string(c.Field), Reason: c.Reason,
			OccurredAt: c.OccurredAt.In(loc), Position: c.Position, AffectedYears: nonNilInts(c.AffectedYears),
			FlaggedYears: nonNilInts(c.FlaggedYears), Flagged: c.Flagged})
	}
	return out
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return slices.Clone(s)
}

// Ranking is GET /rankings (晾晒).
type Ranking struct {
	Period        string              `json:"period"`
	Kind          *domain.UnitKind    `json:"kind"`
	From          time.Time           `json:"from"`
	To            time.Time           `json:"to"`
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	AsOf          *AsOfInfo           `json:"as_of,omitempty"`
	Items         []RankingItem       `json:"items"`
}

// RankingItem is one unit's row.
type RankingItem struct {
	Rank       int                          `json:"rank"`
	Unit       domain.UnitCode              `json:"unit"`
	UnitName   string                       `json:"unit_name"`
	Kind       domain.UnitKind              `json:"kind"`
	Score      float64                      `json:"score"`
	Indicators map[domain.Indicator]float64 `json:"indicators"`
	Change     *int                         `json:"change"`
}

func rankingOf(r projections.RankingResult) Ranking {
	out := Ranking{Period: r.Period, From: r.From, To: r.To, PolicyVersion: r.PolicyVersion, Position: r.Position,
		AsOf: asOfInfo(r.AsOf, r.Basis), Items: make([]RankingItem, len(r.Items))}
	if r.Kind != "" {
		k := r.Kind
		out.Kind = &k
	}
	for i, it := range r.Items {
		out.Items[i] = RankingItem{Rank: it.Rank, Unit: it.Unit, UnitName: it.UnitName, Kind: it.Kind, Score: it.Score,
			Indicators: it.Indicators, Change: it.Change}
		if out.Items[i].Indicators == nil {
			out.Items[i].Indicators = map[domain.Indicator]float64{}
		}
	}
	return out
}

// Alert is one open supervision alert.
type Alert struct {
	Kind      string               `json:"kind"`
	ProjectID string               `json:"project_id,omitempty"`
	OrderID   string               `json:"order_id,omitempty"`
	Unit      domain.UnitCode      `json:"unit"`
	Since     time.Time            `json:"since"`
	Detail    string               `json:"detail"`
	Evidence  *eventstore.Position `json:"evidence,omitempty"`
}

func alertOf(a projections.Alert) Alert {
	return Alert{Kind: a.Kind, ProjectID: a.ProjectID, OrderID: a.OrderID, Unit: a.Unit, Since: a.Since,
		Detail: a.Detail, Evidence: a.Evidence}
}

// Order is a supervision order with the six 定.
type Order struct {
	ID              string              `json:"id"`
	ProjectID       string              `json:"project_id,omitempty"`
	Matter          string              `json:"matter"`
	Target          string              `json:"target"`
	LeadLeader      string              `json:"lead_leader"`
	ResponsibleUnit domain.UnitCode     `json:"responsible_unit"`
	Requirements    string              `json:"requirements"`
	Deadline        domain.Date         `json:"deadline"`
	Status          string              `json:"status"`
	IssuedAt        time.Time           `json:"issued_at"`
	Progress        []OrderProgress     `json:"progress"`
	ClosedAt        *time.Time          `json:"closed_at"`
	Result          *string             `json:"result"`
	Version         uint64              `json:"version"`
	Position        eventstore.Position `json:"position"`
}

// OrderProgress is one progress report.
type OrderProgress struct {
	OccurredAt time.Time `json:"occurred_at"`
	Summary    string    `json:"summary"`
}

func orderOf(o projections.OrderItem) Order {
	out := Order{ID: o.ID, ProjectID: o.ProjectID, Matter: o.Matter, Target: o.Target, LeadLeader: o.LeadLeader,
		ResponsibleUnit: o.ResponsibleUnit, Requirements: o.Requirements, Deadline: o.Deadline, Status: o.Status,
		IssuedAt: o.IssuedAt, Progress: make([]OrderProgress, len(o.Progress)), ClosedAt: o.ClosedAt,
		Version: o.Version, Position: o.Position}
	for i, p := range o.Progress {
		out.Progress[i] = OrderProgress{OccurredAt: p.OccurredAt, Summary: p.Summary}
	}
	if o.Status == projections.StatusClosed {
		r := o.Result
		out.Result = &r
	}
	return out
}

// Rates is GET /supervision/rates.
type Rates struct {
	Year          int                 `json:"year"`
	Now           time.Time           `json:"now"`
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	Items         []UnitRates         `json:"items"`
}

// UnitRates is one unit's 履约率, 开工率 and 资金到位率.
type UnitRates struct {
	Unit       domain.UnitCode `json:"unit"`
	UnitName   string          `json:"unit_name"`
	Fulfilment Rate            `json:"fulfilment"`
	Start      Rate            `json:"start"`
	Funds      MoneyRate       `json:"funds"`
}

// Rate is a count rate; Rate is null when the denominator is 0.
type Rate struct {
	Numerator   int      `json:"numerator"`
	Denominator int      `json:"denominator"`
	Rate        *float64 `json:"rate"`
}

// MoneyRate is an amount rate (yuan arrived ÷ yuan contracted).
type MoneyRate struct {
	Numerator   domain.Money `json:"numerator"`
	Denominator domain.Money `json:"denominator"`
	Rate        *float64     `json:"rate"`
}

func ratesOf(r projections.RatesResult) Rates {
	out := Rates{Year: r.Year, Now: r.Now, PolicyVersion: r.PolicyVersion, Position: r.Position, Items: make([]UnitRates, len(r.Items))}
	for i, it := range r.Items {
		out.Items[i] = UnitRates{Unit: it.Unit, UnitName: it.UnitName,
			Fulfilment: Rate{Numerator: it.Fulfilment.Numerator, Denominator: it.Fulfilment.Denominator, Rate: it.Fulfilment.Rate},
			Start:      Rate{Numerator: it.Start.Numerator, Denominator: it.Start.Denominator, Rate: it.Start.Rate},
			Funds:      MoneyRate{Numerator: it.Funds.Numerator, Denominator: it.Funds.Denominator, Rate: it.Funds.Rate}}
	}
	return out
}

// Assessment is GET /assessments/{year} (考核). A published year answers its
// frozen items, with Current and Differences showing what the log gives
// today: later corrections appear as a difference, never as a silent change.
type Assessment struct {
	Year          int                    `json:"year"`
	Kind          *domain.UnitKind       `json:"kind"`
	PolicyVersion int                    `json:"policy_version"`
	Position      eventstore.Position    `json:"position"`
	Published     bool                   `json:"published"`
	PublishedAt   *time.Time             `json:"published_at"`
	AsOf          *AsOfInfo              `json:"as_of,omitempty"`
	Items         []AssessmentItem       `json:"items"`
	Current       *AssessmentCurrent     `json:"current,omitempty"`
	Differences   []AssessmentDifference `json:"differences,omitempty"`
	Corrections   []FlaggedCorrection    `json:"corrections,omitempty"`
}

// AssessmentItem is one unit's result.
type AssessmentItem struct {
	Unit            domain.UnitCode    `json:"unit"`
	UnitName        string             `json:"unit_name"`
	Kind            domain.UnitKind    `json:"kind"`
	Rank            int                `json:"rank"`
	Score           float64            `json:"score"`
	Rating          domain.Rating      `json:"rating"`
	Completion      map[string]float64 `json:"completion"`
	Bonus           float64            `json:"bonus"`
	Deductions      float64            `json:"deductions"`
	Flags           []string           `json:"flags"`
	AdmonishReasons []string           `json:"admonish_reasons,omitempty"`
}

// AssessmentCurrent is a published year recomputed from today's log.
type AssessmentCurrent struct {
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	Items         []AssessmentItem    `json:"items"`
}

// AssessmentDifference is a unit whose result today differs from the
// published one.
type AssessmentDifference struct {
	Unit      domain.UnitCode `json:"unit"`
	Fields    []string        `json:"fields"`
	Published *AssessmentItem `json:"published"`
	Current   *AssessmentItem `json:"current"`
}

func assessmentItems(in []projections.AssessmentItem) []AssessmentItem {
	out := make([]AssessmentItem, len(in))
	for i, it := range in {
		out[i] = assessmentItem(it)
	}
	return out
}

func assessmentItem(it projections.AssessmentItem) AssessmentItem {
	out := AssessmentItem{Unit: it.Unit, UnitName: it.UnitName, Kind: it.Kind, Rank: it.Rank, Score: it.Score,
		Rating: it.Rating, Completion: it.Completion, Bonus: it.Bonus, Deductions: it.Deductions,
		Flags: slices.Clone(it.Flags), AdmonishReasons: slices.Clone(it.AdmonishReasons)}
	if out.Completion == nil {
		out.Completion = map[string]float64{}
	}
	if out.Flags == nil {
		out.Flags = []string{}
	}
	return out
}

func assessmentOf(a projections.AssessmentResult) Assessment {
	out := Assessment{Year: a.Year, PolicyVersion: a.PolicyVersion, Position: a.Position, Published: a.Published,
		PublishedAt: a.PublishedAt, AsOf: asOfInfo(a.AsOf, a.Basis), Items: assessmentItems(a.Items)}
	if a.Kind != "" {
		k := a.Kind
		out.Kind = &k
	}
	if a.Current != nil {
		out.Current = &AssessmentCurrent{PolicyVersion: a.Current.PolicyVersion, Position: a.Current.Position,
			Items: assessmentItems(a.Current.Items)}
		out.Differences = []AssessmentDifference{}
	}
	for _, d := range a.Differences {
		diff := AssessmentDifference{Unit: d.Unit, Fields: slices.Clone(d.Fields)}
		if d.Published != nil {
			p := assessmentItem(*d.Published)
			diff.Published = &p
		}
		if d.Current != nil {
			c := assessmentItem(*d.Current)
			diff.Current = &c
		}
		out.Differences = append(out.Differences, diff)
	}
	for _, c := range a.Corrections {
		out.Corrections = append(out.Corrections, FlaggedCorrection{ProjectID: c.ProjectID, Field: string(c.Field),
			Reason: c.Reason, OccurredAt: c.OccurredAt, Position: c.Position})
	}
	return out
}

// ToleranceCase is a 容错免责 case with the ledger's evaluation.
type ToleranceCase struct {
	ID          string              `json:"id"`
	ProjectID   string              `json:"project_id"`
	Unit        domain.UnitCode     `json:"unit"`
	Grounds     string              `json:"grounds"`
	RequestedAt time.Time           `json:"requested_at"`
	Status      string              `json:"status"`
	Evaluation  Evaluation          `json:"evaluation"`
	EvaluatedAt eventstore.Position `json:"evaluated_at"`
	Decision    *CaseDecision       `json:"decision"`
	Version     uint64              `json:"version"`
	Position    eventstore.Position `json:"position"`
}

// Evaluation is the ledger's advice, check by check.
type Evaluation struct {
	Eligible bool    `json:"eligible"`
	Checks   []Check `json:"checks"`
}

// Check is one check with the positions of the events that prove or refute
// it.
type Check struct {
	Name     string   `json:"name"`
	Passed   bool     `json:"passed"`
	Detail   string   `json:"detail"`
	Evidence []string `json:"evidence"`
}

// CaseDecision is the discipline commission's ruling.
type CaseDecision struct {
	Decision  domain.ToleranceDecision `json:"decision"`
	Rationale string                   `json:"rationale"`
	By        string                   `json:"by"`
	At        time.Time                `json:"at"`
}

func caseOf(c projections.CaseItem) ToleranceCase {
	out := ToleranceCase{ID: c.ID, ProjectID: c.ProjectID, Unit: c.Unit, Grounds: c.Grounds, RequestedAt: c.RequestedAt,
		Status: c.Status, Evaluation: Evaluation{Eligible: c.Evaluation.Eligible, Checks: make([]Check, len(c.Evaluation.Checks))},
		EvaluatedAt: c.EvaluatedAt, Version: c.Version, Position: c.Position}
	for i, ch := range c.Evaluation.Checks {
		ev := slices.Clone(ch.Evidence)
		if ev == nil {
			ev = []string{}
		}
		out.Evaluation.Checks[i] = Check{Name: ch.Name, Passed: ch.Passed, Detail: ch.Detail, Evidence: ev}
	}
	if d := c.Decision; d != nil {
		out.Decision = &CaseDecision{Decision: d.Decision, Rationale: d.Rationale, By: d.By, At: d.At}
	}
	return out
}

// ReadAccess is one entry of the read-access log: who read what, when.
type ReadAccess struct {
	At        time.Time           `json:"at"`
	Actor     eventstore.Actor    `json:"actor"`
	Resource  string              `json:"resource"`
	ID        string              `json:"id,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Position  eventstore.Position `json:"position"`
}

func itoa(i int) string { return strconv.Itoa(i) }
