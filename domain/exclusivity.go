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

// ExclusivityKey is the report's primary claim key (see ExclusivityKeyOf),
// the one ProjectReported records.
func (c ReportProject) ExclusivityKey() string { return ExclusivityKeyOf(c.Investor, c.IndustryChain) }

// ExclusivityKeys is every key the report is judged under and claims (see
// ExclusivityKeysOf, sorted): the commands layer loads
// ExclusivityStream(key) of each into one ExclusivityClaims before
// DecideReport.
func (c ReportProject) ExclusivityKeys() []string {
	return ExclusivityKeysOf(c.Investor, c.IndustryChain)
}

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

// ExclusivityClaims is the state of the claim streams (exclusivity-<hash>) a
// report is judged against: every claim granted on their keys and every
// report rejected against them. One value may fold several streams — a
// report reads the stream of each of its keys — and a claim recorded under
// two keys then appears once per key; judging is by content (Covers), so
// the copies agree.
//
// A claim is void once a ReportRejected of its own project is folded: the
// commands layer records a claim under each key in turn, and a report that
// claimed one key and then lost the race for another is rejected; its
// rejection is then also appended to the streams it had already claimed,
// so the half-made claim never blocks anyone. A claim whose project stream
// was never written for another reason (the process died between the claim
// and the project, and the request was not retried with its idempotency
// key) is not void: it holds its window, and the centre sees a claim whose
// project does not exist.
type ExclusivityClaims struct {
	claims   []ExclusivityClaimed
	rejected []ReportRejected
	void     map[string]bool // project ids whose report was rejected
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
		if c.void == nil {
			c.void = map[string]bool{}
		}
		c.void[e.ProjectID] = true
	default:
		return
	}
	c.events++
}

// Claims lists the claims in the order folded, void ones included (the
// record is never edited; Void tells them apart).
func (c *ExclusivityClaims) Claims() []ExclusivityClaimed { return slices.Clone(c.claims) }

// Rejections lists the rejected reports kept on record for the centre.
func (c *ExclusivityClaims) Rejections() []ReportRejected { return slices.Clone(c.rejected) }

// Void reports whether the claim's project was rejected after it claimed
// (a half-made claim, see ExclusivityClaims): such a claim never holds.
func (c *ExclusivityClaims) Void(cl ExclusivityClaimed) bool { return c.void[cl.ProjectID] }

// Len is the number of events applied (the streams' length as folded).
func (c *ExclusivityClaims) Len() int { return c.events }

// ActiveAt returns the claim holding at instant t: the first granted claim
// that is not void and whose window (report occurred_at + exclusivity_days,
// fixed when granted) has not ended at t. The window is half-open: at Until
// the claim no longer holds. A claim holds from the moment it is recorded,
// even if its report is dated a few minutes ahead within the clock-skew
// allowance, so the window has no lower bound here.
func (c *ExclusivityClaims) ActiveAt(t time.Time) (ExclusivityClaimed, bool) {
	for _, cl := range c.claims {
		if t.Before(cl.Until) && !c.void[cl.ProjectID] {
			return cl, true
		}
	}
	return ExclusivityClaimed{}, false
}

// Covers reports whether the claim is on investor inv in chain: the same
// normalised chain and the same investor by SameInvestor (codes when both
// sides have one, else normalised names).
func (cl ExclusivityClaimed) Covers(inv Investor, chain string) bool {
	return NormaliseName(cl.IndustryChain) == NormaliseName(chain) &&
		SameInvestor(Investor{Name: cl.InvestorName, USCC: cl.USCC}, inv)
}

// judge finds what the claims say about cmd at instant t: the claim of
// another unit that blocks it (nil if none) and whether cmd's own unit holds
// an active claim covering it. Of several blocking claims the earliest
// report wins (occurred_at, then project id, so the answer does not depend
// on the order the streams were folded in); of that claim's copies the one
// under the key the match was made by is named (the uscc key when both
// sides have a code, else the name key), which is the stream the rejection
// is recorded in.
func (c *ExclusivityClaims) judge(cmd ReportProject, t time.Time) (blocking *ExclusivityClaimed, ownHeld bool) {
	for i := range c.claims {
		cl := &c.claims[i]
		if !t.Before(cl.Until) || c.void[cl.ProjectID] || !cl.Covers(cmd.Investor, cmd.IndustryChain) {
			continue
		}
		if cl.Unit == cmd.Unit {
			ownHeld = true
			continue
		}
		if blocking == nil || cl.OccurredAt.Before(blocking.OccurredAt) ||
			cl.OccurredAt.Equal(blocking.OccurredAt) && cl.ProjectID < blocking.ProjectID {
			blocking = cl
		}
	}
	if blocking == nil {
		return nil, ownHeld
	}
	want := nameKey(cmd.Investor.Name, cmd.IndustryChain)
	if u := NormaliseUSCC(cmd.Investor.USCC); u != "" && blocking.USCC != "" {
		want = usccKey(u, cmd.IndustryChain)
	}
	for i := range c.claims {
		if cl := &c.claims[i]; cl.ProjectID == blocking.ProjectID && cl.Key == want {
			blocking = cl
			break
		}
	}
	b := *blocking
	return &b, ownHeld
}

// ReportDecision is what a successful report appends: the project's first
// event, and, when the report earns first-negotiation rights, its claims —
// one per key of ExclusivityKeysOf, each to be appended to
// ExclusivityStream(claim.Key) with the expected version that stream was
// read at, before the project event.
type ReportDecision struct {
	Reported ProjectReported
	// Claim is the claim under the primary key (Reported.ExclusivityKey),
	// nil when the report claims nothing.
	Claim *ExclusivityClaimed
	// Claims is every claim, in key order (the primary one included).
	Claims []ExclusivityClaimed
}

// DecideReport decides a project report against the claims read from the
// streams of every one of its keys (cmd.ExclusivityKeys), the policy and the
// moment it is being recorded (now).
//
// 首报首谈 (Jiaxing 2024 二(一)3 "赋予首报地1个月的排他性首谈资格"):
//   - A report whose planned investment is major (Classify: ≥ ¥10亿 or ≥ US$1亿
//     by default) and finds no active claim covering it gets one, recorded
//     under each of its keys: the window runs exclusivity_days from the
//     report's occurred_at. A backdated report whose window has already ended
//     at now gets none.
//   - While another unit's claim covering the same investor (SameInvestor:
//     same uscc, or same normalised name when either side has no code) in the
//     same chain is active at now — the moment the competing report is
//     recorded — the report is rejected with *ExclusivityConflictError,
//     whatever its planned investment: a competitor must not dodge the window
//     by reporting a smaller figure, nor by leaving the code out. The
//     commands layer then appends RejectionRecord(...) to
//     ExclusivityStream(conflict.Key), so the centre sees both claims and may
//     transfer.
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
	blocking, ownHeld := claims.judge(cmd, now)
	if blocking != nil {
		return ReportDecision{}, &ExclusivityConflictError{Key: blocking.Key, HolderUnit: blocking.Unit,
			HolderProject: blocking.ProjectID, Until: blocking.Until}
	}
	key := cmd.ExclusivityKey()
	inv := cmd.Investor
	inv.USCC = NormaliseUSCC(inv.USCC)
	inv.Categories = dedupe(inv.Categories)
	d := ReportDecision{Reported: ProjectReported{
		ProjectID: cmd.ProjectID, Name: cmd.Name, Unit: cmd.Unit, Investor: inv, IndustryChain: cmd.IndustryChain,
		PlannedInvestment: cmd.PlannedInvestment, SourceChannel: cmd.SourceChannel, Referrer: cmd.Referrer,
		LeadOfficial: cmd.LeadOfficial, OccurredAt: cmd.OccurredAt, Major: cls.Major, ExclusivityKey: key,
		PolicyVersion: pol.Version,
	}}
	if cls.Major && !ownHeld {
		until := cmd.OccurredAt.Add(days(pol.ExclusivityDays))
		if until.After(now) {
			for _, k := range cmd.ExclusivityKeys() {
				cl := ExclusivityClaimed{Key: k, InvestorName: NormaliseName(inv.Name), USCC: inv.USCC,
					IndustryChain: NormaliseName(cmd.IndustryChain), Unit: cmd.Unit, ProjectID: cmd.ProjectID,
					OccurredAt: cmd.OccurredAt, Until: until, PolicyVersion: pol.Version}
				d.Claims = append(d.Claims, cl)
				if k == key {
					d.Claim = &cl
				}
			}
			u := until
			d.Reported.ExclusiveUntil = &u
		}
	}
	return d, nil
}

// Events returns the project stream's events of the decision.
func (d ReportDecision) Events() []Event { return []Event{d.Reported} }

// ClaimEvents returns the claims of the decision as events, in key order:
// none, or one per key of the report. Each belongs to the stream of its own
// key, ExclusivityStream(claim.Key).
func (d ReportDecision) ClaimEvents() []Event {
	if len(d.Claims) == 0 {
		return nil
	}
	out := make([]Event, len(d.Claims))
	for i, cl := range d.Claims {
		out[i] = cl
	}
	return out
}

// RejectionRecord is the record of a report rejected for an exclusivity
// conflict, kept for the centre in the claim stream of conflict.Key (DOMAIN.md
// ProjectReported: "the attempt itself is kept on record") — and in any
// stream the report had already claimed, which the record voids.
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
