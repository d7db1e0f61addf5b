package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// ledger builds a log of recorded events for tests: envelopes with
// positions, versions, hash chains and recorded_at, exactly as a store
// would return them. recorded_at is the event's occurred_at plus lag,
// never earlier than the previous event's, unless set with at().
type ledger struct {
	t    testing.TB
	evs  []eventstore.Event
	ver  map[string]uint64
	prev map[string]string
	rec  time.Time
	lag  time.Duration
	next *time.Time
}

var cst = time.FixedZone("CST", 8*3600)

func newLedger(t testing.TB) *ledger {
	return &ledger{t: t, ver: map[string]uint64{}, prev: map[string]string{}, lag: time.Hour}
}

// day is 10:00 on a date in China.
func day(s string) time.Time {
	d := domain.MustDate(s)
	return time.Date(d.Year, d.Month, d.Day, 10, 0, 0, 0, cst)
}

func pid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// at makes the next event recorded at t.
func (l *ledger) at(t time.Time) *ledger { l.next = &t; return l }

func (l *ledger) add(stream string, e domain.Event) eventstore.Event {
	l.t.Helper()
	data, err := domain.Encode(e)
	if err != nil {
		l.t.Fatal(err)
	}
	rec := e.Occurred().Add(l.lag)
	if l.next != nil {
		rec, l.next = *l.next, nil
	}
	if rec.Before(l.rec) {
		rec = l.rec.Add(time.Microsecond)
	}
	l.rec = rec
	l.ver[stream]++
	n := uint64(len(l.evs) + 1)
	ne := eventstore.NewEvent{ID: uuid.New(), Type: e.EventType(), Data: data, OccurredAt: e.Occurred(),
		Actor: eventstore.Actor{Subject: "tester", Role: "centre"}}
	ev := eventstore.Stamp(&ne, stream, l.ver[stream], l.prev[stream], rec)
	ev.Position = eventstore.Position{Commit: n, Prepare: n}
	l.prev[stream] = ev.Hash
	l.evs = append(l.evs, ev)
	return ev
}

func (l *ledger) views() *Views {
	l.t.Helper()
	v, err := ReplaySlice(context.Background(), l.evs, Options{Location: cst}, 2, nil)
	if err != nil {
		l.t.Fatal(err)
	}
	return v
}

// ---- event helpers ----

func (l *ledger) unit(code, name string, kind domain.UnitKind) {
	l.add(domain.StreamUnits, domain.UnitRegistered{Code: domain.UnitCode(code), Name: name, Kind: kind, OccurredAt: day("2019-12-01")})
}

func (l *ledger) policy(p domain.Policy, at time.Time) {
	l.add(domain.StreamPolicy, domain.PolicyAdopted{Policy: p, OccurredAt: at})
}

func (l *ledger) targets(year int, unit string, ind map[domain.Indicator]float64) {
	l.add(domain.TargetsStream(year), domain.AnnualTargetsSet{Year: year, Unit: domain.UnitCode(unit), Indicators: ind, OccurredAt: time.Date(year, 1, 10, 9, 0, 0, 0, cst)})
}

type projOpt func(*domain.ProjectReported)

func withCats(c ...domain.Category) projOpt {
	return func(r *domain.ProjectReported) { r.Investor.Categories = c }
}

func withInvestor(name, uscc string) projOpt {
	return func(r *domain.ProjectReported) { r.Investor.Name, r.Investor.USCC = name, uscc }
}

func withName(name string) projOpt { return func(r *domain.ProjectReported) { r.Name = name } }

func withChain(c string) projOpt { return func(r *domain.ProjectReported) { r.IndustryChain = c } }

// report reports project n for unit; a major planned investment gets the
// 30-day exclusive window as the commands would give it.
func (l *ledger) report(n int, unit string, planned domain.Money, at time.Time, opts ...projOpt) string {
	id := pid(n)
	r := domain.ProjectReported{ProjectID: id, Name: fmt.Sprintf("测试项目%d", n), Unit: domain.UnitCode(unit),
		Investor: domain.Investor{Name: fmt.Sprintf("测试投资有限公司%d", n)}, IndustryChain: "新能源汽车",
		PlannedInvestment: planned, OccurredAt: at, PolicyVersion: 0}
	for _, o := range opts {
		o(&r)
	}
	pol := domain.DefaultPolicy()
	r.Major = domain.IsMajor(planned, pol)
	r.ExclusivityKey = domain.ExclusivityKeyOf(r.Investor, r.IndustryChain)
	if r.Major {
		until := at.Add(30 * 24 * time.Hour)
		r.ExclusiveUntil = &until
	}
	l.add(domain.ProjectStream(id), r)
	return id
}

func (l *ledger) negotiate(id string, at time.Time) {
	l.add(domain.ProjectStream(id), domain.NegotiationRecorded{ProjectID: id, OccurredAt: at, LeaderLevel: domain.LeaderPrincipal, Summary: "洽谈"})
}

func (l *ledger) sign(id, unit string, contract domain.Money, at time.Time, com domain.Commitments) {
	l.add(domain.ProjectStream(id), domain.ContractSigned{ProjectID: id, OccurredAt: at, ContractInvestment: contract,
		Agreement: domain.AgreementFormal, Commitments: com, Unit: domain.UnitCode(unit)})
}

func (l *ledger) amend(id string, prev, next domain.Money, at time.Time) {
	l.add(domain.ProjectStream(id), domain.ContractAmended{ProjectID: id, OccurredAt: at, PreviousInvestment: prev,
		ContractInvestment: next, Increment: domain.Money{Amount: next.Amount - prev.Amount, Currency: next.Currency}, Reason: "增资"})
}

func (l *ledger) funds(id string, amount domain.Money, src domain.FundSource, at time.Time) {
	l.add(domain.ProjectStream(id), domain.FundsArrived{ProjectID: id, OccurredAt: at, Amount: amount, Source: src})
}

func (l *ledger) dueProcess(id string, kind domain.DueProcessKind, at time.Time) {
	l.add(domain.ProjectStream(id), domain.DueProcessRecorded{ProjectID: id, Kind: kind, OccurredAt: at, Summary: "论证"})
}

func (l *ledger) terminate(id string, kind domain.TerminationKind, cause domain.TerminationCause, stage domain.Stage, at time.Time) {
	l.add(domain.ProjectStream(id), domain.ProjectTerminated{ProjectID: id, OccurredAt: at, Kind: kind, Cause: cause, Explanation: "终止", StageBefore: stage})
}

func (l *ledger) correct(id string, field domain.CorrectionField, prev, val any, at time.Time) {
	pj, _ := json.Marshal(prev)
	vj, _ := json.Marshal(val)
	l.add(domain.ProjectStream(id), domain.DetailsCorrected{ProjectID: id, Field: field, Value: vj, Previous: pj, Reason: "更正", OccurredAt: at})
}

func yuan(yi float64) domain.Money { return domain.Yuan(int64(yi * 1e8)) } // 亿元

func dateP(s string) *domain.Date { d := domain.MustDate(s); return &d }
