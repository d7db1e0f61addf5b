package domain

import (
	"time"
)

// The rules in this file say what should have happened. They never stop a fact
// from being recorded (DOMAIN.md: "the breach becomes a supervision alert");
// the read side calls them to raise alerts. Each takes the time it judges at.

// Alert kinds (DOMAIN.md "Supervision").
const (
	AlertExclusivityExpiring = "exclusivity_expiring"
	AlertExclusivityLapsed   = "exclusivity_lapsed"
	AlertSigningNotFiled     = "signing_not_filed"
	AlertRegistrationOverdue = "registration_overdue"
	AlertStartOverdue        = "start_overdue"
	AlertFundsBehind         = "funds_behind"
	AlertStale               = "stale"
	AlertLateRecord          = "late_record"
	AlertOrderOverdue        = "order_overdue"
	AlertExclusivityConflict = "exclusivity_conflict"
)

// AlertKinds lists the alert kinds.
func AlertKinds() []string {
	return []string{AlertExclusivityExpiring, AlertExclusivityLapsed, AlertSigningNotFiled,
		AlertRegistrationOverdue, AlertStartOverdue, AlertFundsBehind, AlertStale, AlertLateRecord,
		AlertOrderOverdue, AlertExclusivityConflict}
}

// IsFuture reports whether a business time lies in the future beyond the
// policy's clock skew (DOMAIN.md "Time": occurred_at may not lie in the future).
func IsFuture(occurred, now time.Time, pol Policy) bool {
	return occurred.After(now.Add(pol.ClockSkew()))
}

// IsLateRecord reports whether an event was recorded more than late_record_days
// after it occurred (补录; DOMAIN.md "Time"). Days are 24-hour spans.
func IsLateRecord(occurred, recorded time.Time, pol Policy) bool {
	return recorded.Sub(occurred) > days(pol.LateRecordDays)
}

// SigningNeedsFiling reports whether a signing of this contract figure is a
// major signing that must be filed in advance (Jiaxing 2024 二(一)3
// "凡重大签约项目，须提前一周报市投促中心备案"; same thresholds as 首报首谈).
func SigningNeedsFiling(contract Money, pol Policy) bool { return IsMajor(contract, pol) }

// SigningFiledInTime reports whether any filing was recorded at least
// signing_notice_days before the signing date (Jiaxing 2024 二(一)3 提前一周).
// filedAt are the filings' recorded_at; the comparison is by civil date in loc,
// so a filing on 3 May counts for a signing on 10 May with a 7-day notice. A
// filing counts whatever date it planned: the rule measures the notice the
// centre had.
func SigningFiledInTime(filedAt []time.Time, signDate Date, loc *time.Location, pol Policy) bool {
	deadline := signDate.AddDays(-pol.SigningNoticeDays)
	for _, t := range filedAt {
		if !DateOf(t, loc).After(deadline) {
			return true
		}
	}
	return false
}

// SigningNotFiled reports the signing_not_filed alert for a signed project: a
// major signing with no filing signing_notice_days before it. It uses the
// filings' own time (the moment they were decided, which is when they were
// recorded); a reader holding the envelopes' recorded_at may call
// SigningFiledInTime directly.
func (p *Project) SigningNotFiled(loc *time.Location, pol Policy) bool {
	if p.s.Signing == nil || !SigningNeedsFiling(p.s.Signing.ContractInvestment, pol) {
		return false
	}
	filed := make([]time.Time, 0, len(p.s.Filings))
	for _, f := range p.s.Filings {
		filed = append(filed, f.OccurredAt)
	}
	return !SigningFiledInTime(filed, DateOf(p.s.SignedAt, loc), loc, pol)
}

// RegistrationDue is the date registration is due: the contract's register_by,
// else the signing date + register_within_days (a default no document fixes).
func (p *Project) RegistrationDue(loc *time.Location, pol Policy) (Date, bool) {
	if p.s.Signing == nil {
		return Date{}, false
	}
	if d := p.s.Signing.Commitments.RegisterBy; d != nil && d.Valid() {
		return *d, true
	}
	return DateOf(p.s.SignedAt, loc).AddDays(pol.RegisterWithinDays), true
}

// StartDue is the date construction is due to start: the contract's start_by,
// else the signing date + start_within_days.
func (p *Project) StartDue(loc *time.Location, pol Policy) (Date, bool) {
	if p.s.Signing == nil {
		return Date{}, false
	}
	if d := p.s.Signing.Commitments.StartBy; d != nil && d.Valid() {
		return *d, true
	}
	return DateOf(p.s.SignedAt, loc).AddDays(pol.StartWithinDays), true
}

// registeredWhen is when registration was achieved: its own date, or, when the
// project skipped the registration record, the first later milestone.
func (p *Project) registeredWhen() time.Time {
	for _, t := range []time.Time{p.s.RegisteredAt, p.s.StartedAt, p.s.ProducingAt} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func (p *Project) startedWhen() time.Time {
	if !p.s.StartedAt.IsZero() {
		return p.s.StartedAt
	}
	return p.s.ProducingAt
}

// overdue: a signed, active project past the end of the due date without the fact.
func (p *Project) overdue(due Date, ok bool, achieved, now time.Time, loc *time.Location) bool {
	if !ok || p.s.Stage == StageTerminated {
		return false
	}
	if !achieved.IsZero() && achieved.Before(now) {
		return false
	}
	return !now.Before(due.End(loc))
}

// RegistrationOverdue is the registration_overdue alert (DOMAIN.md
// "Supervision"; Suzhou 五(五) 履约).
func (p *Project) RegistrationOverdue(now time.Time, loc *time.Location, pol Policy) bool {
	due, ok := p.RegistrationDue(loc, pol)
	return p.overdue(due, ok, p.registeredWhen(), now, loc)
}

// StartOverdue is the start_overdue alert (Suzhou 五(五) 开工率).
func (p *Project) StartOverdue(now time.Time, loc *time.Location, pol Policy) bool {
	due, ok := p.StartDue(loc, pol)
	return p.overdue(due, ok, p.startedWhen(), now, loc)
}

// FundsDue is the contract's funds schedule due by the end of date at, in yuan.
func (p *Project) FundsDue(at Date, pol Policy) (Money, error) {
	if p.s.Signing == nil {
		return Yuan(0), nil
	}
	var ms []Money
	for _, f := range p.s.Signing.Commitments.Funds {
		if !f.By.After(at) {
			ms = append(ms, f.Amount)
		}
	}
	return SumCNY(pol.USDCNYRate, ms...)
}

// FundsBehind is the funds_behind alert (Suzhou 五(五) 资金到位率): funds arrived
// so far are below the schedule due by yesterday (a milestone is due at the end
// of its date).
func (p *Project) FundsBehind(now time.Time, loc *time.Location, pol Policy) bool {
	if p.s.Signing == nil || p.s.Stage == StageTerminated {
		return false
	}
	due, err := p.FundsDue(DateOf(now, loc).AddDays(-1), pol)
	if err != nil || due.Amount == 0 {
		return false
	}
	got, err := p.FundsArrivedTotal(now, pol)
	return err == nil && got.Amount < due.Amount
}

// IsStale reports the stale alert: no event on an active project for
// stale_days (DOMAIN.md "Supervision": a month without progress must be
// explained; Changsha 十三 周调度). last is the latest event's recorded_at (or
// occurred_at, as the caller chooses).
func IsStale(last, now time.Time, pol Policy) bool {
	return now.Sub(last) > days(pol.StaleDays)
}

// Stale is IsStale for a project under way (reported through started; not
// producing, not terminated: Stage.UnderWay) since its latest progress: a
// correction of its details is not progress (DOMAIN.md "a month without
// progress must be explained"), or a typo fixed each month would silence it.
func (p *Project) Stale(now time.Time, pol Policy) bool {
	return p.s.Stage.UnderWay() && IsStale(p.s.LastProgressAt, now, pol)
}

// ExclusivityExpiring is the exclusivity_expiring alert: the project's
// exclusive window (Jiaxing 2024 二(一)3 "1个月的排他性首谈资格") ends within
// exclusivity_warning_days and the project is still only reported — no
// negotiation recorded, not signed.
func (p *Project) ExclusivityExpiring(now time.Time, pol Policy) bool {
	u := p.s.ExclusiveUntil
	if u == nil || p.s.Stage != StageReported {
		return false
	}
	return now.Before(*u) && !u.After(now.Add(days(pol.ExclusivityWarningDays)))
}

// ExclusivityLapsed is the exclusivity_lapsed alert: the window ended and the
// project is still only reported. It closes when a negotiation or a signing is
// recorded (the project moves on) or the project ends.
func (p *Project) ExclusivityLapsed(now time.Time) bool {
	u := p.s.ExclusiveUntil
	if u == nil || p.s.Stage != StageReported {
		return false
	}
	return !now.Before(*u)
}

// Fulfilment is one signed project's 履约 status at a moment (Suzhou 五(五)):
// Due when a registration or start commitment has fallen due, Met when every
// fallen-due commitment was met by its date.
type Fulfilment struct {
	Due bool
	Met bool
}

// FulfilmentAt evaluates the project's commitments at instant at.
func (p *Project) FulfilmentAt(at time.Time, loc *time.Location, pol Policy) Fulfilment {
	var f Fulfilment
	if p.s.Signing == nil {
		return f
	}
	f.Met = true
	check := func(due Date, ok bool, achieved time.Time) {
		if !ok || at.Before(due.End(loc)) {
			return
		}
		f.Due = true
		if achieved.IsZero() || !achieved.Before(due.End(loc)) {
			f.Met = false
		}
	}
	rd, rok := p.RegistrationDue(loc, pol)
	check(rd, rok, p.registeredWhen())
	sd, sok := p.StartDue(loc, pol)
	check(sd, sok, p.startedWhen())
	if !f.Due {
		f.Met = false
	}
	return f
}

// Rates are the three rates of Suzhou 五(五) for a set of projects (one unit's),
// with numerators and denominators so the API can show both.
type Rates struct {
	// 履约率: signed projects with a commitment fallen due whose fallen-due
	// commitments were all met / those with a commitment fallen due.
	FulfilmentMet, FulfilmentDue int
	// 开工率: signed projects that started / signed projects.
	Started, Signed int
	// 资金到位率: funds arrived / contracted investment (yuan).
	FundsArrived, Contracted Money
}

// FulfilmentRate is FulfilmentMet / FulfilmentDue (ok false when nothing fell due).
func (r Rates) FulfilmentRate() (float64, bool) { return ratio(r.FulfilmentMet, r.FulfilmentDue) }

// StartRate is Started / Signed.
func (r Rates) StartRate() (float64, bool) { return ratio(r.Started, r.Signed) }

// FundsRate is FundsArrived / Contracted.
func (r Rates) FundsRate() (float64, bool) {
	if r.Contracted.Amount <= 0 {
		return 0, false
	}
	return float64(r.FundsArrived.Amount) / float64(r.Contracted.Amount), true
}

func ratio(n, d int) (float64, bool) {
	if d == 0 {
		return 0, false
	}
	return float64(n) / float64(d), true
}

// ComputeRates computes the Suzhou 五(五) rates over the projects signed in per,
// judged at instant at (facts after at are ignored). Terminated projects stay
// in: a signed project that never started lowers the start rate.
//
// rateAt gives the USD→CNY rate in force at a moment: the contract figure is
// converted at the rate of the day it was signed or last amended, each
// arrival of funds at the rate of its own day (DOMAIN.md "Tiers": USD
// amounts are converted at the policy's rate — the policy in force when the
// fact occurred, as the ranking counts them, so both views show one yuan
// figure for the same facts). Nil converts everything at pol's rate.
func ComputeRates(projects []*Project, per Period, at time.Time, loc *time.Location, pol Policy, rateAt func(time.Time) Rate) (Rates, error) {
	if rateAt == nil {
		rateAt = func(time.Time) Rate { return pol.USDCNYRate }
	}
	r := Rates{FundsArrived: Yuan(0), Contracted: Yuan(0)}
	// addAt adds m, converted at the rate in force at t, to sum.
	addAt := func(sum *Money, m Money, t time.Time) error {
		c, err := m.ToCNY(rateAt(t))
		if err == nil {
			*sum, err = sum.Add(c)
		}
		return err
	}
	for _, p := range projects {
		if p == nil || p.s.Signing == nil || !per.Contains(p.s.SignedAt) || p.s.SignedAt.After(at) {
			continue
		}
		r.Signed++
		if s := p.startedWhen(); !s.IsZero() && !s.After(at) {
			r.Started++
		}
		if f := p.FulfilmentAt(at, loc, pol); f.Due {
			r.FulfilmentDue++
			if f.Met {
				r.FulfilmentMet++
			}
		}
		// The signing's figure at the signing's rate, each amendment's
		// increment at its own: the sum the ranking's contract_investment
		// counts, so both show one yuan figure.
		if err := addAt(&r.Contracted, p.s.Signing.ContractInvestment, p.s.SignedAt); err != nil {
			return Rates{}, err
		}
		for _, a := range p.s.Amendments {
			if !a.OccurredAt.After(at) {
				if err := addAt(&r.Contracted, a.Increment, a.OccurredAt); err != nil {
					return Rates{}, err
				}
			}
		}
		for _, f := range p.s.Funds {
			if !f.OccurredAt.After(at) {
				if err := addAt(&r.FundsArrived, f.Amount, f.OccurredAt); err != nil {
					return Rates{}, err
				}
			}
		}
	}
	return r, nil
}

// DueProcessFlags says which of Jiaxing 2024 三(四)'s three steps the project has
// on record (the API's due_process booleans). Whether they count for tolerance is
// EvaluateTolerance's question, judged by recorded_at.
type DueProcessFlags struct {
	FeasibilityStudy   bool `json:"feasibility_study"`
	RiskAssessment     bool `json:"risk_assessment"`
	CollectiveDecision bool `json:"collective_decision"`
}

// DueProcess returns the project's due-process flags.
func (p *Project) DueProcess() DueProcessFlags { return p.s.DueProcessDone }

func (f *DueProcessFlags) set(k DueProcessKind) {
	switch k {
	case DueFeasibilityStudy:
		f.FeasibilityStudy = true
	case DueRiskAssessment:
		f.RiskAssessment = true
	case DueCollectiveDecision:
		f.CollectiveDecision = true
	}
}

// Alerts lists the project's open alert kinds at now that its own state can
// tell (DOMAIN.md "Supervision"): exclusivity_expiring, exclusivity_lapsed,
// signing_not_filed, registration_overdue, start_overdue, funds_behind and stale
// (by business time). late_record needs each envelope's recorded_at
// (IsLateRecord), exclusivity_conflict the claim stream, order_overdue the
// orders: the read side adds those.
func (p *Project) Alerts(now time.Time, loc *time.Location, pol Policy) []string {
	if !p.Exists() {
		return nil
	}
	var out []string
	add := func(ok bool, kind string) {
		if ok {
			out = append(out, kind)
		}
	}
	add(p.ExclusivityExpiring(now, pol), AlertExclusivityExpiring)
	add(p.ExclusivityLapsed(now), AlertExclusivityLapsed)
	// A breach of the filing duty stays after termination: ending the
	// project does not file the signing (the read side clears it only on
	// the centre's follow-up, an order closed after it).
	add(p.SigningNotFiled(loc, pol), AlertSigningNotFiled)
	add(p.RegistrationOverdue(now, loc, pol), AlertRegistrationOverdue)
	add(p.StartOverdue(now, loc, pol), AlertStartOverdue)
	add(p.FundsBehind(now, loc, pol), AlertFundsBehind)
	add(p.Stale(now, pol), AlertStale)
	return out
}
