package domain

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CorrectionField names the one field a DetailsCorrected corrects, spelt as in
// the API's JSON ("investor.name"). Funds arrivals are addressed by their
// 0-based order of arrival: "funds[2].amount".
type CorrectionField string

// The correctable fields. Stage facts themselves (kinds, causes, who signed) are
// not correctable: a wrong fact is answered by a new fact, not a rewrite.
const (
	FieldName               CorrectionField = "name"
	FieldInvestorName       CorrectionField = "investor.name"
	FieldInvestorUSCC       CorrectionField = "investor.uscc"
	FieldInvestorOrigin     CorrectionField = "investor.origin"
	FieldInvestorCategories CorrectionField = "investor.categories"
	FieldIndustryChain      CorrectionField = "industry_chain"
	FieldPlannedInvestment  CorrectionField = "planned_investment"
	FieldSourceChannel      CorrectionField = "source_channel"
	FieldReferrer           CorrectionField = "referrer"
	FieldLeadOfficial       CorrectionField = "lead_official"
	FieldContractInvestment CorrectionField = "contract_investment"
	FieldSignedAt           CorrectionField = "signed_at"
	FieldRegisteredAt       CorrectionField = "registered_at"
	FieldStartedAt          CorrectionField = "started_at"
	FieldProducingAt        CorrectionField = "producing_at"
	fieldFundsAmount        CorrectionField = "funds[].amount" // pattern; use FundsAmountField
)

// CorrectionFields lists the fixed correctable fields (plus funds[i].amount).
func CorrectionFields() []CorrectionField {
	return []CorrectionField{FieldName, FieldInvestorName, FieldInvestorUSCC, FieldInvestorOrigin,
		FieldInvestorCategories, FieldIndustryChain, FieldPlannedInvestment, FieldSourceChannel, FieldReferrer,
		FieldLeadOfficial, FieldContractInvestment, FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt}
}

// FundsAmountField addresses the amount of the i-th funds arrival.
func FundsAmountField(i int) CorrectionField {
	return CorrectionField("funds[" + strconv.Itoa(i) + "].amount")
}

// parse splits a field into its base and funds index (-1 when not indexed).
func (f CorrectionField) parse() (base CorrectionField, index int, ok bool) {
	if slices.Contains(CorrectionFields(), f) {
		return f, -1, true
	}
	s := string(f)
	if strings.HasPrefix(s, "funds[") && strings.HasSuffix(s, "].amount") {
		n := strings.TrimSuffix(strings.TrimPrefix(s, "funds["), "].amount")
		i, err := strconv.Atoi(n)
		if err == nil && i >= 0 && strconv.Itoa(i) == n {
			return fieldFundsAmount, i, true
		}
	}
	return "", 0, false
}

// Valid reports whether f is a correctable field.
func (f CorrectionField) Valid() bool {
	_, _, ok := f.parse()
	return ok
}

var milestoneFields = []CorrectionField{FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt}

func (s *ProjectSnapshot) milestone(f CorrectionField) *time.Time {
	switch f {
	case FieldSignedAt:
		return &s.SignedAt
	case FieldRegisteredAt:
		return &s.RegisteredAt
	case FieldStartedAt:
		return &s.StartedAt
	case FieldProducingAt:
		return &s.ProducingAt
	}
	return nil
}

// current returns the field's current value and whether the field applies to
// the project in its present state.
func (s *ProjectSnapshot) current(base CorrectionField, idx int) (any, bool) {
	switch base {
	case FieldName:
		return s.Name, true
	case FieldInvestorName:
		return s.Investor.Name, true
	case FieldInvestorUSCC:
		return s.Investor.USCC, true
	case FieldInvestorOrigin:
		return s.Investor.Origin, true
	case FieldInvestorCategories:
		c := slices.Clone(s.Investor.Categories)
		if c == nil {
			c = []Category{}
		}
		return c, true
	case FieldIndustryChain:
		return s.IndustryChain, true
	case FieldPlannedInvestment:
		return s.PlannedInvestment, true
	case FieldSourceChannel:
		return string(s.SourceChannel), true
	case FieldReferrer:
		return s.Referrer, true
	case FieldLeadOfficial:
		return s.LeadOfficial, true
	case FieldContractInvestment:
		if s.ContractInvestment == nil {
			return nil, false
		}
		return *s.ContractInvestment, true
	case FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt:
		t := *s.milestone(base)
		return t, !t.IsZero()
	case fieldFundsAmount:
		if idx < 0 || idx >= len(s.Funds) {
			return nil, false
		}
		return s.Funds[idx].Amount, true
	}
	return nil, false
}

// parseCorrectionValue decodes raw into the field's Go type.
func parseCorrectionValue(base CorrectionField, raw json.RawMessage) (any, error) {
	switch base {
	case FieldInvestorCategories:
		var v []Category
		err := json.Unmarshal(raw, &v)
		if v == nil {
			v = []Category{}
		}
		return v, err
	case FieldPlannedInvestment, FieldContractInvestment, fieldFundsAmount:
		var v Money
		err := json.Unmarshal(raw, &v)
		return v, err
	case FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt:
		var v time.Time
		err := json.Unmarshal(raw, &v)
		return v, err
	default:
		var v string
		err := json.Unmarshal(raw, &v)
		return v, err
	}
}

// correctionValueShape says, in the API's words, what a field's value is.
func correctionValueShape(base CorrectionField) string {
	switch base {
	case FieldInvestorCategories:
		return "a list of investor categories"
	case FieldPlannedInvestment, FieldContractInvestment, fieldFundsAmount:
		return `an amount {"amount": whole number, "currency": "CNY" or "USD"}`
	case FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt:
		return "an RFC 3339 time with its zone (2024-05-10T10:00:00+08:00)"
	default:
		return "a string"
	}
}

func sameValue(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if ta, ok := a.(time.Time); ok {
		if tb, ok := b.(time.Time); ok {
			return ta.Equal(tb)
		}
	}
	return bytes.Equal(ja, jb)
}

// decideCorrection: nothing is edited (DOMAIN.md DetailsCorrected): the
// correction is a new event carrying the previous and the new value, and a
// correction that can change a published year's assessment is flagged
// (DOMAIN.md "Ranking and assessment": later corrections show as a difference).
// Corrections are accepted after termination too, because the tolerance review
// must be able to see them (DOMAIN.md "Tolerance of error" check 4).
func (p *Project) decideCorrection(c CorrectDetails, pol Policy, now time.Time) (Event, error) {
	var v validator
	base, idx, ok := c.Field.parse()
	if c.Field == "" {
		v.add("field", "required", "is required")
	} else if !ok {
		v.add("field", "unknown", "%q is not a correctable field", c.Field)
	}
	checkText(&v, "reason", c.Reason, true, maxSummary)
	if len(bytes.TrimSpace(c.Value)) == 0 {
		v.add("value", "required", "is required")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	s := &p.s
	prev, applies := s.current(base, idx)
	if !applies {
		return nil, ValidationErrors{{Field: "field", Rule: "not_applicable",
			Message: string(c.Field) + " is not recorded for this project"}}
	}
	val, err := parseCorrectionValue(base, c.Value)
	if err != nil {
		return nil, ValidationErrors{{Field: "value", Rule: "type", Message: "must be " + correctionValueShape(base) + " for " + string(c.Field)}}
	}
	val = p.checkCorrectionValue(&v, base, idx, val, pol, now)
	if err := v.err(); err != nil {
		return nil, err
	}
	if sameValue(prev, val) {
		return nil, ValidationErrors{{Field: "value", Rule: "unchanged", Message: "equals the current value"}}
	}
	newJSON, err1 := json.Marshal(val)
	prevJSON, err2 := json.Marshal(prev)
	if err1 != nil || err2 != nil {
		return nil, ValidationErrors{{Field: "value", Rule: "type", Message: "cannot be encoded"}}
	}
	affected := s.correctionYears(base, idx, prev, val)
	var published []int
	for _, y := range affected {
		if slices.Contains(c.PublishedYears, y) {
			published = append(published, y)
		}
	}
	return DetailsCorrected{ProjectID: s.ID, Field: c.Field, Value: newJSON, Previous: prevJSON, Reason: c.Reason,
		OccurredAt: now, AffectedYears: affected, PublishedYears: published, Flagged: len(published) > 0}, nil
}

// checkCorrectionValue validates a new value like the command that first set
// it would, and returns it normalised.
func (p *Project) checkCorrectionValue(v *validator, base CorrectionField, idx int, val any, pol Policy, now time.Time) any {
	s := &p.s
	switch base {
	case FieldName, FieldInvestorName, FieldIndustryChain:
		checkText(v, "value", val.(string), true, maxName)
	case FieldInvestorOrigin, FieldReferrer, FieldLeadOfficial:
		checkText(v, "value", val.(string), false, maxName)
	case FieldInvestorUSCC:
		u := NormaliseUSCC(val.(string))
		if u != "" && !ValidUSCC(u) {
			v.add("value", "format", "must be an 18-character unified social credit code with a valid check character")
		}
		return u
	case FieldSourceChannel:
		if ch := SourceChannel(val.(string)); ch != "" && !ch.Valid() {
			v.add("value", "unknown", "is not a known source channel")
		}
	case FieldInvestorCategories:
		cats := val.([]Category)
		out := make([]Category, 0, len(cats))
		for i, c := range cats {
			if !c.Valid() {
				v.add("value["+itoa(i)+"]", "unknown", "is not a known category")
			} else if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out
	case FieldPlannedInvestment, fieldFundsAmount:
		val.(Money).validate(v, "value", true)
	case FieldContractInvestment:
		m := val.(Money)
		m.validate(v, "value", true)
		// After an amendment the correction targets the amendment's figure, whose
		// increment is only exact in the contract's currency.
		if len(s.Amendments) > 0 && m.Currency.Valid() && m.Currency != s.ContractInvestment.Currency {
			v.add("value.currency", "currency_mismatch", "must be %s, the contract's currency", s.ContractInvestment.Currency)
		}
	case FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt:
		t := val.(time.Time)
		checkOccurred(v, "value", t, now, pol)
		if t.IsZero() {
			return val
		}
		i := slices.Index(milestoneFields, base)
		for j, f := range milestoneFields {
			m := *s.milestone(f)
			if m.IsZero() || j == i {
				continue
			}
			if j < i && t.Before(m) || j > i && t.After(m) {
				v.add("value", "stage_order", "would put %s out of order with %s", base, f)
			}
		}
		if !s.TerminatedAt.IsZero() && t.After(s.TerminatedAt) {
			v.add("value", "stage_order", "would put %s after the termination", base)
		}
		if base == FieldSignedAt && len(s.Amendments) > 0 && t.After(s.Amendments[0].OccurredAt) {
			v.add("value", "stage_order", "would put the signing after its first amendment")
		}
		if base == FieldSignedAt && slices.ContainsFunc(s.Funds, func(f FundsArrived) bool { return t.After(f.OccurredAt) }) {
			// Funds arrive under the contract (ADR-15): a signing moved past
			// an arrival would count those funds before the project signed.
			v.add("value", "stage_order", "would put the signing after funds arrived")
		}
	}
	return val
}

// correctionYears lists the assessment years whose figures a correction can
// change (by business year of the facts involved): the signing year for the
// contract figure and investor categories (fortune500_projects), old and new
// years for a moved signing or start, and for a moved production start when
// no construction start is recorded (production then counts as the start,
// started_projects), the arrival's year for funds. Fields that feed no
// indicator affect no year (Jiaxing 2024 三(一); DOMAIN.md "DetailsCorrected":
// a correction of a period whose assessment is published is flagged).
func (s *ProjectSnapshot) correctionYears(base CorrectionField, idx int, prev, val any) []int {
	var ys []int
	add := func(t time.Time) {
		if !t.IsZero() && !slices.Contains(ys, t.Year()) {
			ys = append(ys, t.Year())
		}
	}
	switch base {
	case FieldInvestorCategories:
		add(s.SignedAt)
	case FieldContractInvestment:
		if n := len(s.Amendments); n > 0 {
			add(s.Amendments[n-1].OccurredAt)
		} else {
			add(s.SignedAt)
		}
	case FieldSignedAt, FieldStartedAt:
		add(prev.(time.Time))
		add(val.(time.Time))
	case FieldProducingAt:
		if s.StartedAt.IsZero() {
			add(prev.(time.Time))
			add(val.(time.Time))
		}
	case fieldFundsAmount:
		add(s.Funds[idx].OccurredAt)
	}
	slices.Sort(ys)
	return ys
}

// applyCorrection folds a correction into the state; a value that does not
// decode or a field that does not apply is ignored (events are facts; a
// malformed one must not break a replay).
func (s *ProjectSnapshot) applyCorrection(e DetailsCorrected) {
	base, idx, ok := e.Field.parse()
	if !ok {
		return
	}
	val, err := parseCorrectionValue(base, e.Value)
	if err != nil {
		return
	}
	switch base {
	case FieldName:
		s.Name = val.(string)
	case FieldInvestorName:
		s.Investor.Name = val.(string)
	case FieldInvestorUSCC:
		s.Investor.USCC = val.(string)
	case FieldInvestorOrigin:
		s.Investor.Origin = val.(string)
	case FieldInvestorCategories:
		s.Investor.Categories = val.([]Category)
	case FieldIndustryChain:
		s.IndustryChain = val.(string)
	case FieldPlannedInvestment:
		s.PlannedInvestment = val.(Money)
	case FieldSourceChannel:
		s.SourceChannel = SourceChannel(val.(string))
	case FieldReferrer:
		s.Referrer = val.(string)
	case FieldLeadOfficial:
		s.LeadOfficial = val.(string)
	case FieldContractInvestment:
		m := val.(Money)
		if s.ContractInvestment == nil {
			return
		}
		if n := len(s.Amendments); n > 0 {
			a := &s.Amendments[n-1]
			a.ContractInvestment = m
			if inc, err := m.Sub(a.PreviousInvestment); err == nil {
				a.Increment = inc
			}
		} else if s.Signing != nil {
			s.Signing.ContractInvestment = m
		}
		s.ContractInvestment = &m
	case FieldSignedAt, FieldRegisteredAt, FieldStartedAt, FieldProducingAt:
		t := val.(time.Time)
		if p := s.milestone(base); !p.IsZero() {
			*p = t
			if base == FieldSignedAt && s.Signing != nil {
				s.Signing.OccurredAt = t
			}
		}
	case fieldFundsAmount:
		if idx >= 0 && idx < len(s.Funds) {
			s.Funds[idx].Amount = val.(Money)
		}
	}
}

// FlaggedYears is the authoritative answer to "is this correction flagged"
// (DOMAIN.md DetailsCorrected: "a correction of a period whose assessment is
// published is flagged"; "AssessmentPublished freezes a year's result; later
// corrections show as a difference"): the affected years whose published
// result does not include the correction. The correction is flagged when
// there is any.
//
// frozenBefore(year) must report whether the year's AssessmentPublished froze
// its result at a log position (its Position field) before the correction's
// own position. The answer is those years, plus the PublishedYears the
// recording command saw.
//
// Why the event's Flagged field alone is not enough: the command decides the
// flag by reading the assessment streams, which is not part of the
// condition of its append to the project stream (a store appends to one
// stream under one expected version). A publication decided before the
// correction was recorded but appended after the command's read — or one
// that freezes an earlier position the API computed its table at — leaves
// the correction unflagged though the frozen result does not include it.
// Whether a correction is part of a frozen result is fixed by the log order
// alone, which every reader of the log knows, so the flag is computed from
// it; the recorded flag is what the command saw, never wrong when set (a
// publication it saw was appended, and so froze its position, before the
// correction was).
func (c DetailsCorrected) FlaggedYears(frozenBefore func(year int) bool) []int {
	var out []int
	for _, y := range c.AffectedYears {
		if slices.Contains(c.PublishedYears, y) || frozenBefore != nil && frozenBefore(y) {
			out = append(out, y)
		}
	}
	return out
}
