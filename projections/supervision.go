package projections

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The supervision view (督办; DOMAIN.md "Supervision"): alerts, orders with
// the six 定, and the three rates.
//
// Alerts are decided by the domain's rules (domain/rules.go) at the moment
// a query names: the time-based ones open without any event arriving. To
// avoid asking every rule about every project on every query, each project
// keeps, per time-based kind, whether the alert can open at all with the
// facts known ("armed") and the earliest moment it can ("since"); a query
// asks the domain only about armed projects whose moment has come. This is
// exact for any "now" at or after the business time of the facts the views
// hold — which is always the case live, and for the views time travel
// builds (AsKnownAt, AsOf).
//
// Breaches that no later fact can repair — a major signing not filed a week
// ahead, a record entered late (补录), a report rejected under another
// unit's exclusivity — stay open until the centre follows them up: a
// supervision order about the project closed after the breach was recorded
// clears them (交办 → 办结), and a transfer of the project clears an
// exclusivity conflict (the centre's answer to two claims).

// Time-based kinds a project can be armed for.
const (
	armExpiring = iota
	armLapsed
	armRegistration
	armStart
	armFunds
	armStale
	numArmed
)

var armedKinds = [numArmed]string{domain.AlertExclusivityExpiring, domain.AlertExclusivityLapsed,
	domain.AlertRegistrationOverdue, domain.AlertStartOverdue, domain.AlertFundsBehind, domain.AlertStale}

// Breach kinds, cleared only by the centre's follow-up.
const (
	brSigning = iota
	brLate
	brConflict
	numBreach
)

var breachKinds = [numBreach]string{domain.AlertSigningNotFiled, domain.AlertLateRecord, domain.AlertExclusivityConflict}

type breach struct {
	since    time.Time
	recorded time.Time
	pos      eventstore.Position
	detail   string
	// A late record keeps its facts and formats its detail when asked.
	lateType     uint8
	lateOccurred time.Time
	lateDays     int
}

func (b *breach) text(loc *time.Location) string {
	if b.lateType == 0 {
		return b.detail
	}
	// Days and hours: the rule is elapsed time, so "15 days later" would
	// read as within a 15-day limit when it was 15 days and 3 hours.
	late := b.recorded.Sub(b.lateOccurred)
	hours := int(late.Hours())
	return fmt.Sprintf("%s occurred %s, recorded %s (%d days %d hours later; late_record_days %d)", registered.names[b.lateType],
		domain.DateOf(b.lateOccurred, loc), domain.DateOf(b.recorded, loc), hours/24, hours%24, b.lateDays)
}

type conflict struct {
	breach
	// stream is the claim stream holding the rejection (time travel reads it).
	stream string
	unit   domain.UnitCode
	// attempt is the rejected report's project id: the identity of the
	// attempt, shared by every copy of its rejection.
	attempt string
}

type milestone struct {
	end      int64 // end of the due date, Unix ns
	cny, usd int64 // schedule due by then, cumulative, in each currency
}

// money is an amount kept in its two currencies, converted only when a
// rate is chosen: funds_behind is judged at the rate of the query's
// policy, which may not be the rate of any fact.
type money struct{ cny, usd int64 }

// yuan is m at rate; an amount too large to convert counts as unbounded.
func (m money) yuan(rate domain.Rate) int64 {
	u, err := domain.Money{Amount: m.usd, Currency: domain.USD}.ToCNY(rate)
	if err != nil {
		return math.MaxInt64
	}
	return m.cny + u.Amount
}

func (m *money) add(x domain.Money) {
	if x.Currency == domain.USD {
		m.usd += x.Amount
	} else {
		m.cny += x.Amount
	}
}

type orderEntry struct {
	seq         uint32
	id          string
	o           domain.SupervisionOrder
	unit        domain.UnitCode
	projectID   string
	deadlineEnd time.Time
	issuedRec   time.Time
	version     uint64
	pos         eventstore.Position
}

type supervisionState struct {
	armed    [numArmed]bitset // over project seqs
	breaches [numBreach]bitset
	// dirty are the projects to arm again, nDirty how many
	// (markArming).
	dirty  bitset
	nDirty int

	orders     []*orderEntry
	orderByID  map[string]*orderEntry
	openOrders bitset
	orderUnit  keyedBitsets
	byProject  map[string][]uint32
	signedBy   map[domain.UnitCode]map[int][]uint32 // landing unit → signing year → project seqs
	signedYear map[uint32]signedKey
}

type signedKey struct {
	unit domain.UnitCode
	year int
}

func newSupervisionState() supervisionState {
	return supervisionState{orderByID: map[string]*orderEntry{}, orderUnit: keyedBitsets{},
		byProject: map[string][]uint32{}, signedBy: map[domain.UnitCode]map[int][]uint32{}, signedYear: map[uint32]signedKey{}}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func (v *Views) arm(en *projectEntry, k int, on bool, since time.Time) {
	bs := &v.sup.armed[k]
	if on {
		en.armed |= 1 << k
		en.since[k] = since.UnixNano()
		bs.set(en.seq)
	} else {
		en.armed &^= 1 << k
		bs.clear(en.seq)
	}
}

// supProjectEvent records what event e changes of the project's alerts:
// its breaches now, its time-based alerts marked for arming (markArming).
func (v *Views) supProjectEvent(en *projectEntry, d *decoded, e domain.Event, occ time.Time, pol *domain.Policy) {
	breaches := false
	// late_record_days is at least one day (Policy.Validate), so a fact
	// recorded within a day of occurring needs no asking.
	if d.RecordedAt.Sub(occ) > 24*time.Hour && domain.IsLateRecord(occ, d.RecordedAt, *pol) {
		breaches = true
		en.lateRecords = append(en.lateRecords, breach{since: d.RecordedAt, recorded: d.RecordedAt, pos: d.Position,
			lateType: d.pre.typ, lateOccurred: occ, lateDays: pol.LateRecordDays})
	}
	switch x := e.(type) {
	case domain.ProjectReported:
		if x.ExclusiveUntil != nil {
			en.exclusiveUntil = *x.ExclusiveUntil
		}
	case domain.SigningFiled:
		en.filedRecorded = append(en.filedRecorded, d.RecordedAt)
	case domain.ContractSigned:
		breaches = true
		en.signingBreach = v.signingBreach(en, x.ContractInvestment, x.OccurredAt, d, pol)
		v.indexSigned(en, x.OccurredAt)
		v.setSchedule(en, x.Commitments.Funds)
	case domain.FundsArrived:
		en.funds.add(x.Amount)
		if x.Amount.Amount < 0 {
			en.recount() // not a fact the commands accept, but the log is the truth
		}
	case domain.ProjectTransferred:
		en.transferRec = d.RecordedAt
		breaches = true
	case domain.ProjectTerminated:
		breaches = true
	case domain.DetailsCorrected:
		breaches = true
		s := en.p.Snapshot()
		if s.Signing != nil {
			if b := v.signingBreach(en, s.Signing.ContractInvestment, s.SignedAt, d, pol); b == nil {
				en.signingBreach = nil
			} else if en.signingBreach == nil {
				en.signingBreach = b
			}
			v.indexSigned(en, s.SignedAt)
		}
		en.funds = money{}
		en.recount()
		for _, f := range s.Funds {
			en.funds.add(f.Amount)
		}
		// A correction can change the signing; take the schedule from the
		// folded state.
		if s.Signing != nil {
			v.setSchedule(en, s.Signing.Commitments.Funds)
		}
	}
	v.markArming(en)
	if breaches {
		v.updateBreaches(en)
	}
}

// markArming notes that the project's time-based alerts must be armed
// again. Arming is a function of the project's state alone, so it is done
// in bulk (settleArming) before anything reads it: a project whose events
// arrive together during a replay — twenty on average — is armed once, not
// after each.
func (v *Views) markArming(en *projectEntry) {
	if !v.sup.dirty.has(en.seq) {
		v.sup.dirty.set(en.seq)
		v.sup.nDirty++
	}
}

// settleArming arms the projects marked since the last settling. The
// caller holds the write lock.
func (v *Views) settleArming() {
	if v.sup.nDirty == 0 {
		return
	}
	d := v.sup.dirty
	for w := range d {
		for word := d[w]; word != 0; word &= word - 1 {
			v.armAll(v.proj.bySeq[w<<6+bits.TrailingZeros64(word)])
		}
		d[w] = 0
	}
	v.sup.nDirty = 0
}

// armAll arms every time-based alert of the project from its state.
func (v *Views) armAll(en *projectEntry) {
	v.armExclusivity(en)
	v.armCommitments(en)
	v.armFunds(en)
	v.armStale(en)
}

// The deadline alerts are armed under the reference's armPol, the most
// eager of every policy version (shortest deadlines, longest warning): a
// query judges with the policy in force at its now, which may be any of
// them, so the moment armed must be the earliest any version allows. A
// version that moves a deadline earlier re-arms every project
// (rearmDeadlines); the domain's rule under the query's policy decides.

// armStale: any event is progress (IsStale: strictly more than stale_days).
func (v *Views) armStale(en *projectEntry) {
	v.arm(en, armStale, en.p.Stage().UnderWay(), en.lastProgress.Add(days(v.ref.armPol.StaleDays)).Add(time.Nanosecond))
}

func (v *Views) armExclusivity(en *projectEntry) {
	on := en.p.ExclusivityLapsed(farFuture)
	until := en.exclusiveUntil
	v.arm(en, armExpiring, on, until.Add(-days(v.ref.armPol.ExclusivityWarningDays)))
	v.arm(en, armLapsed, on, until)
}

func (v *Views) armCommitments(en *projectEntry) {
	pol := v.ref.armPol
	on := en.p.RegistrationOverdue(farFuture, v.loc, *pol)
	due, _ := en.p.RegistrationDue(v.loc, *pol)
	v.arm(en, armRegistration, on, due.End(v.loc))
	on = en.p.StartOverdue(farFuture, v.loc, *pol)
	due, _ = en.p.StartDue(v.loc, *pol)
	v.arm(en, armStart, on, due.End(v.loc))
}

// rearmDeadlines marks every project for arming again (markArming) after a
// policy version moved a deadline earlier or set a new USD rate
// (reference.widenArming); a live batch arms them at its end, a replay at
// its own.
func (v *Views) rearmDeadlines() {
	for _, en := range v.proj.bySeq {
		if en.p.Exists() {
			v.markArming(en)
		}
	}
}

// rateAt is the USD→CNY rate of the policy in force at t (the rate the
// ranking converted the fact at).
func (v *Views) rateAt(t time.Time) domain.Rate { return v.ref.policyAt(t).USDCNYRate }

// setSchedule keeps the contract's funds schedule, cumulative by date in
// each currency (converted only when a rate is chosen: armFunds).
func (v *Views) setSchedule(en *projectEntry, funds []domain.FundsMilestone) {
	en.schedule = nil
	en.recount()
	if len(funds) == 0 {
		return
	}
	fs := slices.Clone(funds)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].By.Before(fs[j].By) })
	var cum money
	ms := make([]milestone, 0, len(fs))
	for _, f := range fs {
		cum.add(f.Amount)
		ms = append(ms, milestone{end: f.By.End(v.loc).UnixNano(), cny: cum.cny, usd: cum.usd})
	}
	en.schedule = ms
	en.recount()
}

// covers reports whether the funds arrived cover milestone m at every
// rate.
func (en *projectEntry) covers(m milestone, rates []domain.Rate) bool {
	if m.usd == 0 && en.funds.usd == 0 {
		return m.cny <= en.funds.cny // no rate involved
	}
	for _, r := range rates {
		if (money{m.cny, m.usd}).yuan(r) > en.funds.yuan(r) {
			return false
		}
	}
	return true
}

// firstUncovered is the end of the first milestone the funds arrived do
// not cover at rate (ok false when all are covered).
func (en *projectEntry) firstUncovered(rate domain.Rate) (end int64, ok bool) {
	have := en.funds.yuan(rate)
	for _, m := range en.schedule {
		if (money{m.cny, m.usd}).yuan(rate) > have {
			return m.end, true
		}
	}
	return 0, false
}

// recount starts counting the covered milestones again from the first.
func (en *projectEntry) recount() {
	en.covered = 0
	if len(en.schedule) > 0 {
		en.next = en.schedule[0]
	}
}

// armFunds arms funds_behind from the first milestone the arrivals so far
// do not cover at some USD rate a policy version has set (the query judges
// at the rate of the policy in force at its now). en.covered counts the
// leading milestones covered at every rate: the first one after them
// (en.next, kept in the entry so that an arrival that covers nothing new
// reads no more) is the first uncovered at some rate, and milestones are
// sorted by date, so its end is the earliest among the rates' first
// uncovered ones. Arrivals only add, so the count only grows; a new
// schedule, a correction of the funds, a negative arrival (not a fact the
// commands accept) or a new rate counts again from the first.
func (v *Views) armFunds(en *projectEntry) {
	on, since := false, int64(0)
	if en.landing != "" && en.p.Stage() != domain.StageTerminated {
		rates := v.ref.rates
		if en.coveredRates != uint32(len(rates)) {
			en.recount()
			en.coveredRates = uint32(len(rates))
		}
		n := len(en.schedule)
		for int(en.covered) < n && en.covers(en.next, rates) {
			en.covered++
			if int(en.covered) < n {
				en.next = en.schedule[en.covered]
			}
		}
		if int(en.covered) < n {
			on, since = true, en.next.end
		}
	}
	v.arm(en, armFunds, on, time.Unix(0, since))
}

func (v *Views) signingBreach(en *projectEntry, contract domain.Money, signedAt time.Time, d *decoded, pol *domain.Policy) *breach {
	if !domain.SigningNeedsFiling(contract, *pol) {
		return nil
	}
	signDate := v.dateOf(signedAt)
	if domain.SigningFiledInTime(en.filedRecorded, signDate, v.loc, *pol) {
		return nil
	}
	detail := fmt.Sprintf("major signing on %s (%s) without a filing recorded %d days ahead", signDate, contract, pol.SigningNoticeDays)
	if len(en.filedRecorded) > 0 {
		detail += fmt.Sprintf("; last filing recorded %s", v.dateOf(en.filedRecorded[len(en.filedRecorded)-1]))
	}
	return &breach{since: signedAt, recorded: d.RecordedAt, pos: d.Position, detail: detail}
}

// indexSigned files the project under its landing unit and signing year,
// for the rates.
func (v *Views) indexSigned(en *projectEntry, signedAt time.Time) {
	ss := &v.sup
	if old, ok := ss.signedYear[en.seq]; ok {
		l := ss.signedBy[old.unit][old.year]
		if i := slices.Index(l, en.seq); i >= 0 {
			ss.signedBy[old.unit][old.year] = slices.Delete(l, i, i+1)
		}
		delete(ss.signedYear, en.seq)
	}
	u := en.p.LandingUnit()
	if u == "" {
		return
	}
	y := v.dateOf(signedAt).Year
	m := ss.signedBy[u]
	if m == nil {
		m = map[int][]uint32{}
		ss.signedBy[u] = m
	}
	m[y] = append(m[y], en.seq)
	ss.signedYear[en.seq] = signedKey{unit: u, year: y}
}

func (en *projectEntry) breachCleared(b *breach) bool { return en.orderClosedRec.After(b.recorded) }

func (en *projectEntry) conflictCleared(c *conflict) bool {
	return en.breachCleared(&c.breach) || en.transferRec.After(c.recorded) || en.p.Stage() == domain.StageTerminated
}

// updateBreaches keeps the breach bitsets in step with the project.
func (v *Views) updateBreaches(en *projectEntry) {
	set := func(k int, on bool) {
		if on {
			v.sup.breaches[k].set(en.seq)
		} else {
			v.sup.breaches[k].clear(en.seq)
		}
	}
	set(brSigning, en.signingBreach != nil && !en.breachCleared(en.signingBreach))
	late := false
	for i := range en.lateRecords {
		if !en.breachCleared(&en.lateRecords[i]) {
			late = true
			break
		}
	}
	set(brLate, late)
	conf := false
	for i := range en.conflicts {
		if !en.conflictCleared(&en.conflicts[i]) {
			conf = true
			break
		}
	}
	set(brConflict, conf)
}

// supConflict records a report rejected under the holder's exclusivity.
//
// Claims are recorded under every key of the report (name key, and uscc
// key when a code is given), so one rejected attempt can leave more than
// one ReportRejected in the log: the record in the holder's stream — the
// stream of its own Key, where the blocking claim is — and a voiding copy
// in each stream the attempt had already claimed before losing the race
// (domain.ExclusivityClaims.Void). Only the holder's record raises the
// conflict, and an attempt (its ProjectID, assigned once per report) raises
// it once per holder project, however many copies a retry wrote.
func (v *Views) supConflict(d *decoded, e domain.ReportRejected) {
	if e.Key != "" && d.Stream != domain.ExclusivityStream(e.Key) {
		// A voiding copy: it cancels the loser's half-made claim, which
		// the views never count (the window is on ProjectReported). A
		// record without a key cannot be told apart and counts.
		return
	}
	ps := &v.proj
	en := ps.byID[e.HolderProject]
	if en == nil {
		en = ps.create(e.HolderProject)
	}
	v.subj = subjProject | en.seq
	if e.ProjectID != "" && slices.ContainsFunc(en.conflicts, func(c conflict) bool { return c.attempt == e.ProjectID }) {
		return
	}
	en.conflicts = append(en.conflicts, conflict{unit: e.Unit, attempt: strings.Clone(e.ProjectID), stream: strings.Clone(d.Stream), breach: breach{since: e.OccurredAt, recorded: d.RecordedAt, pos: d.Position,
		detail: fmt.Sprintf("report of %s (%s) by %s rejected: %s holds first negotiation until %s", e.Name, e.Investor.Name, e.Unit,
			e.HolderUnit, e.Until.In(v.loc).Format(time.RFC3339))}})
	v.updateBreaches(en)
	v.applied[vSup]++
	if v.touch != nil {
		v.touch.Projects[en.id] = struct{}{}
	}
}

func (v *Views) applyOrder(d *decoded) {
	ss := &v.sup
	id := streamID(d.Stream)
	o := ss.orderByID[id]
	if o == nil {
		id = strings.Clone(id) // see projectsState.create
		o = &orderEntry{seq: uint32(len(ss.orders)), id: id}
		ss.orders = append(ss.orders, o)
		ss.orderByID[id] = o
	}
	v.subj = subjOrder | o.seq
	e := domain.Unwrap(d.Data)
	o.o.Apply(e)
	o.version, o.pos = d.Version, d.Position
	switch x := e.(type) {
	case domain.SupervisionOrderIssued:
		if o.issuedRec.IsZero() {
			o.issuedRec = d.RecordedAt
			o.unit, o.projectID = x.ResponsibleUnit, x.ProjectID
			o.deadlineEnd = x.Deadline.End(v.loc)
			ss.orderUnit.add(string(o.unit), o.seq)
			ss.openOrders.set(o.seq)
			if o.projectID != "" {
				ss.byProject[o.projectID] = append(ss.byProject[o.projectID], o.seq)
			}
		}
	case domain.SupervisionOrderClosed:
		ss.openOrders.clear(o.seq)
		if en := v.proj.byID[o.projectID]; en != nil {
			en.orderClosedRec = d.RecordedAt
			v.updateBreaches(en)
			if v.touch != nil {
				v.touch.Projects[en.id] = struct{}{}
			}
		}
	}
	if pol := v.ref.policyAt(e.Occurred()); domain.IsLateRecord(e.Occurred(), d.RecordedAt, *pol) && o.projectID != "" {
		// A late progress report on an order about a project is a late
		// record of that project's supervision.
		if en := v.proj.byID[o.projectID]; en != nil {
			en.lateRecords = append(en.lateRecords, breach{since: d.RecordedAt, recorded: d.RecordedAt, pos: d.Position,
				detail: fmt.Sprintf("%s on order %s occurred %s, recorded %s", d.Type, o.id, v.dateOf(e.Occurred()), v.dateOf(d.RecordedAt))})
			v.updateBreaches(en)
		}
	}
	v.applied[vSup]++
	if v.touch != nil {
		v.touch.Orders[o.id] = struct{}{}
		if o.projectID != "" {
			v.touch.Projects[o.projectID] = struct{}{}
		}
	}
}

// ---- alerts ----

// Alert is one open alert (API.md "Alert").
type Alert struct {
	Kind      string          `json:"kind"`
	ProjectID string          `json:"project_id,omitempty"`
	OrderID   string          `json:"order_id,omitempty"`
	Unit      domain.UnitCode `json:"unit"`
	Since     time.Time       `json:"since"`
	Detail    string          `json:"detail"`
	// Evidence is the position of the event that raised a breach alert.
	Evidence *eventstore.Position `json:"evidence,omitempty"`
}

// projectAlerts evaluates a project's alerts open at now, in the order of
// domain.AlertKinds; kind keeps one kind ("" all).
func (v *Views) projectAlerts(en *projectEntry, now time.Time, kind string) []Alert {
	var out []Alert
	pol := v.ref.policyAt(now)
	ns := now.UnixNano()
	unit := en.p.Unit()
	want := func(k string) bool { return kind == "" || kind == k }
	add := func(k string, since time.Time, detail string, ev *eventstore.Position) {
		out = append(out, Alert{Kind: k, ProjectID: en.id, Unit: unit, Since: since.In(v.loc), Detail: detail, Evidence: ev})
	}
	ready := func(k int) bool { return en.armed&(1<<k) != 0 && en.since[k] <= ns && want(armedKinds[k]) }
	var snap *domain.ProjectSnapshot
	snapshot := func() *domain.ProjectSnapshot {
		if snap == nil {
			s := en.p.Snapshot()
			snap = &s
		}
		return snap
	}
	if ready(armExpiring) && en.p.ExclusivityExpiring(now, *pol) {
		u := *snapshot().ExclusiveUntil
		add(domain.AlertExclusivityExpiring, u.Add(-days(pol.ExclusivityWarningDays)),
			fmt.Sprintf("exclusive first negotiation ends %s with no negotiation recorded", u.In(v.loc).Format(time.RFC3339)), nil)
	}
	if ready(armLapsed) && en.p.ExclusivityLapsed(now) {
		u := *snapshot().ExclusiveUntil
		add(domain.AlertExclusivityLapsed, u, fmt.Sprintf("exclusive window ended %s with no negotiation recorded in it", u.In(v.loc).Format(time.RFC3339)), nil)
	}
	if want(domain.AlertSigningNotFiled) && en.signingBreach != nil && !en.breachCleared(en.signingBreach) && !en.signingBreach.since.After(now) {
		b := en.signingBreach
		add(domain.AlertSigningNotFiled, b.since, b.detail, &b.pos)
	}
	if ready(armRegistration) && en.p.RegistrationOverdue(now, v.loc, *pol) {
		due, _ := en.p.RegistrationDue(v.loc, *pol)
		add(domain.AlertRegistrationOverdue, due.End(v.loc), fmt.Sprintf("company registration was due by %s", due), nil)
	}
	if ready(armStart) && en.p.StartOverdue(now, v.loc, *pol) {
		due, _ := en.p.StartDue(v.loc, *pol)
		add(domain.AlertStartOverdue, due.End(v.loc), fmt.Sprintf("construction start was due by %s", due), nil)
	}
	if ready(armFunds) && en.p.FundsBehind(now, v.loc, *pol) {
		dueDate := domain.DateOf(now, v.loc).AddDays(-1)
		due, _ := en.p.FundsDue(dueDate, *pol)
		got, _ := en.p.FundsArrivedTotal(now, *pol)
		since := time.Unix(0, en.since[armFunds])
		if end, ok := en.firstUncovered(pol.USDCNYRate); ok {
			since = time.Unix(0, end)
		}
		add(domain.AlertFundsBehind, since.In(v.loc), fmt.Sprintf("funds arrived %s, schedule due by %s is %s", got, dueDate, due), nil)
	}
	if ready(armStale) && en.p.Stale(now, *pol) {
		add(domain.AlertStale, en.lastProgress.Add(days(pol.StaleDays)),
			fmt.Sprintf("no progress since %s (stale_days %d)", v.dateOf(en.lastProgress), pol.StaleDays), nil)
	}
	if want(domain.AlertLateRecord) {
		for i := range en.lateRecords {
			b := &en.lateRecords[i]
			if !en.breachCleared(b) && !b.since.After(now) {
				add(domain.AlertLateRecord, b.since, b.text(v.loc), &b.pos)
			}
		}
	}
	if want(domain.AlertExclusivityConflict) {
		for i := range en.conflicts {
			c := &en.conflicts[i]
			if !en.conflictCleared(c) && !c.since.After(now) {
				add(domain.AlertExclusivityConflict, c.since, c.detail, &c.pos)
			}
		}
	}
	return out
}

func (v *Views) orderAlert(o *orderEntry, now time.Time) (Alert, bool) {
	if !o.o.Overdue(now, v.loc) {
		return Alert{}, false
	}
	is, _ := o.o.Issued()
	return Alert{Kind: domain.AlertOrderOverdue, ProjectID: o.projectID, OrderID: o.id, Unit: o.unit, Since: o.deadlineEnd.In(v.loc),
		Detail: fmt.Sprintf("%s: deadline %s passed, not closed", is.Matter, is.Deadline)}, true
}

// projectAlertKinds are the kinds of the alerts open on a project at now,
// its orders' included (the Project shape's alerts).
func (v *Views) projectAlertKinds(en *projectEntry, now time.Time) []string {
	kinds := []string{}
	for _, a := range v.projectAlerts(en, now, "") {
		if !slices.Contains(kinds, a.Kind) {
			kinds = append(kinds, a.Kind)
		}
	}
	for _, seq := range v.sup.byProject[en.id] {
		if _, ok := v.orderAlert(v.sup.orders[seq], now); ok && !slices.Contains(kinds, domain.AlertOrderOverdue) {
			kinds = append(kinds, domain.AlertOrderOverdue)
		}
	}
	order := domain.AlertKinds()
	slices.SortFunc(kinds, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	return kinds
}

// AlertQuery selects open alerts (GET /supervision/alerts).
type AlertQuery struct {
	// Now is the moment the time-based rules are judged at. Required.
	Now time.Time
	// Unit keeps the alerts of one unit (a project's current owner, an
	// order's responsible unit).
	Unit domain.UnitCode
	// Kind keeps one alert kind.
	Kind      string
	ProjectID string
	// OrderID keeps the alert of one supervision order.
	OrderID string
	Limit   int
	Cursor  string
}

// AlertPage is a page of open alerts: projects' alerts in the order the
// projects were reported, then overdue orders in the order they were
// issued.
type AlertPage struct {
	Position   eventstore.Position `json:"-"`
	Now        time.Time           `json:"now"`
	Items      []Alert             `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

const orderCursorBase = uint64(1) << 50

// Alerts answers GET /supervision/alerts.
func (v *Views) Alerts(q AlertQuery) (AlertPage, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return AlertPage{}, err
	}
	if q.Now.IsZero() {
		return AlertPage{}, queryError("alerts are judged at a moment: now is required")
	}
	if q.Kind != "" && !slices.Contains(domain.AlertKinds(), q.Kind) {
		return AlertPage{}, queryError("unknown alert kind " + q.Kind)
	}
	var from uint64
	tag := cursorTag("a", string(q.Unit), q.Kind, q.ProjectID, q.OrderID)
	if q.Cursor != "" {
		if from, err = decodeCursor(q.Cursor, tag); err != nil {
			return AlertPage{}, err
		}
	}
	v.rlock()
	defer v.mu.RUnlock()
	page := AlertPage{Position: v.pos, Now: q.Now, Items: []Alert{}}
	// after is the cursor just after the last alert returned.
	var after uint64
	full := func() bool {
		if len(page.Items) < limit {
			return false
		}
		page.NextCursor = encodeCursor(tag, after)
		return true
	}
	if from < orderCursorBase && q.Kind != domain.AlertOrderOverdue && q.OrderID == "" {
		cand := v.alertCandidates(q)
		startSeq, startIdx := uint32(from>>16), int(from&0xffff)
		for seq, ok := cand.next(startSeq); ok; seq, ok = cand.next(seq + 1) {
			en := v.proj.bySeq[seq]
			if q.ProjectID != "" && en.id != q.ProjectID {
				continue
			}
			for i, a := range v.projectAlerts(en, q.Now, q.Kind) {
				if seq == startSeq && i < startIdx {
					continue
				}
				if full() {
					return page, nil
				}
				page.Items = append(page.Items, a)
				after = uint64(seq)<<16 | uint64(i+1)
			}
		}
		from = orderCursorBase
	}
	if q.Kind == "" || q.Kind == domain.AlertOrderOverdue {
		cand := v.sup.openOrders
		if q.Unit != "" {
			u := bitset{}
			if b := v.sup.orderUnit[string(q.Unit)]; b != nil {
				u = *b
			}
			cand = andInto(nil, cand, u)
		}
		for seq, ok := cand.next(uint32(from - orderCursorBase)); ok; seq, ok = cand.next(seq + 1) {
			o := v.sup.orders[seq]
			if (q.ProjectID != "" && o.projectID != q.ProjectID) || (q.OrderID != "" && o.id != q.OrderID) {
				continue
			}
			a, open := v.orderAlert(o, q.Now)
			if !open {
				continue
			}
			if full() {
				return page, nil
			}
			page.Items = append(page.Items, a)
			after = orderCursorBase + uint64(seq) + 1
		}
	}
	return page, nil
}

// alertCandidates are the projects that may have an alert of the query's
// kind (any kind when empty) in the query's unit.
func (v *Views) alertCandidates(q AlertQuery) bitset {
	var cand bitset
	for k := range numArmed {
		if q.Kind == "" || q.Kind == armedKinds[k] {
			cand = orInto(cand, v.sup.armed[k])
		}
	}
	for k := range numBreach {
		if q.Kind == "" || q.Kind == breachKinds[k] {
			cand = orInto(cand, v.sup.breaches[k])
		}
	}
	if q.Unit != "" {
		u := bitset{}
		if b := v.proj.unit[string(q.Unit)]; b != nil {
			u = *b
		}
		cand = andInto(cand, cand, u)
	}
	return cand
}

// AlertCounts counts the alerts open at now by kind (for one unit, or all).
func (v *Views) AlertCounts(now time.Time, unit domain.UnitCode) map[string]int {
	out := map[string]int{}
	for _, k := range domain.AlertKinds() {
		out[k] = 0
	}
	cursor := ""
	for {
		p, err := v.Alerts(AlertQuery{Now: now, Unit: unit, Limit: MaxLimit, Cursor: cursor})
		if err != nil {
			return out
		}
		for _, a := range p.Items {
			out[a.Kind]++
		}
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}

// ---- orders ----

// Order statuses at a moment.
const (
	StatusOpen    = "open"
	StatusOverdue = "overdue"
	StatusClosed  = "closed"
)

// ProgressItem is one progress report on an order.
type ProgressItem struct {
	OccurredAt time.Time `json:"occurred_at"`
	Summary    string    `json:"summary"`
}

// OrderItem is a supervision order with the six 定 (Xiamen 三(五)3).
type OrderItem struct {
	ID              string              `json:"id"`
	ProjectID       string              `json:"project_id,omitempty"`
	Matter          string              `json:"matter"`
	Target          string              `json:"target"`
	LeadLeader      string              `json:"lead_leader"`
	ResponsibleUnit domain.UnitCode     `json:"responsible_unit"`
	Requirements    string              `json:"requirements"`
	Deadline        domain.Date         `json:"deadline"`
	IssuedAt        time.Time           `json:"issued_at"`
	Status          string              `json:"status"`
	Progress        []ProgressItem      `json:"progress"`
	ClosedAt        *time.Time          `json:"closed_at"`
	Result          string              `json:"result,omitempty"`
	Version         uint64              `json:"version"`
	Position        eventstore.Position `json:"position"`
}

func (v *Views) orderItem(o *orderEntry, now time.Time) OrderItem {
	is, _ := o.o.Issued()
	it := OrderItem{ID: o.id, ProjectID: is.ProjectID, Matter: is.Matter, Target: is.Target, LeadLeader: is.LeadLeader,
		ResponsibleUnit: is.ResponsibleUnit, Requirements: is.Requirements, Deadline: is.Deadline, IssuedAt: is.OccurredAt.In(v.loc),
		Status: StatusOpen, Progress: []ProgressItem{}, Version: o.version, Position: o.pos}
	// Times in the views' zone, whatever offset each fact was written in.
	for _, p := range o.o.Progress() {
		it.Progress = append(it.Progress, ProgressItem{OccurredAt: p.OccurredAt.In(v.loc), Summary: p.Summary})
	}
	if c, ok := o.o.Closure(); ok {
		t := c.OccurredAt.In(v.loc)
		it.Status, it.ClosedAt, it.Result = StatusClosed, &t, c.Result
	} else if o.o.Overdue(now, v.loc) {
		it.Status = StatusOverdue
	}
	return it
}

// OrderQuery selects supervision orders.
type OrderQuery struct {
	// Now judges overdue. Required.
	Now time.Time
	// Status keeps open (not closed, not overdue), overdue or closed
	// orders; empty keeps all.
	Status    string
	Unit      domain.UnitCode
	ProjectID string
	Limit     int
	Cursor    string
}

// OrderPage is a page of orders in the order they were issued.
type OrderPage struct {
	Position   eventstore.Position `json:"-"`
	Items      []OrderItem         `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// Orders answers GET /supervision/orders.
func (v *Views) Orders(q OrderQuery) (OrderPage, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return OrderPage{}, err
	}
	switch q.Status {
	case "", StatusOpen, StatusOverdue, StatusClosed:
	default:
		return OrderPage{}, queryError("status must be open, overdue or closed")
	}
	if q.Now.IsZero() {
		return OrderPage{}, queryError("order status is judged at a moment: now is required")
	}
	var from uint64
	tag := cursorTag("o", q.Status, string(q.Unit), q.ProjectID)
	if q.Cursor != "" {
		if from, err = decodeCursor(q.Cursor, tag); err != nil {
			return OrderPage{}, err
		}
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	page := OrderPage{Position: v.pos, Items: []OrderItem{}}
	var last uint32
	seqs := v.sup.orders
	if q.ProjectID != "" {
		seqs = nil
		for _, s := range v.sup.byProject[q.ProjectID] {
			seqs = append(seqs, v.sup.orders[s])
		}
	}
	for _, o := range seqs {
		if uint64(o.seq) < from || !o.o.Exists() {
			continue
		}
		if q.Unit != "" && o.unit != q.Unit {
			continue
		}
		if q.Status != "" {
			st := StatusOpen
			if o.o.Status() == domain.OrderClosed {
				st = StatusClosed
			} else if o.o.Overdue(q.Now, v.loc) {
				st = StatusOverdue
			}
			if st != q.Status {
				continue
			}
		}
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(tag, uint64(last)+1)
			break
		}
		page.Items = append(page.Items, v.orderItem(o, q.Now))
		last = o.seq
	}
	return page, nil
}

// Order returns one order.
func (v *Views) Order(id string, now time.Time) (OrderItem, eventstore.Position, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	o := v.sup.orderByID[id]
	if o == nil || !o.o.Exists() {
		return OrderItem{}, v.pos, false
	}
	return v.orderItem(o, now), v.pos, true
}

// ---- rates ----

// Ratio is a count rate with its numerator and denominator; Rate is null
// when the denominator is zero.
type Ratio struct {
	Numerator   int      `json:"numerator"`
	Denominator int      `json:"denominator"`
	Rate        *float64 `json:"rate"`
}

// MoneyRatio is an amount rate (yuan).
type MoneyRatio struct {
	Numerator   domain.Money `json:"numerator"`
	Denominator domain.Money `json:"denominator"`
	Rate        *float64     `json:"rate"`
}

// RatesItem is one unit's three rates for a year (Suzhou 五(五)): 履约率
// fulfilment, 开工率 start, 资金到位率 funds, over the projects the unit
// signed that year, judged at Now.
type RatesItem struct {
	Unit       domain.UnitCode `json:"unit"`
	UnitName   string          `json:"unit_name"`
	Year       int             `json:"year"`
	Fulfilment Ratio           `json:"fulfilment"`
	Start      Ratio           `json:"start"`
	Funds      MoneyRatio      `json:"funds"`
}

// RatesResult answers GET /supervision/rates.
type RatesResult struct {
	Year          int                 `json:"year"`
	Now           time.Time           `json:"now"`
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	Items         []RatesItem         `json:"items"`
}

// Rates answers GET /supervision/rates?year=&unit=: for each unit (or the
// one named) the three rates over the projects it signed (landed) in the
// year, judged at now by domain.ComputeRates. Year 0 is now's year.
func (v *Views) Rates(year int, unit domain.UnitCode, now time.Time) (RatesResult, error) {
	if now.IsZero() {
		return RatesResult{}, queryError("rates are judged at a moment: now is required")
	}
	if year == 0 {
		year = domain.DateOf(now, v.loc).Year
	}
	if year < 1 || year > 9999 {
		return RatesResult{}, queryError("year out of range")
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	per := domain.YearPeriod(year, v.loc)
	pol := v.ref.policyForPeriod(per.To)
	res := RatesResult{Year: year, Now: now, PolicyVersion: pol.Version, Position: v.pos, Items: []RatesItem{}}
	var units []domain.Unit
	if unit != "" {
		u, ok := v.ref.units.Get(unit)
		if !ok {
			u = domain.Unit{Code: unit}
		}
		units = []domain.Unit{u}
	} else {
		for _, u := range v.ref.units.All() {
			if u.Kind != domain.UnitCentre {
				units = append(units, u)
			}
		}
	}
	for _, u := range units {
		seqs := v.sup.signedBy[u.Code][year]
		projects := make([]*domain.Project, len(seqs))
		for i, s := range seqs {
			projects[i] = &v.proj.bySeq[s].p
		}
		r, err := domain.ComputeRates(projects, per, now, v.loc, *pol, v.rateAt)
		if err != nil {
			return RatesResult{}, err
		}
		it := RatesItem{Unit: u.Code, UnitName: u.Name, Year: year,
			Fulfilment: Ratio{Numerator: r.FulfilmentMet, Denominator: r.FulfilmentDue},
			Start:      Ratio{Numerator: r.Started, Denominator: r.Signed},
			Funds:      MoneyRatio{Numerator: r.FundsArrived, Denominator: r.Contracted}}
		if x, ok := r.FulfilmentRate(); ok {
			it.Fulfilment.Rate = &x
		}
		if x, ok := r.StartRate(); ok {
			it.Start.Rate = &x
		}
		if x, ok := r.FundsRate(); ok {
			it.Funds.Rate = &x
		}
		res.Items = append(res.Items, it)
	}
	return res, nil
}
