package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Stable event type names. They are stored with every event; renaming one is a
// migration, so they are declared here, once, and never derived from Go type names.
const (
	TypeProjectReported     = "ProjectReported"
	TypeNegotiationRecorded = "NegotiationRecorded"
	TypeDueProcessRecorded  = "DueProcessRecorded"
	TypeSigningFiled        = "SigningFiled"
	TypeContractSigned      = "ContractSigned"
	TypeContractAmended     = "ContractAmended"
	TypeProjectTransferred  = "ProjectTransferred"
	TypeCompanyRegistered   = "CompanyRegistered"
	TypeConstructionStarted = "ConstructionStarted"
	TypeFundsArrived        = "FundsArrived"
	TypeProductionStarted   = "ProductionStarted"
	TypeProjectTerminated   = "ProjectTerminated"
	TypeDetailsCorrected    = "DetailsCorrected"

	TypeExclusivityClaimed = "ExclusivityClaimed"
	TypeReportRejected     = "ReportRejected"

	TypeSupervisionOrderIssued      = "SupervisionOrderIssued"
	TypeSupervisionProgressReported = "SupervisionProgressReported"
	TypeSupervisionOrderClosed      = "SupervisionOrderClosed"

	TypeToleranceRequested = "ToleranceRequested"
	TypeToleranceDecided   = "ToleranceDecided"

	TypeAnnualTargetsSet = "AnnualTargetsSet"
	TypeUnitRegistered   = "UnitRegistered"
	TypeUnitUpdated      = "UnitUpdated"
	TypePolicyAdopted    = "PolicyAdopted"

	TypeBonusAwarded        = "BonusAwarded"
	TypeDeductionRecorded   = "DeductionRecorded"
	TypeAssessmentPublished = "AssessmentPublished"
)

// Event is a fact recorded in the ledger. Every event knows its stable type name
// and its business time (occurred_at). For facts the caller dates (a signing, a
// negotiation round) it is the caller's date; for acts of the ledger itself (a
// correction, a policy adoption, a filing) it is the moment the command was decided.
type Event interface {
	EventType() string
	Occurred() time.Time
}

// Investor is who is investing. USCC is the 18-character unified social credit
// code (统一社会信用代码) when known; it is the preferred identity for 首报首谈.
type Investor struct {
	Name       string     `json:"name"`
	USCC       string     `json:"uscc,omitempty"`
	Origin     string     `json:"origin,omitempty"`
	Categories []Category `json:"categories,omitempty"`
}

// ---- project stream: project-<uuid> ----

// ProjectReported enters a project into the ledger (入库). Jiaxing 2024 二(一)3:
// a major project reported here gives its unit exclusive first negotiation until
// ExclusiveUntil (set only when the report created or inherited a claim).
type ProjectReported struct {
	ProjectID         string        `json:"project_id"`
	Name              string        `json:"name"`
	Unit              UnitCode      `json:"unit"`
	Investor          Investor      `json:"investor"`
	IndustryChain     string        `json:"industry_chain"`
	PlannedInvestment Money         `json:"planned_investment"`
	SourceChannel     SourceChannel `json:"source_channel,omitempty"`
	Referrer          string        `json:"referrer,omitempty"`
	LeadOfficial      string        `json:"lead_official,omitempty"`
	OccurredAt        time.Time     `json:"occurred_at"`
	// Major records whether the planned investment met the policy's major
	// threshold when reported (¥10亿 / US$1亿 by default).
	Major bool `json:"major"`
	// ExclusivityKey is the report's primary claim key (ExclusivityKeyOf:
	// its uscc key when a code was given, else its name key). The report was
	// judged against the claim streams of every key of ExclusivityKeysOf,
	// which a reader derives from Investor and IndustryChain.
	ExclusivityKey string     `json:"exclusivity_key"`
	ExclusiveUntil *time.Time `json:"exclusive_until,omitempty"`
	PolicyVersion  int        `json:"policy_version"`
}

// NegotiationRecorded is one negotiation round (洽谈). The first one moves a
// project from reported to negotiating.
type NegotiationRecorded struct {
	ProjectID    string      `json:"project_id"`
	OccurredAt   time.Time   `json:"occurred_at"`
	LeaderLevel  LeaderLevel `json:"leader_level"`
	Participants []string    `json:"participants,omitempty"`
	Summary      string      `json:"summary"`
}

// DueProcessRecorded is evidence of 科学论证 / 风险评估 / 集体决策, the
// preconditions of fault tolerance (Jiaxing 2024 三(四)).
type DueProcessRecorded struct {
	ProjectID      string         `json:"project_id"`
	Kind           DueProcessKind `json:"kind"`
	OccurredAt     time.Time      `json:"occurred_at"`
	Body           string         `json:"body,omitempty"`
	Summary        string         `json:"summary"`
	DocumentRef    string         `json:"document_ref,omitempty"`
	DocumentSHA256 string         `json:"document_sha256,omitempty"`
}

// SigningFiled is the advance filing of a planned signing with the centre
// (重大签约提前一周报备, Jiaxing 2024 二(一)3). OccurredAt is when it was filed.
type SigningFiled struct {
	ProjectID          string    `json:"project_id"`
	PlannedDate        Date      `json:"planned_date"`
	ContractInvestment Money     `json:"contract_investment"`
	Venue              string    `json:"venue,omitempty"`
	OccurredAt         time.Time `json:"occurred_at"`
}

// FundsMilestone is one step of a contract's funding schedule: Amount due by By.
type FundsMilestone struct {
	By     Date  `json:"by"`
	Amount Money `json:"amount"`
}

// Commitments are what the investor committed to in the contract; they drive
// the registration_overdue / start_overdue / funds_behind alerts.
type Commitments struct {
	RegisterBy *Date            `json:"register_by,omitempty"`
	StartBy    *Date            `json:"start_by,omitempty"`
	Funds      []FundsMilestone `json:"funds,omitempty"`
}

// ContractSigned is the signing (签约). It counts once; later changes are
// ContractAmended. Unit is the owner at signing, the unit credited with landing it.
type ContractSigned struct {
	ProjectID          string        `json:"project_id"`
	OccurredAt         time.Time     `json:"occurred_at"`
	ContractInvestment Money         `json:"contract_investment"`
	ForeignInvestment  *Money        `json:"foreign_investment,omitempty"`
	Agreement          AgreementKind `json:"agreement"`
	Commitments        Commitments   `json:"commitments"`
	Unit               UnitCode      `json:"unit"`
}

// ContractAmended changes the contracted investment. Increment = new − previous
// (may be negative) and counts in the period it occurred.
type ContractAmended struct {
	ProjectID          string    `json:"project_id"`
	OccurredAt         time.Time `json:"occurred_at"`
	PreviousInvestment Money     `json:"previous_investment"`
	ContractInvestment Money     `json:"contract_investment"`
	Increment          Money     `json:"increment"`
	Reason             string    `json:"reason"`
}

// ProjectTransferred moves a project between units (项目流转, Jiaxing 2024
// 二(一)3; Xiamen 三(二)4). Only the centre may do it (checked in commands).
type ProjectTransferred struct {
	ProjectID  string    `json:"project_id"`
	FromUnit   UnitCode  `json:"from_unit"`
	ToUnit     UnitCode  `json:"to_unit"`
	Reason     string    `json:"reason"`
	OccurredAt time.Time `json:"occurred_at"`
}

// CompanyRegistered is 注册(备案), the third of the four lists.
type CompanyRegistered struct {
	ProjectID         string    `json:"project_id"`
	OccurredAt        time.Time `json:"occurred_at"`
	CompanyUSCC       string    `json:"company_uscc"`
	RegisteredCapital *Money    `json:"registered_capital,omitempty"`
}

// ConstructionStarted is 开工, the fourth list.
type ConstructionStarted struct {
	ProjectID  string    `json:"project_id"`
	OccurredAt time.Time `json:"occurred_at"`
	PermitNo   string    `json:"permit_no,omitempty"`
}

// FundsArrived is one arrival of funds (资金到位); arrivals accumulate.
type FundsArrived struct {
	ProjectID  string     `json:"project_id"`
	OccurredAt time.Time  `json:"occurred_at"`
	Amount     Money      `json:"amount"`
	Source     FundSource `json:"source"`
}

// ProductionStarted is 投产/运营.
type ProductionStarted struct {
	ProjectID  string    `json:"project_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// ProjectTerminated ends a project. Kind and cause decide fault-tolerance
// eligibility (Jiaxing 2024 三(四)). StageBefore is the stage it ended from.
type ProjectTerminated struct {
	ProjectID   string           `json:"project_id"`
	OccurredAt  time.Time        `json:"occurred_at"`
	Kind        TerminationKind  `json:"kind"`
	Cause       TerminationCause `json:"cause"`
	Explanation string           `json:"explanation"`
	StageBefore Stage            `json:"stage_before"`
}

// DetailsCorrected corrects one field. Nothing is edited: Previous and Value both
// stay in the log. AffectedYears are the assessment years whose figures the
// correction can change; PublishedYears those of them the recording command
// saw published, and Flagged is set when there is any (the result shows as a
// difference). Whether the correction is flagged is decided by the log order,
// which completes these fields: see FlaggedYears.
type DetailsCorrected struct {
	ProjectID      string          `json:"project_id"`
	Field          CorrectionField `json:"field"`
	Value          json.RawMessage `json:"value"`
	Previous       json.RawMessage `json:"previous"`
	Reason         string          `json:"reason"`
	OccurredAt     time.Time       `json:"occurred_at"`
	AffectedYears  []int           `json:"affected_years,omitempty"`
	PublishedYears []int           `json:"published_years,omitempty"`
	Flagged        bool            `json:"flagged"`
}

// ---- claim stream: exclusivity-<hash> ----

// ExclusivityClaimed grants first-negotiation rights (首报首谈, Jiaxing 2024
// 二(一)3) to Unit until Until, recorded in the stream of Key. A report claims
// under each of its keys (ExclusivityKeysOf: its name key, and its uscc key
// when it gave a code), one identical claim per stream but for Key, each
// appended with an expected version so two concurrent reports cannot both
// win. OccurredAt is the report's occurred_at. InvestorName, USCC and
// IndustryChain (normalised) are what a competing report is compared with
// (ExclusivityClaimed.Covers).
type ExclusivityClaimed struct {
	Key           string    `json:"key"`
	InvestorName  string    `json:"investor_name"`
	USCC          string    `json:"uscc,omitempty"`
	IndustryChain string    `json:"industry_chain"`
	Unit          UnitCode  `json:"unit"`
	ProjectID     string    `json:"project_id"`
	OccurredAt    time.Time `json:"occurred_at"`
	Until         time.Time `json:"until"`
	PolicyVersion int       `json:"policy_version"`
}

// ReportRejected keeps a report rejected for an exclusivity conflict on record
// for the centre, in the claim stream it conflicted with (Key). ProjectID is the
// id the project would have had; no project stream exists for it. When the
// report had already claimed under one of its keys before losing the race for
// another, the same record is also appended to that key's stream, where it
// voids the half-made claim (ExclusivityClaims).
type ReportRejected struct {
	Key               string        `json:"key"`
	ProjectID         string        `json:"project_id"`
	Unit              UnitCode      `json:"unit"`
	Name              string        `json:"name"`
	Investor          Investor      `json:"investor"`
	IndustryChain     string        `json:"industry_chain"`
	PlannedInvestment Money         `json:"planned_investment"`
	SourceChannel     SourceChannel `json:"source_channel,omitempty"`
	OccurredAt        time.Time     `json:"occurred_at"`
	HolderUnit        UnitCode      `json:"holder_unit"`
	HolderProject     string        `json:"holder_project"`
	Until             time.Time     `json:"until"`
}

// ---- supervision stream: supervision-<uuid> ----

// SupervisionOrderIssued carries the six 定 (Xiamen 三(五)3).
type SupervisionOrderIssued struct {
	OrderID         string    `json:"order_id"`
	ProjectID       string    `json:"project_id,omitempty"`
	Matter          string    `json:"matter"`
	Target          string    `json:"target"`
	LeadLeader      string    `json:"lead_leader"`
	ResponsibleUnit UnitCode  `json:"responsible_unit"`
	Requirements    string    `json:"requirements"`
	Deadline        Date      `json:"deadline"`
	OccurredAt      time.Time `json:"occurred_at"`
}

// SupervisionProgressReported is one progress report on an open order
// (周调度, Changsha 十三).
type SupervisionProgressReported struct {
	OrderID    string    `json:"order_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Summary    string    `json:"summary"`
}

// SupervisionOrderClosed closes an order (办结) once.
type SupervisionOrderClosed struct {
	OrderID    string    `json:"order_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Result     string    `json:"result"`
}

// ---- tolerance stream: tolerance-<uuid> ----

// ToleranceRequested opens a fault-tolerance case (容错免责, Jiaxing 2024 三(四)).
// Unit is the project's owner when the case was opened.
type ToleranceRequested struct {
	CaseID     string    `json:"case_id"`
	ProjectID  string    `json:"project_id"`
	Unit       UnitCode  `json:"unit"`
	Grounds    string    `json:"grounds"`
	OccurredAt time.Time `json:"occurred_at"`
}

// ToleranceDecided is the discipline commission's decision on a case.
type ToleranceDecided struct {
	CaseID     string            `json:"case_id"`
	ProjectID  string            `json:"project_id"`
	Decision   ToleranceDecision `json:"decision"`
	Rationale  string            `json:"rationale"`
	OccurredAt time.Time         `json:"occurred_at"`
}

// ---- targets-<year>, units, policy ----

// AnnualTargetsSet sets (replaces) one unit's targets for a year (Jiaxing 2024
// 一(二); Suzhou 一). Money indicators are whole yuan, the others counts.
type AnnualTargetsSet struct {
	Year       int                   `json:"year"`
	Unit       UnitCode              `json:"unit"`
	Indicators map[Indicator]float64 `json:"indicators"`
	OccurredAt time.Time             `json:"occurred_at"`
}

// UnitRegistered adds a unit.
type UnitRegistered struct {
	Code          UnitCode  `json:"code"`
	Name          string    `json:"name"`
	Kind          UnitKind  `json:"kind"`
	EstablishedOn Date      `json:"established_on,omitzero"`
	OccurredAt    time.Time `json:"occurred_at"`
}

// UnitUpdated changes a registered unit's name or kind (a re-PUT that changes
// something; an identical re-PUT records nothing).
type UnitUpdated struct {
	Code          UnitCode  `json:"code"`
	Name          string    `json:"name"`
	Kind          UnitKind  `json:"kind"`
	EstablishedOn Date      `json:"established_on,omitzero"`
	OccurredAt    time.Time `json:"occurred_at"`
}

// PolicyAdopted adopts a new policy version; every earlier version stays
// available so past results can be recomputed under their own rules.
type PolicyAdopted struct {
	Policy     Policy    `json:"policy"`
	OccurredAt time.Time `json:"occurred_at"`
}

// ---- assessment stream: assessment-<year> ----

// BonusAwarded adds points to a unit's assessment (Jiaxing 2024 三(一) 予以加分).
type BonusAwarded struct {
	Year       int       `json:"year"`
	Unit       UnitCode  `json:"unit"`
	Points     float64   `json:"points"`
	Reason     string    `json:"reason"`
	OccurredAt time.Time `json:"occurred_at"`
}

// DeductionRecorded subtracts Points (positive) from a unit's assessment, e.g.
// for falsification (弄虚作假).
type DeductionRecorded struct {
	Year       int       `json:"year"`
	Unit       UnitCode  `json:"unit"`
	Points     float64   `json:"points"`
	Reason     string    `json:"reason"`
	OccurredAt time.Time `json:"occurred_at"`
}

// AssessmentPublished freezes a year's result: the result is the one computed
// from the log up to Position under policy PolicyVersion, which anyone can
// recompute. Results, when the publisher supplies them, is that table as shown.
type AssessmentPublished struct {
	Year          int                `json:"year"`
	PolicyVersion int                `json:"policy_version"`
	Position      string             `json:"position"`
	Results       []AssessmentResult `json:"results,omitempty"`
	OccurredAt    time.Time          `json:"occurred_at"`
}

func (ProjectReported) EventType() string             { return TypeProjectReported }
func (NegotiationRecorded) EventType() string         { return TypeNegotiationRecorded }
func (DueProcessRecorded) EventType() string          { return TypeDueProcessRecorded }
func (SigningFiled) EventType() string                { return TypeSigningFiled }
func (ContractSigned) EventType() string              { return TypeContractSigned }
func (ContractAmended) EventType() string             { return TypeContractAmended }
func (ProjectTransferred) EventType() string          { return TypeProjectTransferred }
func (CompanyRegistered) EventType() string           { return TypeCompanyRegistered }
func (ConstructionStarted) EventType() string         { return TypeConstructionStarted }
func (FundsArrived) EventType() string                { return TypeFundsArrived }
func (ProductionStarted) EventType() string           { return TypeProductionStarted }
func (ProjectTerminated) EventType() string           { return TypeProjectTerminated }
func (DetailsCorrected) EventType() string            { return TypeDetailsCorrected }
func (ExclusivityClaimed) EventType() string          { return TypeExclusivityClaimed }
func (ReportRejected) EventType() string              { return TypeReportRejected }
func (SupervisionOrderIssued) EventType() string      { return TypeSupervisionOrderIssued }
func (SupervisionProgressReported) EventType() string { return TypeSupervisionProgressReported }
func (SupervisionOrderClosed) EventType() string      { return TypeSupervisionOrderClosed }
func (ToleranceRequested) EventType() string          { return TypeToleranceRequested }
func (ToleranceDecided) EventType() string            { return TypeToleranceDecided }
func (AnnualTargetsSet) EventType() string            { return TypeAnnualTargetsSet }
func (UnitRegistered) EventType() string              { return TypeUnitRegistered }
func (UnitUpdated) EventType() string                 { return TypeUnitUpdated }
func (PolicyAdopted) EventType() string               { return TypePolicyAdopted }
func (BonusAwarded) EventType() string                { return TypeBonusAwarded }
func (DeductionRecorded) EventType() string           { return TypeDeductionRecorded }
func (AssessmentPublished) EventType() string         { return TypeAssessmentPublished }

func (e ProjectReported) Occurred() time.Time             { return e.OccurredAt }
func (e NegotiationRecorded) Occurred() time.Time         { return e.OccurredAt }
func (e DueProcessRecorded) Occurred() time.Time          { return e.OccurredAt }
func (e SigningFiled) Occurred() time.Time                { return e.OccurredAt }
func (e ContractSigned) Occurred() time.Time              { return e.OccurredAt }
func (e ContractAmended) Occurred() time.Time             { return e.OccurredAt }
func (e ProjectTransferred) Occurred() time.Time          { return e.OccurredAt }
func (e CompanyRegistered) Occurred() time.Time           { return e.OccurredAt }
func (e ConstructionStarted) Occurred() time.Time         { return e.OccurredAt }
func (e FundsArrived) Occurred() time.Time                { return e.OccurredAt }
func (e ProductionStarted) Occurred() time.Time           { return e.OccurredAt }
func (e ProjectTerminated) Occurred() time.Time           { return e.OccurredAt }
func (e DetailsCorrected) Occurred() time.Time            { return e.OccurredAt }
func (e ExclusivityClaimed) Occurred() time.Time          { return e.OccurredAt }
func (e ReportRejected) Occurred() time.Time              { return e.OccurredAt }
func (e SupervisionOrderIssued) Occurred() time.Time      { return e.OccurredAt }
func (e SupervisionProgressReported) Occurred() time.Time { return e.OccurredAt }
func (e SupervisionOrderClosed) Occurred() time.Time      { return e.OccurredAt }
func (e ToleranceRequested) Occurred() time.Time          { return e.OccurredAt }
func (e ToleranceDecided) Occurred() time.Time            { return e.OccurredAt }
func (e AnnualTargetsSet) Occurred() time.Time            { return e.OccurredAt }
func (e UnitRegistered) Occurred() time.Time              { return e.OccurredAt }
func (e UnitUpdated) Occurred() time.Time                 { return e.OccurredAt }
func (e PolicyAdopted) Occurred() time.Time               { return e.OccurredAt }
func (e BonusAwarded) Occurred() time.Time                { return e.OccurredAt }
func (e DeductionRecorded) Occurred() time.Time           { return e.OccurredAt }
func (e AssessmentPublished) Occurred() time.Time         { return e.OccurredAt }

// Stream categories: the prefix of a stream name, also the Category of each
// EventType so a reader knows where an event type lives.
const (
	CategoryProject     = "project"
	CategoryExclusivity = "exclusivity"
	CategorySupervision = "supervision"
	CategoryTolerance   = "tolerance"
	CategoryTargets     = "targets"
	CategoryUnits       = "units"
	CategoryPolicy      = "policy"
	CategoryAssessment  = "assessment"
)

// EventType describes one registered event type. New returns a pointer to a zero
// value, for decoders that fill a struct in place.
type EventType struct {
	Name     string
	Category string
	New      func() any
	decode   func(unmarshal func([]byte, any) error, data []byte) (Event, error)
}

// Decode decodes data into this type's struct with the given unmarshal function
// (encoding/json.Unmarshal or a faster drop-in) and returns it as a value.
func (t EventType) Decode(unmarshal func([]byte, any) error, data []byte) (Event, error) {
	return t.decode(unmarshal, data)
}

func eventType[T Event](name, category string) EventType {
	return EventType{
		Name:     name,
		Category: category,
		New:      func() any { return new(T) },
		decode: func(unmarshal func([]byte, any) error, data []byte) (Event, error) {
			var v T
			if err := unmarshal(data, &v); err != nil {
				return nil, fmt.Errorf("decode %s: %w", name, err)
			}
			return v, nil
		},
	}
}

// EventTypes is the one registry of event types, built explicitly (never in
// init) so that the list a store, projection or test sees is exactly this one.
func EventTypes() []EventType {
	return []EventType{
		eventType[ProjectReported](TypeProjectReported, CategoryProject),
		eventType[NegotiationRecorded](TypeNegotiationRecorded, CategoryProject),
		eventType[DueProcessRecorded](TypeDueProcessRecorded, CategoryProject),
		eventType[SigningFiled](TypeSigningFiled, CategoryProject),
		eventType[ContractSigned](TypeContractSigned, CategoryProject),
		eventType[ContractAmended](TypeContractAmended, CategoryProject),
		eventType[ProjectTransferred](TypeProjectTransferred, CategoryProject),
		eventType[CompanyRegistered](TypeCompanyRegistered, CategoryProject),
		eventType[ConstructionStarted](TypeConstructionStarted, CategoryProject),
		eventType[FundsArrived](TypeFundsArrived, CategoryProject),
		eventType[ProductionStarted](TypeProductionStarted, CategoryProject),
		eventType[ProjectTerminated](TypeProjectTerminated, CategoryProject),
		eventType[DetailsCorrected](TypeDetailsCorrected, CategoryProject),
		eventType[ExclusivityClaimed](TypeExclusivityClaimed, CategoryExclusivity),
		eventType[ReportRejected](TypeReportRejected, CategoryExclusivity),
		eventType[SupervisionOrderIssued](TypeSupervisionOrderIssued, CategorySupervision),
		eventType[SupervisionProgressReported](TypeSupervisionProgressReported, CategorySupervision),
		eventType[SupervisionOrderClosed](TypeSupervisionOrderClosed, CategorySupervision),
		eventType[ToleranceRequested](TypeToleranceRequested, CategoryTolerance),
		eventType[ToleranceDecided](TypeToleranceDecided, CategoryTolerance),
		eventType[AnnualTargetsSet](TypeAnnualTargetsSet, CategoryTargets),
		eventType[UnitRegistered](TypeUnitRegistered, CategoryUnits),
		eventType[UnitUpdated](TypeUnitUpdated, CategoryUnits),
		eventType[PolicyAdopted](TypePolicyAdopted, CategoryPolicy),
		eventType[BonusAwarded](TypeBonusAwarded, CategoryAssessment),
		eventType[DeductionRecorded](TypeDeductionRecorded, CategoryAssessment),
		eventType[AssessmentPublished](TypeAssessmentPublished, CategoryAssessment),
	}
}

// Registry indexes EventTypes by name. Build one with NewRegistry and keep it;
// it is read-only and safe for concurrent use.
type Registry struct {
	byName map[string]EventType
}

// NewRegistry indexes EventTypes().
func NewRegistry() *Registry {
	types := EventTypes()
	r := &Registry{byName: make(map[string]EventType, len(types))}
	for _, t := range types {
		r.byName[t.Name] = t
	}
	return r
}

// Lookup returns the registered type with this name.
func (r *Registry) Lookup(name string) (EventType, bool) {
	t, ok := r.byName[name]
	return t, ok
}

// Decode decodes an event of type typ with unmarshal (nil means encoding/json).
func (r *Registry) Decode(unmarshal func([]byte, any) error, typ string, data []byte) (Event, error) {
	t, ok := r.byName[typ]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, typ)
	}
	if unmarshal == nil {
		unmarshal = json.Unmarshal
	}
	return t.decode(unmarshal, data)
}

var defaultRegistry = NewRegistry()

// Decode decodes the data of an event of type typ with encoding/json. The result
// is the event struct as a value (e.g. domain.ContractSigned, not a pointer).
func Decode(typ string, data []byte) (Event, error) {
	return defaultRegistry.Decode(json.Unmarshal, typ, data)
}

// DecodeWith is Decode with another JSON unmarshal function (for example a
// faster drop-in replacement for encoding/json used by projections).
func DecodeWith(unmarshal func([]byte, any) error, typ string, data []byte) (Event, error) {
	return defaultRegistry.Decode(unmarshal, typ, data)
}

// Encode encodes an event's data with encoding/json.
func Encode(e Event) ([]byte, error) {
	if e == nil {
		return nil, errors.New("domain: encode nil event")
	}
	return json.Marshal(Unwrap(e))
}

// CategoryOf returns the stream category an event type belongs to, or "".
func CategoryOf(typ string) string {
	t, ok := defaultRegistry.Lookup(typ)
	if !ok {
		return ""
	}
	return t.Category
}

// Unwrap turns a pointer to an event struct (as produced by EventType.New) into
// the value the aggregates' Apply methods expect. Values pass through unchanged.
func Unwrap(e Event) Event {
	if e == nil {
		return nil
	}
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		if inner, ok := v.Elem().Interface().(Event); ok {
			return inner
		}
	}
	return e
}
