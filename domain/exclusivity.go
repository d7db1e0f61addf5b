package domain

import (
	"slices"
	"time"
)

// ReportProject is POST /api/v1/projects. ProjectID is assigned by the server.
type ReportProject struct {
	ProjectID         string        `json:"-"`
	Name              string        `json:"name"`
	Unit              UnitCode      `json:"unit"`
	Investor          Investor      `json:"investor"`
	IndustryChain     string        `json:"industry_chain"`
	PlannedInvestment Money         `json:"planned_investment"`
	SourceChannel     SourceChannel `json:"source_channel,omitempty"`
	Referrer          string        `json:"referrer,omitempty"`
	LeadOfficial      string        `json:"lead_official,omitempty"`
	OccurredAt        time.Time     `json:"occurred_at"`
}

// ExclusivityKey is the claim key of the report (see ExclusivityKeyOf); the
// commands layer loads ExclusivityStream(key) before DecideReport.
func (c ReportProject) ExclusivityKey() string { return ExclusivityKeyOf(c.Investor, c.IndustryChain) }

// Validate checks the report's fields (API names).
func (c ReportProject) Validate(pol Policy, now time.Time) error {
	var v validator
	checkID(&v, "id", c.ProjectID)
	checkText(&v, "name", c.Name, true, maxName)
	v.addErr("unit", c.Unit.Validate("unit"))
	checkText(&v, "investor.name", c.Investor.Name, true, maxName)
	if NormaliseName(c.Investor.Name) == "" && c.Investor.Name != "" {
		v.add("investor.name", "no_letters", "must contain letters or characters, not only punctuation")
	}
	if u := NormaliseUSCC(c.Investor.USCC); u != "" && !ValidUSCC(u) {
		v.add("investor.uscc", "format", "must be an 18-character unified social credit code with a valid check character")
	}
	checkText(&v, "investor.origin", c.Investor.Origin, false, maxName)
	for i, cat := range c.Investor.Categories {
		if !cat.Valid() {
			v.add("investor.categories["+itoa(i)+"]", "unknown", "%q is not a known category", cat)
		}
	}
	checkText(&v, "industry_chain", c.IndustryChain, true, maxName)
	if NormaliseName(c.IndustryChain) == "" && c.IndustryChain != "" {
		v.add("industry_chain", "no_letters", "must contain letters or characters, not only punctuation")
	}
	c.PlannedInvestment.validate(&v, "planned_investment", true)
	if c.SourceChannel != "" && !c.SourceChannel.Valid() {
		v.add("source_channel", "unknown", "%q is not a known source channel", c.SourceChannel)
	}
	checkText(&v, "referrer", c.Referrer, false, maxName)
	checkText(&v, "lead_official", c.LeadOfficial, false, maxName)
	checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
	return v.err()
}

// ExclusivityClaims is the state of one claim stream (exclusivity-<hash>): every
// claim granted on the key and every report rejected against it.
type ExclusivityClaims struct {
	claims   []ExclusivityClaimed
	rejected []ReportRejected
	events   int
}

// Apply folds one event of the claim stream; other events are ignored.
func (c *ExclusivityClaims) Apply(e Event) {
	switch e := Unwrap(e).(type) {
	case ExclusivityClaimed:
		c.claims = append(c.claims, e)
	case ReportRejected:
		e.Investor.Categories = slices.Clone(e.Investor.Categories)
		c.rejected = append(c.rejected, e)
	default:
		return
	}
	c.events++
}

// Claims lists the claims in the order granted.
func (c *ExclusivityClaims) Claims() []ExclusivityClaimed { return slices.Clone(c.claims) }

// Rejections lists the rejected reports kept on record for the centre.
func (c *ExclusivityClaims) Rejections() []ReportRejected { return slices.Clone(c.rejected) }

// Len is the number of events applied (the stream's length as folded).
func (c *ExclusivityClaims) Len() int { return c.events }

// ActiveAt returns the claim holding at instant t: the first granted claim whose
// window (report occurred_at + exclusivity_days, fixed when granted) has not
// ended at t. The window is half-open: at Until the claim no longer holds. A
// claim holds from the moment it is recorded, even if its report is dated a few
// minutes ahead within the clock-skew allowance, so the window has no lower bound
// here.
func (c *ExclusivityClaims) ActiveAt(t time.Time) (ExclusivityClaimed, bool) {
	for _, cl := range c.claims {
		if t.Before(cl.Until) {
			return cl, true
		}
	}
	return ExclusivityClaimed{}, false
}

// activeFor is ActiveAt restricted to claims of key, so a claim stream loaded
// for the wrong key can never block (or let through) a report.
func (c *ExclusivityClaims) activeFor(key string, t time.Time) (ExclusivityClaimed, bool) {
	for _, cl := range c.claims {
		if cl.Key == key && t.Before(cl.Until) {
			return cl, true
		}
	}
	return ExclusivityClaimed{}, false
}

// ReportDecision is what a successful report appends: the project's first
// event, and, when the report earns first-negotiation rights, the claim to
// append to the claim stream (with the expected version the claims were read
// at, before the project event).
type ReportDecision struct {
	Reported ProjectReported
	Claim    *ExclusivityClaimed
}

// DecideReport decides a project report against the claim stream of its key,
// the policy and the moment it is being recorded (now).
//
// 首报首谈 (Jiaxing 2024 二(一)3 "赋予首报地1个月的排他性首谈资格"):
//   - A report whose planned investment is major (Classify: ≥ ¥10亿 or ≥ US$1亿
//     by default) and finds no active claim gets one: the window runs
//     exclusivity_days from the report's occurred_at. A backdated report whose
//     window has already ended at now gets none.
//   - While another unit's claim is active at now — the moment the competing
//     report is recorded — any report of the same key by a different unit is
//     rejected with *ExclusivityConflictError, whatever its planned investment:
//     a competitor must not dodge the window by reporting a smaller figure.
//     The commands layer then appends RejectionRecord(...) to the claim stream,
//     so the centre sees both claims and may transfer.
//   - The holder's own unit may report the same investor and chain again (a
//     second phase, a duplicate entry): the report is accepted but creates no
//     claim, so re-reporting can never extend the window, which stays anchored
//     to the first report.
func DecideReport(cmd ReportProject, claims *ExclusivityClaims, pol Policy, now time.Time) (ReportDecision, error) {
	if err := cmd.Validate(pol, now); err != nil {
		return ReportDecision{}, err
	}
	if claims == nil {
		claims = &ExclusivityClaims{}
	}
	cls, err := Classify(cmd.PlannedInvestment, pol)
	if err != nil {
		return ReportDecision{}, ValidationErrors{{Field: "planned_investment.amount", Rule: "overflow", Message: err.Error()}}
	}
	key := cmd.ExclusivityKey()
	active, held := claims.activeFor(key, now)
	if held && active.Unit != cmd.Unit {
		return ReportDecision{}, &ExclusivityConflictError{Key: key, HolderUnit: active.Unit,
			HolderProject: active.ProjectID, Until: active.Until}
	}
	inv := cmd.Investor
	inv.USCC = NormaliseUSCC(inv.USCC)
	inv.Categories = dedupe(inv.Categories)
	d := ReportDecision{Reported: ProjectReported{
		ProjectID: cmd.ProjectID, Name: cmd.Name, Unit: cmd.Unit, Investor: inv, IndustryChain: cmd.IndustryChain,
		PlannedInvestment: cmd.PlannedInvestment, SourceChannel: cmd.SourceChannel, Referrer: cmd.Referrer,
		LeadOfficial: cmd.LeadOfficial, OccurredAt: cmd.OccurredAt, Major: cls.Major, ExclusivityKey: key,
		PolicyVersion: pol.Version,
	}}
	if cls.Major && !held {
		until := cmd.OccurredAt.Add(days(pol.ExclusivityDays))
		if until.After(now) {
			d.Claim = &ExclusivityClaimed{Key: key, InvestorName: NormaliseName(inv.Name), USCC: inv.USCC,
				IndustryChain: NormaliseName(cmd.IndustryChain), Unit: cmd.Unit, ProjectID: cmd.ProjectID,
				OccurredAt: cmd.OccurredAt, Until: until, PolicyVersion: pol.Version}
			u := until
			d.Reported.ExclusiveUntil = &u
		}
	}
	return d, nil
}

// Events returns the project stream's events of the decision.
func (d ReportDecision) Events() []Event { return []Event{d.Reported} }

// ClaimEvents returns the claim stream's events of the decision (none or one).
func (d ReportDecision) ClaimEvents() []Event {
	if d.Claim == nil {
		return nil
	}
	return []Event{*d.Claim}
}

// RejectionRecord is the record of a report rejected for an exclusivity
// conflict, kept in the claim stream for the centre (DOMAIN.md ProjectReported:
// "the attempt itself is kept on record").
func RejectionRecord(cmd ReportProject, conflict *ExclusivityConflictError) ReportRejected {
	inv := cmd.Investor
	inv.USCC = NormaliseUSCC(inv.USCC)
	inv.Categories = dedupe(inv.Categories)
	return ReportRejected{Key: conflict.Key, ProjectID: cmd.ProjectID, Unit: cmd.Unit, Name: cmd.Name,
		Investor: inv, IndustryChain: cmd.IndustryChain, PlannedInvestment: cmd.PlannedInvestment,
		SourceChannel: cmd.SourceChannel, OccurredAt: cmd.OccurredAt, HolderUnit: conflict.HolderUnit,
		HolderProject: conflict.HolderProject, Until: conflict.Until}
}

func dedupe[T comparable](xs []T) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
