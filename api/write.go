package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// This file binds API.md's command routes to the commands layer. Each
// handler reads its path parameters (an unusable id is 404), binds the body
// strictly, checks the fields' form with a Validator (types, required
// members, enum values, dates and times, amounts, ids, unit codes; every bad
// field named at once), and hands a typed command to commands.App with the
// token's actor and the request's headers. The rules — stages, exclusivity,
// who may act for which unit, whether a unit is registered — are the
// commands' and the domain's, and their refusals reach the client through
// errorRules.

// request is the part of every command that is not the body: who sends it,
// If-Match and Idempotency-Key, collected into the validator so header and
// field errors are reported together.
type request struct {
	c    echo.Context
	v    *Validator
	pre  Precondition
	meta commands.Meta
}

func (h *handlers) begin(c echo.Context) *request {
	r := &request{c: c, v: h.s.commandValidator()}
	a, _ := ActorFrom(c) // Authenticate ran: the route is in the /api/v1 group
	pre, err := ParseIfMatch(c)
	r.v.Merge(err)
	key, err := IdempotencyKey(c)
	r.v.Merge(err)
	rid := RequestID(c)
	r.pre = pre
	r.meta = commands.Meta{
		Actor:          eventstore.Actor{Subject: a.Subject, Role: a.Role, Unit: a.Unit},
		IdempotencyKey: key,
		CorrelationID:  rid,
		RequestID:      rid,
	}
	if n, ok := pre.Exact(); ok {
		r.meta.IfMatch = &n
	}
	return r
}

func (r *request) ctx() context.Context { return r.c.Request().Context() }

// answer writes the command's result: 201 when it created the resource, 200
// otherwise, with ETag and X-Position; or the command's refusal.
func (r *request) answer(res commands.Result, err error) error {
	if err != nil {
		return r.pre.Translate(err)
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	out := CommandResult{ID: res.ID, Version: res.Version, Position: res.Position}
	if res.ExclusiveUntil != nil {
		t := res.ExclusiveUntil.In(r.v.Location())
		out.ExclusiveUntil = &t
	}
	return RespondCommand(r.c, status, out)
}

// ---- field helpers: the form of a value, parsed into the domain's type ----

func enumOf[T ~string](all []T) []string {
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = string(x)
	}
	return out
}

func enum[T ~string](v *Validator, field, s string, required bool, all []T) T {
	return T(v.OneOf(field, s, required, enumOf(all)...))
}

func money(v *Validator, field string, m *Money, required, positive bool) (domain.Money, bool) {
	var (
		amount int64
		cur    string
		ok     bool
	)
	if positive {
		amount, cur, ok = v.PositiveMoney(field, m, required)
	} else {
		amount, cur, ok = v.Money(field, m, required)
	}
	if !ok || m == nil {
		return domain.Money{}, false
	}
	return domain.Money{Amount: amount, Currency: domain.Currency(cur)}, true
}

func optionalMoney(v *Validator, field string, m *Money) *domain.Money {
	if d, ok := money(v, field, m, false, false); ok {
		return &d
	}
	return nil
}

func date(v *Validator, field, s string, required bool) (domain.Date, bool) {
	t, ok := v.Date(field, s, required)
	if !ok || t.IsZero() {
		return domain.Date{}, false
	}
	return domain.DateOf(t, v.Location()), true
}

func occurred(v *Validator, s string) time.Time {
	t, _ := v.Time("occurred_at", s, true)
	return t
}

// ---- units, policy, targets ----

type unitBody struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	EstablishedOn string `json:"established_on"`
}

func (h *handlers) putUnit(c echo.Context) error {
	var body unitBody
	if err := Bind(c, &body); err != nil {
		return err
	}
	r := h.begin(c)
	code := r.v.UnitSyntax("code", c.Param("code"))
	name := r.v.Required("name", body.Name)
	kind := enum(r.v, "kind", body.Kind, true, domain.UnitKinds())
	var established domain.Date
	if t, ok := r.v.PastDate("established_on", body.EstablishedOn, false); ok && !t.IsZero() {
		established = domain.DateOf(t, r.v.Location())
	}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.RegisterUnit.Handle(r.ctx(), commands.RegisterUnit{
		Code: domain.UnitCode(code), Name: name, Kind: kind, EstablishedOn: established, Meta: r.meta}))
}

// policyBody is the policy document of PUT /policy. Every rule is a pointer
// so that a member left out is told apart from a zero: a PUT replaces the
// whole policy, and a forgotten member must not silently become 0 or false.
type policyBody struct {
	Version                *int                     `json:"version"`
	ExclusivityDays        *int                     `json:"exclusivity_days"`
	MajorThresholdCNY      *int64                   `json:"major_threshold_cny"`
	MajorThresholdUSD      *int64                   `json:"major_threshold_usd"`
	SigningNoticeDays      *int                     `json:"signing_notice_days"`
	ExcellentMinCompletion *float64                 `json:"excellent_min_completion"`
	AdmonishAfterYears     *int                     `json:"admonish_after_years"`
	TransferCredit         *domain.TransferCredit   `json:"transfer_credit"`
	RegisterWithinDays     *int                     `json:"register_within_days"`
	StartWithinDays        *int                     `json:"start_within_days"`
	StaleDays              *int                     `json:"stale_days"`
	LateRecordDays         *int                     `json:"late_record_days"`
	CompletionCap          *float64                 `json:"completion_cap"`
	USDCNYRate             *domain.Rate             `json:"usd_cny_rate"`
	USD100mIncludesCNY     *bool                    `json:"usd100m_includes_cny"`
	ScoreBands             *domain.ScoreBands       `json:"score_bands"`
	ExclusivityWarningDays *int                     `json:"exclusivity_warning_days"`
	ClockSkewSeconds       *int                     `json:"clock_skew_seconds"`
	AssessmentWeights      map[domain.Indicator]int `json:"assessment_weights"`
	RankingWeights         map[domain.Indicator]int `json:"ranking_weights"`
}

// need returns *p, recording "required" when the member is missing.
func need[T any](v *Validator, field string, p *T) T {
	var zero T
	if p == nil {
		v.Add(field, "required", "is required (a PUT replaces the whole policy)")
		return zero
	}
	return *p
}

func (h *handlers) putPolicy(c echo.Context) error {
	var b policyBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	v := r.v
	pol := domain.Policy{
		ExclusivityDays:        need(v, "exclusivity_days", b.ExclusivityDays),
		MajorThresholdCNY:      need(v, "major_threshold_cny", b.MajorThresholdCNY),
		MajorThresholdUSD:      need(v, "major_threshold_usd", b.MajorThresholdUSD),
		SigningNoticeDays:      need(v, "signing_notice_days", b.SigningNoticeDays),
		ExcellentMinCompletion: need(v, "excellent_min_completion", b.ExcellentMinCompletion),
		AdmonishAfterYears:     need(v, "admonish_after_years", b.AdmonishAfterYears),
		TransferCredit:         need(v, "transfer_credit", b.TransferCredit),
		RegisterWithinDays:     need(v, "register_within_days", b.RegisterWithinDays),
		StartWithinDays:        need(v, "start_within_days", b.StartWithinDays),
		StaleDays:              need(v, "stale_days", b.StaleDays),
		LateRecordDays:         need(v, "late_record_days", b.LateRecordDays),
		CompletionCap:          need(v, "completion_cap", b.CompletionCap),
		USDCNYRate:             need(v, "usd_cny_rate", b.USDCNYRate),
		USD100mIncludesCNY:     need(v, "usd100m_includes_cny", b.USD100mIncludesCNY),
		ScoreBands:             need(v, "score_bands", b.ScoreBands),
		ExclusivityWarningDays: need(v, "exclusivity_warning_days", b.ExclusivityWarningDays),
		ClockSkewSeconds:       need(v, "clock_skew_seconds", b.ClockSkewSeconds),
		AssessmentWeights:      b.AssessmentWeights,
		RankingWeights:         b.RankingWeights,
	}
	if b.Version != nil {
		pol.Version = *b.Version
	}
	if b.AssessmentWeights == nil {
		v.Add("assessment_weights", "required", "is required (a PUT replaces the whole policy)")
	}
	if b.RankingWeights == nil {
		v.Add("ranking_weights", "required", "is required (a PUT replaces the whole policy)")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.AdoptPolicy.Handle(r.ctx(), commands.AdoptPolicy{Policy: pol, Meta: r.meta}))
}

type targetsBody struct {
	Indicators map[string]int64 `json:"indicators"`
}

// putTargets replaces a unit's targets for the year. Targets are whole
// numbers (counts, or whole yuan), so a fraction is refused by the decoder;
// which indicators exist and what values they take is the domain's to judge
// (it names indicators.<name>).
func (h *handlers) putTargets(c echo.Context) error {
	year, err := PathYear(c, "year")
	if err != nil {
		return err
	}
	var body targetsBody
	if err := Bind(c, &body); err != nil {
		return err
	}
	r := h.begin(c)
	unit := r.v.UnitSyntax("unit", c.Param("unit"))
	if body.Indicators == nil {
		r.v.Add("indicators", "required", "is required (an object of indicator → target)")
	}
	ind := make(map[domain.Indicator]float64, len(body.Indicators))
	for k, x := range body.Indicators {
		ind[domain.Indicator(k)] = float64(x)
	}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.SetTargets.Handle(r.ctx(), commands.SetTargets{
		Year: year, Unit: domain.UnitCode(unit), Indicators: ind, Meta: r.meta}))
}

// ---- projects ----

type investorBody struct {
	Name       string    `json:"name"`
	USCC       string    `json:"uscc"`
	Origin     string    `json:"origin"`
	Categories *[]string `json:"categories"`
}

type reportBody struct {
	Name              string        `json:"name"`
	Unit              string        `json:"unit"`
	Investor          *investorBody `json:"investor"`
	IndustryChain     string        `json:"industry_chain"`
	PlannedInvestment *Money        `json:"planned_investment"`
	SourceChannel     string        `json:"source_channel"`
	Referrer          string        `json:"referrer"`
	LeadOfficial      string        `json:"lead_official"`
	OccurredAt        string        `json:"occurred_at"`
}

func (h *handlers) reportProject(c echo.Context) error {
	var b reportBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	v := r.v
	cmd := commands.ReportProject{
		Name:          v.Required("name", b.Name),
		Unit:          domain.UnitCode(v.Unit("unit", b.Unit, true)),
		IndustryChain: v.Required("industry_chain", b.IndustryChain),
		SourceChannel: enum(v, "source_channel", b.SourceChannel, false, domain.SourceChannels()),
		Referrer:      v.Text("referrer", b.Referrer, false, MaxNameLength),
		LeadOfficial:  v.Text("lead_official", b.LeadOfficial, false, MaxNameLength),
		OccurredAt:    occurred(v, b.OccurredAt),
		Meta:          r.meta,
	}
	cmd.PlannedInvestment, _ = money(v, "planned_investment", b.PlannedInvestment, true, false)
	if b.Investor == nil {
		v.Add("investor", "required", "is required ({name, uscc?, origin?, categories})")
	} else {
		cmd.Investor = domain.Investor{
			Name:   v.Required("investor.name", b.Investor.Name),
			USCC:   v.USCC("investor.uscc", b.Investor.USCC, false),
			Origin: v.Text("investor.origin", b.Investor.Origin, false, MaxNameLength),
		}
		if b.Investor.Categories == nil {
			v.Add("investor.categories", "required", "is required (a list, possibly empty)")
		} else {
			for _, s := range v.EachOneOf("investor.categories", *b.Investor.Categories, enumOf(domain.Categories())...) {
				cmd.Investor.Categories = append(cmd.Investor.Categories, domain.Category(s))
			}
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.ReportProject.Handle(r.ctx(), cmd))
}

// projectID reads the project id of the path: an id that is not a UUID is
// 404 before the body is read.
func (h *handlers) projectID(c echo.Context) (string, error) { return PathID(c, "id", "project") }

type negotiationBody struct {
	OccurredAt   string   `json:"occurred_at"`
	LeaderLevel  string   `json:"leader_level"`
	Participants []string `json:"participants"`
	Summary      string   `json:"summary"`
}

func (h *handlers) recordNegotiation(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b negotiationBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.RecordNegotiation{
		ProjectID:   id,
		OccurredAt:  occurred(r.v, b.OccurredAt),
		LeaderLevel: enum(r.v, "leader_level", b.LeaderLevel, true, domain.LeaderLevels()),
		Summary:     r.v.Text("summary", b.Summary, true, MaxSummaryLength),
		Meta:        r.meta,
	}
	for i, p := range b.Participants {
		cmd.Participants = append(cmd.Participants, r.v.Required("participants["+itoa(i)+"]", p))
	}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.RecordNegotiation.Handle(r.ctx(), cmd))
}

type dueProcessBody struct {
	Kind           string `json:"kind"`
	OccurredAt     string `json:"occurred_at"`
	Body           string `json:"body"`
	Summary        string `json:"summary"`
	DocumentRef    string `json:"document_ref"`
	DocumentSHA256 string `json:"document_sha256"`
}

func (h *handlers) recordDueProcess(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b dueProcessBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.RecordDueProcess{
		ProjectID:      id,
		Kind:           enum(r.v, "kind", b.Kind, true, domain.DueProcessKinds()),
		OccurredAt:     occurred(r.v, b.OccurredAt),
		Body:           r.v.Text("body", b.Body, false, MaxNameLength),
		Summary:        r.v.Text("summary", b.Summary, true, MaxSummaryLength),
		DocumentRef:    r.v.Text("document_ref", b.DocumentRef, false, MaxTextLength),
		DocumentSHA256: r.v.SHA256("document_sha256", b.DocumentSHA256, false),
		Meta:           r.meta,
	}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.RecordDueProcess.Handle(r.ctx(), cmd))
}

type signingFilingBody struct {
	PlannedDate        string `json:"planned_date"`
	ContractInvestment *Money `json:"contract_investment"`
	Venue              string `json:"venue"`
}

func (h *handlers) fileSigning(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b signingFilingBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.FileSigning{ProjectID: id, Venue: r.v.Text("venue", b.Venue, false, MaxTextLength), Meta: r.meta}
	cmd.PlannedDate, _ = date(r.v, "planned_date", b.PlannedDate, true)
	cmd.ContractInvestment, _ = money(r.v, "contract_investment", b.ContractInvestment, true, false)
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.FileSigning.Handle(r.ctx(), cmd))
}

type fundsMilestoneBody struct {
	By     string `json:"by"`
	Amount *Money `json:"amount"`
}

type commitmentsBody struct {
	RegisterBy string               `json:"register_by"`
	StartBy    string               `json:"start_by"`
	Funds      []fundsMilestoneBody `json:"funds"`
}

type signingBody struct {
	OccurredAt         string           `json:"occurred_at"`
	ContractInvestment *Money           `json:"contract_investment"`
	ForeignInvestment  *Money           `json:"foreign_investment"`
	Agreement          string           `json:"agreement"`
	Commitments        *commitmentsBody `json:"commitments"`
}

func (h *handlers) signContract(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b signingBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	v := r.v
	cmd := commands.SignContract{
		ProjectID:         id,
		OccurredAt:        occurred(v, b.OccurredAt),
		ForeignInvestment: optionalMoney(v, "foreign_investment", b.ForeignInvestment),
		Agreement:         enum(v, "agreement", b.Agreement, true, domain.AgreementKinds()),
		Meta:              r.meta,
	}
	cmd.ContractInvestment, _ = money(v, "contract_investment", b.ContractInvestment, true, false)
	if cb := b.Commitments; cb != nil {
		cm := &domain.Commitments{}
		if d, ok := date(v, "commitments.register_by", cb.RegisterBy, false); ok {
			cm.RegisterBy = &d
		}
		if d, ok := date(v, "commitments.start_by", cb.StartBy, false); ok {
			cm.StartBy = &d
		}
		for i, f := range cb.Funds {
			p := "commitments.funds[" + itoa(i) + "]"
			by, _ := date(v, p+".by", f.By, true)
			amount, _ := money(v, p+".amount", f.Amount, true, true)
			cm.Funds = append(cm.Funds, domain.FundsMilestone{By: by, Amount: amount})
		}
		cmd.Commitments = cm
	}
	if err := v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.SignContract.Handle(r.ctx(), cmd))
}

type amendmentBody struct {
	OccurredAt         string `json:"occurred_at"`
	ContractInvestment *Money `json:"contract_investment"`
	Reason             string `json:"reason"`
}

func (h *handlers) amendContract(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b amendmentBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.AmendContract{ProjectID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		Reason: r.v.Text("reason", b.Reason, true, MaxSummaryLength), Meta: r.meta}
	cmd.ContractInvestment, _ = money(r.v, "contract_investment", b.ContractInvestment, true, false)
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.AmendContract.Handle(r.ctx(), cmd))
}

type transferBody struct {
	ToUnit     string `json:"to_unit"`
	Reason     string `json:"reason"`
	OccurredAt string `json:"occurred_at"`
}

func (h *handlers) transferProject(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b transferBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.TransferProject{ProjectID: id, ToUnit: domain.UnitCode(r.v.Unit("to_unit", b.ToUnit, true)),
		Reason: r.v.Text("reason", b.Reason, true, MaxSummaryLength), OccurredAt: occurred(r.v, b.OccurredAt), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.TransferProject.Handle(r.ctx(), cmd))
}

type registrationBody struct {
	OccurredAt        string `json:"occurred_at"`
	CompanyUSCC       string `json:"company_uscc"`
	RegisteredCapital *Money `json:"registered_capital"`
}

func (h *handlers) registerCompany(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b registrationBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.RegisterCompany{ProjectID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		CompanyUSCC:       r.v.USCC("company_uscc", b.CompanyUSCC, true),
		RegisteredCapital: optionalMoney(r.v, "registered_capital", b.RegisteredCapital), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.RegisterCompany.Handle(r.ctx(), cmd))
}

type constructionBody struct {
	OccurredAt string `json:"occurred_at"`
	PermitNo   string `json:"permit_no"`
}

func (h *handlers) startConstruction(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b constructionBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.StartConstruction{ProjectID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		PermitNo: r.v.Text("permit_no", b.PermitNo, false, MaxNameLength), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.StartConstruction.Handle(r.ctx(), cmd))
}

type fundsBody struct {
	OccurredAt string `json:"occurred_at"`
	Amount     *Money `json:"amount"`
	Source     string `json:"source"`
}

func (h *handlers) recordFunds(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b fundsBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.RecordFunds{ProjectID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		Source: enum(r.v, "source", b.Source, true, domain.FundSources()), Meta: r.meta}
	cmd.Amount, _ = money(r.v, "amount", b.Amount, true, true)
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.RecordFunds.Handle(r.ctx(), cmd))
}

type productionBody struct {
	OccurredAt string `json:"occurred_at"`
}

func (h *handlers) startProduction(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b productionBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.StartProduction{ProjectID: id, OccurredAt: occurred(r.v, b.OccurredAt), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.StartProduction.Handle(r.ctx(), cmd))
}

type terminationBody struct {
	OccurredAt  string `json:"occurred_at"`
	Kind        string `json:"kind"`
	Cause       string `json:"cause"`
	Explanation string `json:"explanation"`
}

func (h *handlers) terminateProject(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b terminationBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.TerminateProject{ProjectID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		Kind:        enum(r.v, "kind", b.Kind, true, domain.TerminationKinds()),
		Cause:       enum(r.v, "cause", b.Cause, true, domain.TerminationCauses()),
		Explanation: r.v.Text("explanation", b.Explanation, true, MaxSummaryLength), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.TerminateProject.Handle(r.ctx(), cmd))
}

type correctionBody struct {
	Field  string          `json:"field"`
	Value  json.RawMessage `json:"value"`
	Reason string          `json:"reason"`
}

// correctDetails checks only the form of a correction: which fields can be
// corrected and what value each takes is the domain's to judge (it names
// "field" or "value").
func (h *handlers) correctDetails(c echo.Context) error {
	id, err := h.projectID(c)
	if err != nil {
		return err
	}
	var b correctionBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.CorrectDetails{ProjectID: id, Field: domain.CorrectionField(r.v.Required("field", b.Field)),
		Value: b.Value, Reason: r.v.Text("reason", b.Reason, true, MaxSummaryLength), Meta: r.meta}
	if b.Value == nil {
		r.v.Add("value", "required", "is required (the field's new value; null clears an optional field)")
	}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.CorrectDetails.Handle(r.ctx(), cmd))
}

// ---- supervision ----

type orderBody struct {
	ProjectID       string `json:"project_id"`
	Matter          string `json:"matter"`
	Target          string `json:"target"`
	LeadLeader      string `json:"lead_leader"`
	ResponsibleUnit string `json:"responsible_unit"`
	Requirements    string `json:"requirements"`
	Deadline        string `json:"deadline"`
}

func (h *handlers) issueOrder(c echo.Context) error {
	var b orderBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	v := r.v
	cmd := commands.IssueSupervisionOrder{
		ProjectID:       v.UUID("project_id", b.ProjectID, false),
		Matter:          v.Text("matter", b.Matter, true, MaxTextLength),
		Target:          v.Text("target", b.Target, true, MaxTextLength),
		LeadLeader:      v.Required("lead_leader", b.LeadLeader),
		ResponsibleUnit: domain.UnitCode(v.Unit("responsible_unit", b.ResponsibleUnit, true)),
		Requirements:    v.Text("requirements", b.Requirements, true, MaxSummaryLength),
		Meta:            r.meta,
	}
	cmd.Deadline, _ = date(v, "deadline", b.Deadline, true)
	if err := v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.IssueSupervisionOrder.Handle(r.ctx(), cmd))
}

type progressBody struct {
	OccurredAt string `json:"occurred_at"`
	Summary    string `json:"summary"`
}

func (h *handlers) reportProgress(c echo.Context) error {
	id, err := PathID(c, "id", "supervision order")
	if err != nil {
		return err
	}
	var b progressBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.ReportSupervisionProgress{OrderID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		Summary: r.v.Text("summary", b.Summary, true, MaxSummaryLength), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.ReportSupervisionProgress.Handle(r.ctx(), cmd))
}

type closureBody struct {
	OccurredAt string `json:"occurred_at"`
	Result     string `json:"result"`
}

func (h *handlers) closeOrder(c echo.Context) error {
	id, err := PathID(c, "id", "supervision order")
	if err != nil {
		return err
	}
	var b closureBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.CloseSupervisionOrder{OrderID: id, OccurredAt: occurred(r.v, b.OccurredAt),
		Result: r.v.Text("result", b.Result, true, MaxSummaryLength), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.CloseSupervisionOrder.Handle(r.ctx(), cmd))
}

// ---- assessments ----

type bonusBody struct {
	Unit   string   `json:"unit"`
	Points *float64 `json:"points"`
	Reason string   `json:"reason"`
}

func (h *handlers) awardBonus(c echo.Context) error {
	year, err := PathYear(c, "year")
	if err != nil {
		return err
	}
	var b bonusBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.AwardBonus{Year: year, Unit: domain.UnitCode(r.v.Unit("unit", b.Unit, true)),
		Reason: r.v.Text("reason", b.Reason, true, MaxSummaryLength), Meta: r.meta}
	switch {
	case b.Points == nil:
		r.v.Add("points", "required", "is required (positive to award, negative to deduct)")
	case *b.Points == 0:
		r.v.Add("points", "range", "must not be zero")
	default:
		cmd.Points = *b.Points
	}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.AwardBonus.Handle(r.ctx(), cmd))
}

// publishAssessment takes no body (an empty object is accepted, any member
// is unknown). The commands freeze the year at the head of the log under the
// policy in force.
func (h *handlers) publishAssessment(c echo.Context) error {
	year, err := PathYear(c, "year")
	if err != nil {
		return err
	}
	var b struct{}
	if _, err := BindOptional(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.PublishAssessment.Handle(r.ctx(), commands.PublishAssessment{Year: year, Meta: r.meta}))
}

// ---- tolerance ----

type toleranceBody struct {
	ProjectID string `json:"project_id"`
	Grounds   string `json:"grounds"`
}

func (h *handlers) requestTolerance(c echo.Context) error {
	var b toleranceBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.RequestTolerance{ProjectID: r.v.UUID("project_id", b.ProjectID, true),
		Grounds: r.v.Text("grounds", b.Grounds, true, MaxSummaryLength), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.RequestTolerance.Handle(r.ctx(), cmd))
}

type decisionBody struct {
	Decision  string `json:"decision"`
	Rationale string `json:"rationale"`
}

func (h *handlers) decideTolerance(c echo.Context) error {
	id, err := PathID(c, "id", "tolerance case")
	if err != nil {
		return err
	}
	var b decisionBody
	if err := Bind(c, &b); err != nil {
		return err
	}
	r := h.begin(c)
	cmd := commands.DecideTolerance{CaseID: id,
		Decision:  enum(r.v, "decision", b.Decision, true, domain.ToleranceDecisions()),
		Rationale: r.v.Text("rationale", b.Rationale, true, MaxSummaryLength), Meta: r.meta}
	if err := r.v.Err(); err != nil {
		return err
	}
	return r.answer(h.d.Commands.DecideTolerance.Handle(r.ctx(), cmd))
}
