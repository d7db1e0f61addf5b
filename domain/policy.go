package domain

import (
	"maps"
	"math"
	"reflect"
	"slices"
	"time"
)

// TransferCreditMode is how a transferred project that lands is credited
// (项目流转: Jiaxing 2024 二(一)3 同等赋分; Xiamen 三(二)4 适当分享).
type TransferCreditMode string

const (
	// CreditEqual gives the first-negotiation unit and the receiving unit full
	// credit each (Jiaxing 2024 二(一)3 "予以首谈地和承接地同等赋分").
	CreditEqual TransferCreditMode = "equal"
	// CreditShared splits one credit: the receiving (landing) unit gets Ratio,
	// the first-negotiation unit 1 − Ratio (Xiamen 三(二)4 "给予适当分享").
	CreditShared TransferCreditMode = "shared"
)

// TransferCredit is the transfer_credit policy.
type TransferCredit struct {
	Mode TransferCreditMode `json:"mode"`
	// Ratio is the receiving unit's share in shared mode, in (0, 1]; the
	// first-negotiation unit gets the rest. Ignored in equal mode.
	Ratio float64 `json:"ratio"`
}

// ScoreBands are the lowest scores of each rating; below Pass is fail.
type ScoreBands struct {
	Excellent float64 `json:"excellent"`
	Good      float64 `json:"good"`
	Pass      float64 `json:"pass"`
}

// Policy holds every number the rules use. It is versioned (PolicyAdopted) and
// every computed result names the version it used, so last year's scores can be
// recomputed under last year's rules. JSON field names are the policy document's.
type Policy struct {
	// Version is assigned on adoption: 1, 2, 3 … Version 0 is DefaultPolicy,
	// the built-in rules in force before any adoption.
	Version int `json:"version"`

	// 首报首谈 (Jiaxing 2024 二(一)3): exclusive first negotiation for a major
	// project, "1个月" → 30 days, thresholds "总投资超亿美元和10亿元以上".
	ExclusivityDays   int   `json:"exclusivity_days"`
	MajorThresholdCNY int64 `json:"major_threshold_cny"`
	MajorThresholdUSD int64 `json:"major_threshold_usd"`
	// 重大签约须提前一周报备 (Jiaxing 2024 二(一)3).
	SigningNoticeDays int `json:"signing_notice_days"`
	// 完成率低于70%的不得评定为优秀 (Jiaxing 2024 三(一)).
	ExcellentMinCompletion float64 `json:"excellent_min_completion"`
	// 连续两年 末位 / 未完成目标任务 → 提醒谈话 (Jiaxing 2024 三(一)).
	AdmonishAfterYears int `json:"admonish_after_years"`
	// 项目流转 credit (Jiaxing 2024 二(一)3 equal; Xiamen 三(二)4 shared).
	TransferCredit TransferCredit `json:"transfer_credit"`

	// Not fixed by any document (DOMAIN.md "Policy"):
	RegisterWithinDays     int               `json:"register_within_days"`
	StartWithinDays        int               `json:"start_within_days"`
	StaleDays              int               `json:"stale_days"`
	LateRecordDays         int               `json:"late_record_days"`
	CompletionCap          float64           `json:"completion_cap"`
	USDCNYRate             Rate              `json:"usd_cny_rate"`
	USD100mIncludesCNY     bool              `json:"usd100m_includes_cny"`
	ScoreBands             ScoreBands        `json:"score_bands"`
	ExclusivityWarningDays int               `json:"exclusivity_warning_days"`
	ClockSkewSeconds       int               `json:"clock_skew_seconds"`
	AssessmentWeights      map[Indicator]int `json:"assessment_weights"`
	RankingWeights         map[Indicator]int `json:"ranking_weights"`
}

// DefaultPolicy is version 0, the rules in force before any PolicyAdopted.
//
// From the Jiaxing 2024 plan (003): exclusivity_days 30 (二(一)3 "1个月"), the
// major thresholds ¥10亿 / US$1亿 (二(一)3), signing_notice_days 7 (二(一)3
// "提前一周"), excellent_min_completion 0.70 and admonish_after_years 2 (三(一)),
// transfer_credit equal (二(一)3 "同等赋分").
//
// Fixed by no document, stated as such in docs/policy.md: register_within_days
// 90, start_within_days 180, stale_days 30, late_record_days 15, completion_cap
// 1.2, usd_cny_rate 7.1, score bands 90/75/60, the assessment and ranking weights
// (signed_1b 30, signed_100m 20, contract_investment 20, funds_arrived 20,
// started_projects 10), the shared-mode ratio 0.5, the exclusivity warning 7 days
// (DOMAIN.md's alert table), a clock skew of 300 seconds, and
// usd100m_includes_cny false (DOMAIN.md: a CNY project never counts as usd100m
// unless the policy says so).
func DefaultPolicy() Policy {
	weights := func() map[Indicator]int {
		return map[Indicator]int{
			IndSigned1b:           30,
			IndSigned100m:         20,
			IndContractInvestment: 20,
			IndFundsArrived:       20,
			IndStartedProjects:    10,
		}
	}
	return Policy{
		Version:                0,
		ExclusivityDays:        30,
		MajorThresholdCNY:      Threshold1b,
		MajorThresholdUSD:      ThresholdUSD100m,
		SigningNoticeDays:      7,
		ExcellentMinCompletion: 0.70,
		AdmonishAfterYears:     2,
		TransferCredit:         TransferCredit{Mode: CreditEqual, Ratio: 0.5},
		RegisterWithinDays:     90,
		StartWithinDays:        180,
		StaleDays:              30,
		LateRecordDays:         15,
		CompletionCap:          1.2,
		USDCNYRate:             Rate(7_100_000),
		USD100mIncludesCNY:     false,
		ScoreBands:             ScoreBands{Excellent: 90, Good: 75, Pass: 60},
		ExclusivityWarningDays: 7,
		ClockSkewSeconds:       300,
		AssessmentWeights:      weights(),
		RankingWeights:         weights(),
	}
}

// ClockSkew is the allowance for callers' clocks when checking that occurred_at
// is not in the future.
func (p Policy) ClockSkew() time.Duration { return time.Duration(p.ClockSkewSeconds) * time.Second }

// Clone returns a deep copy (the weight maps are not shared).
func (p Policy) Clone() Policy {
	p.AssessmentWeights = maps.Clone(p.AssessmentWeights)
	p.RankingWeights = maps.Clone(p.RankingWeights)
	return p
}

// Equal reports whether two policies set the same rules, ignoring Version.
func (p Policy) Equal(o Policy) bool {
	p.Version, o.Version = 0, 0
	return reflect.DeepEqual(p, o)
}

// Validate checks the policy document. Field names are the JSON names.
func (p Policy) Validate() error {
	var v validator
	if p.Version < 0 {
		v.add("version", "non_negative", "must not be negative")
	}
	positiveInt := func(field string, n, max int) {
		if n <= 0 {
			v.add(field, "positive", "must be a positive number of days")
		} else if n > max {
			v.add(field, "too_large", "must be at most %d", max)
		}
	}
	positiveInt("exclusivity_days", p.ExclusivityDays, 3660)
	positiveInt("signing_notice_days", p.SigningNoticeDays, 3660)
	positiveInt("register_within_days", p.RegisterWithinDays, 3660)
	positiveInt("start_within_days", p.StartWithinDays, 3660)
	positiveInt("stale_days", p.StaleDays, 3660)
	positiveInt("late_record_days", p.LateRecordDays, 3660)
	positiveInt("exclusivity_warning_days", p.ExclusivityWarningDays, 3660)
	positiveInt("admonish_after_years", p.AdmonishAfterYears, 100)
	if p.MajorThresholdCNY <= 0 {
		v.add("major_threshold_cny", "positive", "must be a positive amount of yuan")
	}
	if p.MajorThresholdUSD <= 0 {
		v.add("major_threshold_usd", "positive", "must be a positive amount of dollars")
	}
	if p.USDCNYRate <= 0 {
		v.add("usd_cny_rate", "positive", "must be a positive rate")
	}
	if p.ClockSkewSeconds < 0 || p.ClockSkewSeconds > 3600 {
		v.add("clock_skew_seconds", "range", "must be between 0 and 3600")
	}
	if !finite(p.ExcellentMinCompletion) || p.ExcellentMinCompletion <= 0 || p.ExcellentMinCompletion > 1 {
		v.add("excellent_min_completion", "range", "must be in (0, 1]")
	}
	if !finite(p.CompletionCap) || p.CompletionCap < 1 || p.CompletionCap > 10 {
		v.add("completion_cap", "range", "must be between 1 and 10")
	}
	switch p.TransferCredit.Mode {
	case CreditEqual, CreditShared:
	case "":
		v.add("transfer_credit.mode", "required", "is required (equal or shared)")
	default:
		v.add("transfer_credit.mode", "unknown", "must be equal or shared")
	}
	if r := p.TransferCredit.Ratio; !finite(r) || r <= 0 || r > 1 {
		v.add("transfer_credit.ratio", "range", "must be in (0, 1]")
	}
	b := p.ScoreBands
	if !finite(b.Excellent) || !finite(b.Good) || !finite(b.Pass) || b.Pass < 0 ||
		!(b.Excellent > b.Good && b.Good > b.Pass) {
		v.add("score_bands", "descending", "must satisfy excellent > good > pass ≥ 0")
	}
	checkWeights(&v, "assessment_weights", p.AssessmentWeights)
	checkWeights(&v, "ranking_weights", p.RankingWeights)
	return v.err()
}

func checkWeights(v *validator, field string, w map[Indicator]int) {
	if len(w) == 0 {
		v.add(field, "required", "is required")
		return
	}
	sum := 0
	for _, ind := range slices.Sorted(maps.Keys(w)) {
		if !ind.Valid() {
			v.add(field+"."+string(ind), "unknown", "is not a known indicator")
		}
		if w[ind] <= 0 {
			v.add(field+"."+string(ind), "positive", "must be a positive weight")
		}
		sum += w[ind]
	}
	if sum != 100 {
		v.add(field, "sum_100", "weights must sum to 100, not %d", sum)
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ---- the policy aggregate (stream "policy") ----

// Policies is the state of the policy stream: every adopted version, in order.
type Policies struct {
	versions []Policy    // versions[i].Version == i+1 when the log is well formed
	adopted  []time.Time // adopted[i] is when versions[i] took effect (its occurred_at)
}

// Apply folds one event; other events are ignored. Facts are not validated.
func (ps *Policies) Apply(e Event) {
	if a, ok := Unwrap(e).(PolicyAdopted); ok {
		ps.versions = append(ps.versions, a.Policy.Clone())
		ps.adopted = append(ps.adopted, a.OccurredAt)
	}
}

// InForceAt is the version in force at t: the one adopted last at or before
// t (of two adopted at the same moment, the later in the log), or 0 (the
// defaults) when none was. A period is judged under the policy in force at
// its end (DOMAIN.md "Policy": every result names its version "so last
// year's scores can be recomputed under last year's rules"; "Assessment",
// Jiaxing 2024 三(一): a published result never changes silently), so a
// version adopted after the year never rescores it.
func (ps *Policies) InForceAt(t time.Time) int {
	version, at := 0, time.Time{}
	for i, v := range ps.versions {
		if a := ps.adopted[i]; !a.After(t) && (version == 0 || !a.Before(at)) {
			version, at = v.Version, a
		}
	}
	return version
}

// Version is the current version (0 when nothing was adopted).
func (ps *Policies) Version() int {
	if len(ps.versions) == 0 {
		return 0
	}
	return ps.versions[len(ps.versions)-1].Version
}

// Current is the policy in force: the last adopted version, or DefaultPolicy.
func (ps *Policies) Current() Policy {
	if len(ps.versions) == 0 {
		return DefaultPolicy()
	}
	return ps.versions[len(ps.versions)-1].Clone()
}

// At returns the policy of a given version; 0 is DefaultPolicy.
func (ps *Policies) At(version int) (Policy, error) {
	if version == 0 {
		return DefaultPolicy(), nil
	}
	for i := len(ps.versions) - 1; i >= 0; i-- {
		if ps.versions[i].Version == version {
			return ps.versions[i].Clone(), nil
		}
	}
	return Policy{}, &NotFoundError{What: "policy version", ID: itoa(version)}
}

// All returns every adopted version, oldest first.
func (ps *Policies) All() []Policy {
	out := make([]Policy, len(ps.versions))
	for i, p := range ps.versions {
		out[i] = p.Clone()
	}
	return out
}

// AdoptPolicy is PUT /api/v1/policy. Version may be 0 (assign the next one) or
// exactly the next version; anything else is a stale or skipping document.
type AdoptPolicy struct {
	Policy Policy
}

// Decide adopts a new version = current + 1 after validating it (versions only
// increase, one at a time). A document equal to the policy in force, sent with
// no version, its version or the next, records nothing, so a retried PUT or a
// GET put back unchanged does not mint versions; the first adoption is always
// recorded.
func (ps *Policies) Decide(cmd AdoptPolicy, now time.Time) ([]Event, error) {
	p := cmd.Policy.Clone()
	cur, next := ps.Version(), ps.Version()+1
	if len(ps.versions) > 0 && p.Equal(ps.Current()) && (p.Version == 0 || p.Version == cur || p.Version == next) {
		return nil, nil // the policy in force, sent again (a GET put back unchanged, a retry)
	}
	if p.Version != 0 && p.Version != next {
		return nil, ValidationErrors{{Field: "version", Rule: "must_increase",
			Message: "must be omitted or the next version " + itoa(next)}}
	}
	p.Version = next
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return []Event{PolicyAdopted{Policy: p, OccurredAt: now}}, nil
}
