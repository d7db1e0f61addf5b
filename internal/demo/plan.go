package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The plan is the whole dataset decided up front, before anything is sent:
// a list of steps, each one command with the moment it is recorded. The
// generator draws every choice from one seeded source in a fixed order, so
// the same Options always give the same steps; the executor (demo.go) then
// replays them in time order through the command handlers.

// stepFunc issues one command with the Meta the executor built.
type stepFunc func(ctx context.Context, x *runner, meta commands.Meta) (commands.Result, error)

// step is one command of the plan.
type step struct {
	// at is when the command is recorded: the executor runs it in the
	// first batch at or after at, with the clock at the batch's moment.
	at time.Time
	// chain groups the steps that must run in order (one project with its
	// tolerance case, one supervision order, the city's own acts). Steps of
	// different chains in the same batch run concurrently. An act of the
	// ledger (a filing, an order, a decision) takes its batch's moment as
	// its own time, up to four and a half days after at (a Friday evening
	// to the next Tuesday's); the plan leaves room for it.
	chain int
	seq   int
	// key names the step; the idempotency key is derived from it.
	key   string
	actor eventstore.Actor
	// phase orders the batches recorded at the same moment: the set-up
	// (units, policy) before anything that names a unit, publications
	// after everything else, alone, because publishing an assessment
	// freezes the log's head, which must not depend on how a batch's
	// concurrent commands interleave.
	phase phase
	// ref, when set, remembers Result.ID under this name (a project, order
	// or case id) for later steps.
	ref string
	// expect is the error the command must be refused with (a report
	// rejected under another unit's exclusivity); nil means it must succeed.
	expect error
	do     stepFunc
}

// phase is the order of the batches recorded at one moment; the zero
// value is the ordinary one.
type phase int8

const (
	phaseSetup  phase = -1
	phaseNormal phase = 0
	phaseFreeze phase = 1
)

// delay is how long after a fact happened it is entered.
type delay uint8

const (
	// delayNone: an act of the ledger itself (a filing, an order, a
	// decision) is recorded as it is made.
	delayNone delay = iota
	// delayQuick: within a few hours.
	delayQuick
	// delayNormal: the same day or within a working week or two, never
	// late enough to be a late record.
	delayNormal
	// delayLate: 补录, entered weeks later (a late_record alert).
	delayLate
)

// proposal is a step before it is placed in time. A chain's proposals are
// sorted by order (the occurred time unless said otherwise) and recorded
// one after the other: a fact entered late holds back the facts that
// follow it in the same chain, as a clerk catching up enters them in turn.
type proposal struct {
	order    time.Time
	occurred time.Time
	delay    delay
	name     string
	actor    eventstore.Actor
	ref      string
	expect   error
	phase    phase
	// owner: the actor is the staff of the unit owning the project when
	// the step is recorded, which a transfer earlier in the chain changes.
	owner bool
	// moveTo: this step transfers the project to that unit.
	moveTo *unitSpec
	do     stepFunc
	// note runs when the proposal becomes a step (it is recorded before
	// Now), to keep the statistics of what the dataset holds.
	note func()
}

// gen generates the plan.
type gen struct {
	rng   *rand.Rand
	o     resolved
	pol   domain.Policy
	steps []step
	seq   int
	chain int

	units    []*unitSpec
	byCode   map[domain.UnitCode]*unitSpec
	usedUSCC map[string]bool
	usedKey  map[string]bool
	usedName map[string]bool

	// what the emitted steps hold, for the summary and the targets
	stats   planStats
	credits map[credKey]*credit
}

type credKey struct {
	unit domain.UnitCode
	year int
}

// credit is what a unit achieved in a year, as the plan recorded it; the
// targets of the indicators the Jiaxing plan gives no figure for are set
// near it, so completion rates spread around 100%.
type credit struct {
	signed100m, started int
	contract, funds     int64 // yuan
}

type planStats struct {
	projects, rejected, transfers, orders, cases, corrections, amendments int
	stages                                                                map[domain.Stage]int
}

func newGen(o resolved) *gen {
	g := &gen{
		rng:      rand.New(rand.NewPCG(uint64(o.seed), 0x7a68616f7368616e)), // "zhaoshan"
		o:        o,
		pol:      domain.DefaultPolicy(),
		byCode:   map[domain.UnitCode]*unitSpec{},
		usedUSCC: map[string]bool{},
		usedKey:  map[string]bool{},
		usedName: map[string]bool{},
		credits:  map[credKey]*credit{},
	}
	g.pol.Version = 1
	g.stats.stages = map[domain.Stage]int{}
	for i := range unitSpecs {
		u := unitSpecs[i]
		g.units = append(g.units, &u)
		g.byCode[u.code] = &u
	}
	return g
}

// ---- random helpers ----

func (g *gen) float() float64        { return g.rng.Float64() }
func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }
func (g *gen) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.IntN(hi-lo+1)
}
func (g *gen) uniform(lo, hi float64) float64 { return lo + (hi-lo)*g.rng.Float64() }

func pick[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *gen) person() string { return pick(g, surnames) + pick(g, givenNames) }

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// workTime is a moment in office hours on the date of t shifted by d days,
// moved off the weekend most of the time (signing ceremonies and
// conferences do happen on Saturdays).
func (g *gen) workTime(t time.Time, d int) time.Time {
	t = t.In(g.o.loc).AddDate(0, 0, d)
	if wd := t.Weekday(); (wd == time.Saturday || wd == time.Sunday) && g.chance(0.85) {
		shift := 2
		if wd == time.Sunday {
			shift = 1
		}
		t = t.AddDate(0, 0, shift)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), g.between(9, 16), g.between(0, 59), 0, 0, g.o.loc)
}

// after is a working moment between lo and hi days after t.
func (g *gen) after(t time.Time, lo, hi int) time.Time { return g.workTime(t, g.between(lo, hi)) }

// wait draws how long after it happened a fact is entered.
func (g *gen) wait(d delay) time.Duration {
	switch d {
	case delayQuick:
		return time.Duration(g.between(10, 240)) * time.Minute
	case delayNormal:
		switch r := g.float(); {
		case r < 0.65:
			return time.Duration(g.between(15, 300)) * time.Minute
		case r < 0.93:
			return days(g.between(1, 3)) + time.Duration(g.between(0, 120))*time.Minute
		default:
			return days(g.between(4, 12))
		}
	case delayLate:
		return days(g.between(g.pol.LateRecordDays+2, 60)) + time.Duration(g.between(0, 300))*time.Minute
	}
	return 0
}

// normalOrLate is delayNormal, now and then a late record.
func (g *gen) normalOrLate() delay {
	if g.chance(0.012) {
		return delayLate
	}
	return delayNormal
}

// ---- money ----

// roundTo rounds v to a multiple of unit (half up), at least one unit.
func roundTo(v float64, unit int64) int64 {
	n := int64(math.Round(v/float64(unit))) * unit
	return max(n, unit)
}

// cnyAmount rounds an amount of yuan the way ledgers write it: to 百万
// below ¥10亿, 千万 below ¥50亿, 亿 above.
func cnyAmount(v float64) domain.Money {
	switch {
	case v < 1e9:
		return domain.Yuan(roundTo(v, 1_000_000))
	case v < 5e9:
		return domain.Yuan(roundTo(v, 10_000_000))
	}
	return domain.Yuan(roundTo(v, 100_000_000))
}

func usdAmount(v float64) domain.Money { return domain.Dollars(roundTo(v, 1_000_000)) }

// scale multiplies an amount keeping its currency and rounding.
func scale(m domain.Money, f float64) domain.Money {
	if m.Currency == domain.USD {
		return usdAmount(float64(m.Amount) * f)
	}
	return cnyAmount(float64(m.Amount) * f)
}

func (g *gen) yuan(m domain.Money) int64 {
	c, err := m.ToCNY(g.pol.USDCNYRate)
	if err != nil {
		return 0
	}
	return c.Amount
}

// logUniform draws between lo and hi with every order of magnitude equally
// likely, the shape of real investment amounts.
func (g *gen) logUniform(lo, hi float64) float64 {
	return math.Exp(g.uniform(math.Log(lo), math.Log(hi)))
}

// plannedCNY: mostly ¥1亿–¥50亿, a few smaller, some ≥ ¥50亿 and ¥100亿.
func (g *gen) plannedCNY(major bool) domain.Money {
	r := g.float()
	if major {
		r = 0.56 + 0.44*r
	}
	switch {
	case r < 0.04:
		return cnyAmount(g.logUniform(3e7, 1e8))
	case r < 0.56:
		return cnyAmount(g.logUniform(1e8, 1e9))
	case r < 0.87:
		return cnyAmount(g.logUniform(1e9, 5e9))
	case r < 0.96:
		return cnyAmount(g.logUniform(5e9, 1e10))
	}
	return cnyAmount(g.logUniform(1e10, 3e10))
}

// plannedUSD: US$2000万–US$8亿, two thirds above US$1亿 (超亿美元).
func (g *gen) plannedUSD(major bool) domain.Money {
	if major || g.chance(0.66) {
		return usdAmount(g.logUniform(1e8, 8e8))
	}
	return usdAmount(g.logUniform(2e7, 1e8))
}

// ---- identities ----

// uscc builds a unified social credit code (GB 32100-2015): 9 for an
// enterprise under market regulation, 1 for a company, the division code,
// nine characters of organisation code and the check character. Codes are
// never reused.
func (g *gen) uscc(division string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for {
		b := []byte("91" + division)
		for range 9 {
			if g.chance(0.8) {
				b = append(b, byte('0'+g.rng.IntN(10)))
			} else {
				b = append(b, alphabet[10+g.rng.IntN(len(alphabet)-10)])
			}
		}
		c, ok := domain.USCCCheckChar(string(b))
		if !ok {
			continue
		}
		s := string(append(b, c))
		if !g.usedUSCC[s] {
			g.usedUSCC[s] = true
			return s
		}
	}
}

// investor makes up an investor for a chain: foreign groups (many of them
// Fortune Global 500), central SOEs, private-500 groups, specialised SMEs.
// Each investor + chain is used once, so no two plain projects meet under
// 首报首谈; the exclusivity scenarios reuse one on purpose.
func (g *gen) investor(cs *chainSpec) (domain.Investor, string) {
	for {
		var inv domain.Investor
		var short string
		stem := pick(g, stemFirst) + pick(g, stemSecond)
		word := pick(g, cs.words)
		switch r := g.float(); {
		case r < cs.foreign:
			f := pick(g, foreignNames)
			inv = domain.Investor{Name: f.country + f.name + word + f.form, Origin: f.country,
				Categories: []domain.Category{domain.CategoryForeign}}
			if g.chance(0.35) {
				inv.Categories = append([]domain.Category{domain.CategoryFortuneGlobal500}, inv.Categories...)
			}
			short = f.name
		case r < cs.foreign+0.1:
			inv = domain.Investor{Name: "中国" + stem + word + pick(g, sOEForms), Origin: "北京",
				Categories: []domain.Category{domain.CategoryCentralSOE}}
			if g.chance(0.4) {
				inv.Categories = append([]domain.Category{domain.CategoryFortuneGlobal500}, inv.Categories...)
			}
			short = "中国" + stem
		default:
			o := pick(g, origins)
			inv = domain.Investor{Name: strings.TrimPrefix(o.name, "浙江") + stem + word + pick(g, forms), Origin: o.name}
			switch r := g.float(); {
			case r < 0.25:
				inv.Categories = []domain.Category{domain.CategoryPrivate500}
			case r < 0.35:
				inv.Categories = []domain.Category{domain.CategoryChina500}
			case r < 0.55:
				inv.Categories = []domain.Category{domain.CategorySpecializedSME}
			case r < 0.6:
				inv.Categories = []domain.Category{domain.CategoryUnicorn}
			case r < 0.65:
				inv.Categories = []domain.Category{domain.CategoryHeadquarters}
			}
			if g.chance(0.85) {
				inv.USCC = g.uscc(o.division)
			}
			short = stem
		}
		key := domain.ExclusivityKeyOf(domain.Investor{Name: inv.Name}, cs.name)
		if g.usedKey[key] {
			continue
		}
		g.usedKey[key] = true
		return inv, short
	}
}

func (g *gen) foreign(inv domain.Investor) bool {
	return slices.Contains(inv.Categories, domain.CategoryForeign)
}

// ---- the plan ----

// build generates every step: the city's set-up, the projects, the orders
// that are about no project, the targets and the assessment.
func (g *gen) build() {
	g.setup()
	g.projects()
	g.unitOrders()
	g.assessment()
	slices.SortStableFunc(g.steps, func(a, b step) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
	})
}

func (g *gen) newChain() int {
	g.chain++
	return g.chain
}

// emit places a chain's proposals in time: in order, each recorded its
// delay after it occurred but never before the previous one, up to Now.
// A fact that would be recorded after Now has not been entered yet, nor has
// anything after it in the chain. It returns how many became steps.
func (g *gen) emit(chain int, owner *unitSpec, ps []proposal) int {
	for i := range ps {
		if ps[i].order.IsZero() {
			ps[i].order = ps[i].occurred
		}
	}
	slices.SortStableFunc(ps, func(a, b proposal) int { return a.order.Compare(b.order) })
	var last time.Time
	for i, p := range ps {
		if p.owner {
			p.actor = staff(owner)
		}
		if p.moveTo != nil {
			owner = p.moveTo
		}
		if p.occurred.After(g.o.now) {
			return i
		}
		at := p.occurred.Add(g.wait(p.delay))
		if !at.After(last) {
			at = last.Add(time.Duration(g.between(1, 20)) * time.Minute)
		}
		if at.After(g.o.now) {
			return i
		}
		last = at
		g.seq++
		g.steps = append(g.steps, step{at: at, chain: chain, seq: g.seq, key: p.name, actor: p.actor,
			phase: p.phase, ref: p.ref, expect: p.expect, do: p.do})
		if p.note != nil {
			p.note()
		}
	}
	return len(ps)
}

// actors
var (
	adminActor      = eventstore.Actor{Subject: "admin", Role: string(domain.RoleAdmin)}
	centreActor     = eventstore.Actor{Subject: centreSpec.staff, Role: string(domain.RoleCentre), Unit: string(centreSpec.code)}
	disciplineActor = eventstore.Actor{Subject: "jxjw.zhaomin", Role: string(domain.RoleDiscipline)}
)

func staff(u *unitSpec) eventstore.Actor {
	return eventstore.Actor{Subject: u.staff, Role: string(domain.RoleUnitStaff), Unit: string(u.code)}
}

// setup registers the units and adopts the default policy as version 1,
// on the first day of the dataset.
func (g *gen) setup() {
	chain := g.newChain()
	t := g.workTime(g.o.start, 0)
	var ps []proposal
	add := func(p proposal) {
		p.order, p.occurred, p.delay, p.phase = t, t, delayNone, phaseSetup
		ps = append(ps, p)
		t = t.Add(time.Minute)
	}
	for _, u := range append([]unitSpec{centreSpec}, unitSpecs...) {
		u := u
		add(proposal{name: "unit/" + string(u.code), actor: adminActor,
			do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
				return x.app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: u.code, Name: u.name, Kind: u.kind, Meta: m})
			}})
	}
	pol := g.pol
	add(proposal{name: "policy/1", actor: centreActor,
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			return x.app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: pol.Clone(), Meta: m})
		}})
	g.emit(chain, nil, ps)
}

// yearIndex is which assessment year t falls in, for a unit's form: the
// months before the first assessment year count with it.
func (g *gen) yearIndex(t time.Time) int {
	y := t.In(g.o.loc).Year()
	i := slices.Index(g.o.years, y)
	if i < 0 {
		return 0
	}
	return min(i, 1)
}

// pickUnit draws the reporting unit by size and form in the year.
func (g *gen) pickUnit(t time.Time) *unitSpec {
	yi := g.yearIndex(t)
	total := 0.0
	for _, u := range g.units {
		total += u.weight * u.form[yi]
	}
	r := g.float() * total
	for _, u := range g.units {
		r -= u.weight * u.form[yi]
		if r < 0 {
			return u
		}
	}
	return g.units[len(g.units)-1]
}

func (g *gen) pickChain() *chainSpec {
	total := 0.0
	for _, c := range chainSpecs {
		total += c.weight
	}
	r := g.float() * total
	for i := range chainSpecs {
		r -= chainSpecs[i].weight
		if r < 0 {
			return &chainSpecs[i]
		}
	}
	return &chainSpecs[len(chainSpecs)-1]
}

// projectsPerYear is the pace of new projects across the city: about 15 a
// month, enough for every list, ranking and alert to have something in it.
const projectsPerYear = 180

// tolScenario is a tolerance case the dataset must contain.
type tolScenario uint8

const (
	tolNone tolScenario = iota
	// tolEligible: due process recorded before the signing, an objective
	// cause: exempted.
	tolEligible
	// tolAfterFact: the feasibility study, risk assessment and collective
	// decision were entered after the signing: not evidence, rejected.
	tolAfterFact
	// tolSubjective: a subjective fault: rejected.
	tolSubjective
	// tolOpen: requested recently, not decided yet.
	tolOpen
)

// scenario forces a project's story.
type scenario struct {
	stall      bool // reported, never negotiated (exclusivity alerts)
	major      bool
	rival      *unitSpec // another unit reports the same investor and chain
	rivalMoves bool      // and the centre moves the project to it
	tolerance  tolScenario
	lateRecord bool // the first negotiation is entered weeks late
	unfiled    bool // a major signing without its advance filing
}

// projects generates the random projects and the scenario projects, in
// order of their report.
func (g *gen) projects() {
	span := g.o.now.Sub(g.o.start)
	n := int(math.Round(projectsPerYear * span.Hours() / (24 * 365)))
	type planned struct {
		at time.Time
		sc scenario
		u  *unitSpec
	}
	var all []planned
	for range n {
		// Slightly more projects lately: the pipeline grows.
		f := math.Sqrt(g.float()*0.6 + 0.4)
		f = (f - math.Sqrt(0.4)) / (1 - math.Sqrt(0.4))
		at := g.o.start.Add(days(3) + time.Duration(f*float64(span-days(5))))
		sc := scenario{stall: g.chance(0.03)}
		all = append(all, planned{at: at, sc: sc})
	}
	ago := func(lo, hi int) time.Time { return g.o.now.Add(-days(g.between(lo, hi))) }
	// Exclusivity windows: expiring (ends within the warning days), lapsed.
	all = append(all,
		planned{at: ago(24, 27), sc: scenario{stall: true, major: true}},
		planned{at: ago(25, 28), sc: scenario{stall: true, major: true}},
		planned{at: ago(40, 60), sc: scenario{stall: true, major: true}},
		planned{at: ago(70, 110), sc: scenario{stall: true, major: true}},
	)
	// Exclusivity conflicts: one settled by a transfer, two standing.
	all = append(all,
		planned{at: ago(300, 360), sc: scenario{major: true, rival: g.units[2], rivalMoves: true}, u: g.units[7]},
		planned{at: ago(60, 90), sc: scenario{major: true, rival: g.units[3]}, u: g.units[8]},
		planned{at: ago(100, 140), sc: scenario{major: true, rival: g.units[0]}, u: g.units[5]},
	)
	// Tolerance cases of every outcome, and the alerts that must show.
	all = append(all,
		planned{at: ago(560, 620), sc: scenario{major: true, tolerance: tolEligible}},
		planned{at: ago(480, 540), sc: scenario{major: true, tolerance: tolAfterFact}},
		planned{at: ago(380, 440), sc: scenario{tolerance: tolSubjective}},
		planned{at: ago(260, 300), sc: scenario{major: true, tolerance: tolOpen}},
		planned{at: ago(150, 200), sc: scenario{lateRecord: true}},
		planned{at: ago(200, 260), sc: scenario{major: true, unfiled: true}},
	)
	slices.SortStableFunc(all, func(a, b planned) int { return a.at.Compare(b.at) })
	for i, p := range all {
		at := p.at
		if at.Before(g.o.start.Add(days(2))) {
			at = g.o.start.Add(days(2))
		}
		g.project(i+1, g.workTime(at, 0), p.sc, p.u)
	}
}

// proj is a project being generated.
type proj struct {
	g        *gen
	ref      string
	chain    int
	first    *unitSpec // the reporting unit
	unit     *unitSpec // the owner as the story has reached
	reported time.Time
	lead     string
	// due: the three due-process records were entered before the decision
	// they justify.
	due     bool
	cs      *chainSpec
	inv     domain.Investor
	short   string
	name    string
	planned domain.Money
	ps      []proposal
	stage   domain.Stage
	// orders are the centre's supervision orders about the project. Each
	// is its own chain: a unit catching up on late records holds back its
	// own facts, not the centre's acts (an order issued late would miss
	// its own deadline).
	orders [][]proposal
}

func (p *proj) add(q proposal) {
	if q.order.IsZero() {
		q.order = q.occurred
	}
	q.name = p.ref + "/" + q.name
	p.ps = append(p.ps, q)
}

// staged notes the project's stage once the step is recorded.
func (p *proj) staged(s domain.Stage) func() {
	return func() { p.stage = s }
}

func (p *proj) id(x *runner) (string, error) { return x.id(p.ref) }

// project generates one project's story and emits it.
func (g *gen) project(i int, reportAt time.Time, sc scenario, u *unitSpec) {
	if u == nil {
		u = g.pickUnit(reportAt)
	}
	cs := g.pickChain()
	p := &proj{g: g, ref: fmt.Sprintf("p%03d", i), chain: g.newChain(), first: u, unit: u, cs: cs, reported: reportAt}
	p.inv, p.short = g.investor(cs)
	usd := g.foreign(p.inv) && g.chance(0.8)
	if usd {
		p.planned = g.plannedUSD(sc.major)
	} else {
		p.planned = g.plannedCNY(sc.major)
	}
	for try := 0; ; try++ {
		p.name = p.short + pick(g, cs.products) + "项目"
		if try > 0 {
			p.name = p.short + pick(g, cs.products) + pick(g, []string{"（一期）", "（二期）", "及研发中心", "智能工厂"}) + "项目"
		}
		if try > 8 {
			p.name = fmt.Sprintf("%s%s（%d）项目", p.short, pick(g, cs.products), i)
		}
		if !g.usedName[p.name] {
			break
		}
	}
	g.usedName[p.name] = true
	form := u.form[g.yearIndex(reportAt)]

	// In a conflict the rival must be recorded inside the holder's window,
	// so nothing before it in the chain may be entered late.
	reportDelay := delayNormal
	if sc.rival != nil {
		reportDelay = delayQuick
	}
	g.report(p, reportAt, reportDelay)
	if sc.stall {
		g.finish(p)
		return
	}
	// Negotiation rounds, the first a few days to weeks after the report.
	t := reportAt
	neg := g.after(reportAt, 3, 25)
	if sc.rival != nil {
		// The rival reports while the window holds, after the holder's
		// first round.
		neg = g.after(reportAt, 2, 4)
		t = g.after(neg, 2, 8)
		g.rivalReport(p, sc.rival, t)
	}
	first := proposal{occurred: neg, delay: g.normalOrLate()}
	switch {
	case sc.lateRecord:
		first.delay = delayLate
	case sc.rival != nil:
		first.delay = delayQuick
	}
	g.negotiation(p, first, 1)

	// The fate: signed, ended in negotiation, or still being negotiated.
	fate := g.float()
	signP := math.Min(0.62*form, 0.9)
	switch sc.tolerance {
	case tolEligible, tolAfterFact:
		fate = 0
	case tolSubjective, tolOpen:
		fate = signP + 0.01
	}
	if sc.rivalMoves || sc.unfiled {
		fate = 0
	}
	transferAt := time.Time{}
	if sc.rivalMoves {
		transferAt = g.after(t, 3, 10)
	} else if sc.rival == nil && sc.tolerance == tolNone && g.chance(0.035) {
		transferAt = g.after(neg, 5, 40)
	}
	last := neg
	round := 2
	rounds := func(until time.Time, gapLo, gapHi, maxRounds int) {
		for r := g.after(last, gapLo, gapHi); r.Before(until) && round <= maxRounds; r = g.after(last, gapLo, gapHi) {
			if !transferAt.IsZero() && r.After(transferAt) && last.Before(transferAt) {
				g.transfer(p, sc, transferAt)
			}
			g.negotiation(p, proposal{occurred: r, delay: g.normalOrLate()}, round)
			last = r
			round++
		}
		if !transferAt.IsZero() && last.Before(transferAt) && transferAt.Before(until) {
			g.transfer(p, sc, transferAt)
			last = transferAt
		}
	}
	switch {
	case fate < signP:
		signAt := g.after(neg, 30, 270)
		if !transferAt.IsZero() && !signAt.After(transferAt.Add(days(20))) {
			signAt = g.after(transferAt, 20, 90)
		}
		if sc.tolerance != tolNone || sc.rivalMoves || sc.unfiled {
			signAt = g.after(neg, 40, 80)
			if !transferAt.IsZero() {
				signAt = g.after(transferAt, 20, 40)
			}
		}
		rounds(signAt.Add(-days(10)), 12, 50, 6)
		g.signed(p, sc, signAt, form)
	case fate < signP+0.12:
		endAt := g.after(neg, 40, 300)
		if sc.tolerance != tolNone {
			endAt = g.after(neg, 60, 120)
		}
		rounds(endAt.Add(-days(10)), 15, 60, 6)
		withDue := sc.tolerance == tolOpen || sc.tolerance == tolNone && g.chance(0.45)
		if withDue {
			g.dueProcess(p, endAt.Add(-days(60)), endAt, false)
		}
		kind, cause := domain.TermNegotiationEnded, g.cause()
		switch sc.tolerance {
		case tolSubjective:
			cause = domain.CauseSubjectiveFault
		case tolOpen:
			cause = domain.CauseMarketChange
		default:
			if g.chance(0.15) {
				kind = domain.TermWithdrawn
			}
		}
		g.terminate(p, endAt, kind, cause)
		g.toleranceCase(p, sc.tolerance, endAt, kind, cause)
	default:
		// Still courting: rounds every few weeks, some going quiet for more
		// than a month (stale); a lead that drags on for most of a year is
		// closed as 洽谈终止.
		endAt := g.after(neg, 200, 450)
		rounds(endAt.Add(-days(20)), 10, 40, 16)
		if g.chance(0.12) {
			g.staleOrder(p, last, endAt)
		}
		cause := domain.CauseInvestorDecision
		if g.chance(0.4) {
			cause = domain.CauseMarketChange
		}
		g.terminate(p, endAt, domain.TermNegotiationEnded, cause)
	}
	if g.chance(0.02) {
		g.correction(p, reportAt)
	}
	g.finish(p)
}

func (g *gen) finish(p *proj) {
	n := g.emit(p.chain, p.first, p.ps)
	if n == 0 {
		return // not even reported by Now
	}
	g.stats.projects++
	g.stats.stages[p.stage]++
	// Orders come weeks after the report, so the project exists by the
	// batch that issues them.
	for _, o := range p.orders {
		g.emit(g.newChain(), nil, o)
	}
}

func (g *gen) report(p *proj, at time.Time, d delay) {
	channel := pick(g, domain.SourceChannels()[:7])
	referrer := ""
	if channel == domain.ChannelIntermediary || channel == domain.ChannelCommissioned || channel == domain.ChannelBusinessLed {
		referrer = pick(g, referrers)
	}
	lead := g.person() + "（" + pick(g, officialTitles) + "）"
	p.lead = lead
	u, name, inv, chain, planned := p.unit, p.name, p.inv, p.cs.name, p.planned
	p.add(proposal{name: "report", occurred: at, delay: d, actor: staff(u), ref: p.ref, note: p.staged(domain.StageReported),
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			return x.app.ReportProject.Handle(ctx, commands.ReportProject{Name: name, Unit: u.code, Investor: inv,
				IndustryChain: chain, PlannedInvestment: planned, SourceChannel: channel, Referrer: referrer,
				LeadOfficial: lead, OccurredAt: at, Meta: m})
		}})
}

// rivalReport is another unit reporting the same investor in the same chain
// while the first holds 首报首谈: refused, and kept on record.
func (g *gen) rivalReport(p *proj, rival *unitSpec, at time.Time) {
	name, inv, chain := p.short+pick(g, p.cs.products)+"项目", p.inv, p.cs.name
	planned := scale(p.planned, g.uniform(0.7, 1.1))
	p.add(proposal{name: "rival", occurred: at, delay: delayQuick, actor: staff(rival), expect: domain.ErrExclusivityConflict,
		note: func() { g.stats.rejected++ },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			return x.app.ReportProject.Handle(ctx, commands.ReportProject{Name: name, Unit: rival.code, Investor: inv,
				IndustryChain: chain, PlannedInvestment: planned, SourceChannel: domain.ChannelBusinessLed,
				OccurredAt: at, Meta: m})
		}})
}

func (g *gen) negotiation(p *proj, q proposal, round int) {
	level := domain.LeaderDepartment
	switch r := g.float(); {
	case domain.IsMajor(p.planned, g.pol) && r < 0.5, r < 0.15:
		level = domain.LeaderPrincipal
	case r < 0.6:
		level = domain.LeaderDeputy
	}
	host := p.unit.place
	participants := []string{g.person() + "（" + host + "）", g.person() + "（" + p.short + "）"}
	if g.chance(0.5) {
		participants = append(participants, g.person()+"（市投促中心）")
	}
	summary := fmt.Sprintf("第%d轮洽谈：%s与%s就%s进行洽谈。%s", round, host, p.inv.Name,
		pick(g, negotiationTopics), pick(g, negotiationOutcomes))
	q.name = "neg" + strconv.Itoa(round)
	q.owner = true
	at := q.occurred
	if round == 1 {
		q.note = p.staged(domain.StageNegotiating)
	}
	q.do = func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
		id, err := p.id(x)
		if err != nil {
			return commands.Result{}, err
		}
		return x.app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: id, OccurredAt: at,
			LeaderLevel: level, Participants: participants, Summary: summary, Meta: m})
	}
	p.add(q)
}

// transfer: the centre moves a project still under negotiation to another
// unit (项目流转, Jiaxing 2024 二(一)3); if it signs there, both units are
// credited.
func (g *gen) transfer(p *proj, sc scenario, at time.Time) {
	to := sc.rival
	if to == nil || !sc.rivalMoves {
		for to = p.unit; to == p.unit; {
			to = pick(g, g.units)
		}
	}
	reason := fmt.Sprintf(pick(g, transferWhy), to.place)
	p.add(proposal{name: "transfer", occurred: at, delay: delayNormal, actor: centreActor, moveTo: to,
		note: func() { g.stats.transfers++ },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: id, ToUnit: to.code,
				Reason: reason, OccurredAt: at, Meta: m})
		}})
	p.unit = to
}

// dueProcess records 科学论证、风险评估、集体决策 between from and before, the
// preconditions of fault tolerance (Jiaxing 2024 三(四)). afterFact enters
// them only after the decision they should have preceded (ordered after
// before), which the tolerance evaluation refuses as evidence.
func (g *gen) dueProcess(p *proj, from, before time.Time, afterFact bool) {
	if earliest := p.reported.Add(days(1)); from.Before(earliest) {
		from = earliest
	}
	p.due = !afterFact
	span := int(before.Sub(from).Hours()/24) - 3
	if span < 6 {
		span = 6
	}
	bodies := map[domain.DueProcessKind][2]string{
		domain.DueFeasibilityStudy:   {"专家评审组", "项目可行性研究报告经专家评审通过，产业定位、投资强度及亩均效益符合准入要求。"},
		domain.DueRiskAssessment:     {"属地投促局、自然资源和规划局、生态环境局", "完成项目风险评估，对用地、能耗、环保及投资方履约能力等风险提出防控措施。"},
		domain.DueCollectiveDecision: {"区（县、市）政府常务会议", "经政府常务会议集体研究，同意项目准入及相关扶持政策。"},
	}
	for k, kind := range domain.DueProcessKinds() {
		at := g.workTime(from, span*k/3+g.between(0, max(span/4, 1)))
		if !at.Before(before) {
			at = before.Add(-days(3 - k))
		}
		body := bodies[kind]
		ref := fmt.Sprintf("JX-%s-%d-%03d", strings.ToUpper(string(p.unit.code)), at.Year(), g.between(1, 400))
		q := proposal{name: "due/" + string(kind), occurred: at, delay: delayNormal, owner: true,
			do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
				id, err := p.id(x)
				if err != nil {
					return commands.Result{}, err
				}
				return x.app.RecordDueProcess.Handle(ctx, commands.RecordDueProcess{ProjectID: id, Kind: kind,
					OccurredAt: at, Body: body[0], Summary: body[1], DocumentRef: ref, Meta: m})
			}}
		if afterFact {
			// Entered only after the signing had been recorded.
			q.order = before.Add(time.Second * time.Duration(k+1))
		}
		p.add(q)
	}
}

// signed generates a signing and what follows it: registration, start,
// funds, production, amendments, alerts' supervision orders, and for some
// an end (建而未投 / 投而未达预期) with a tolerance case.
func (g *gen) signed(p *proj, sc scenario, signAt time.Time, form float64) {
	lo := 0.85
	if sc.major {
		lo = 1 // a major report stays a major signing
	}
	contract := scale(p.planned, g.uniform(lo, 1.25))
	major := domain.IsMajor(contract, g.pol)
	// Due process before the signing: usual for major projects.
	switch {
	case sc.tolerance == tolEligible:
		g.dueProcess(p, signAt.Add(-days(50)), signAt, false)
	case sc.tolerance == tolAfterFact:
		g.dueProcess(p, signAt.Add(-days(40)), signAt, true)
	case major && g.chance(0.8), !major && g.chance(0.4):
		g.dueProcess(p, signAt.Add(-days(45)), signAt, false)
	}
	// 重大签约提前一周报备 (Jiaxing 2024 二(一)3): most on time, some late,
	// some never.
	if major && !sc.unfiled {
		var fileAt time.Time
		switch r := g.float(); {
		case r < 0.84:
			// Recorded up to four and a half days later in its batch, still
			// a week ahead.
			fileAt = g.workTime(signAt, -g.between(g.pol.SigningNoticeDays+5, 24))
		case r < 0.92:
			fileAt = g.workTime(signAt, -g.between(1, g.pol.SigningNoticeDays-2))
		}
		if !fileAt.IsZero() && fileAt.Before(signAt) {
			g.filing(p, fileAt, signAt, contract)
		}
	}
	signDate := domain.DateOf(signAt, g.o.loc)
	registerBy := signDate.AddDays(g.between(60, 120))
	startBy := signDate.AddDays(g.between(150, 270))
	var schedule []domain.FundsMilestone
	shares := []float64{0.3, 0.4}
	var sum int64
	for i, s := range shares {
		m := scale(contract, s)
		sum += m.Amount
		schedule = append(schedule, domain.FundsMilestone{By: signDate.AddDays(180 * (i + 1)), Amount: m})
	}
	schedule = append(schedule, domain.FundsMilestone{By: signDate.AddDays(540),
		Amount: domain.Money{Amount: max(contract.Amount-sum, 1), Currency: contract.Currency}})
	commit := domain.Commitments{RegisterBy: &registerBy, StartBy: &startBy, Funds: schedule}
	agreement := domain.AgreementFormal
	if g.chance(0.2) {
		agreement = domain.AgreementFramework
	}
	var foreignPart *domain.Money
	if g.foreign(p.inv) {
		f := contract
		if contract.Currency == domain.CNY {
			rate := float64(g.pol.USDCNYRate) / domain.RateScale
			f = usdAmount(float64(contract.Amount) / rate * g.uniform(0.5, 0.9))
		}
		foreignPart = &f
	}
	year := signAt.In(g.o.loc).Year()
	unit := p.unit
	p.add(proposal{name: "sign", occurred: signAt, delay: g.normalOrLate(), owner: true, note: func() {
		p.stage = domain.StageSigned
		c := g.credit(unit.code, year)
		if g.yuan(contract) >= domain.Threshold100m {
			c.signed100m++
		}
		c.contract += g.yuan(contract)
	}, do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
		id, err := p.id(x)
		if err != nil {
			return commands.Result{}, err
		}
		com := commit
		return x.app.SignContract.Handle(ctx, commands.SignContract{ProjectID: id, OccurredAt: signAt,
			ContractInvestment: contract, ForeignInvestment: foreignPart, Agreement: agreement, Commitments: &com, Meta: m})
	}})

	// When does it end, if it does?
	var endAt time.Time
	switch {
	case sc.tolerance == tolEligible || sc.tolerance == tolAfterFact:
		endAt = g.after(signAt, 150, 240)
	case g.chance(0.07):
		endAt = g.after(signAt, 120, 700)
	}
	before := func(t time.Time) bool { return endAt.IsZero() || t.Before(endAt) }

	// Registration (注册/备案): mostly by the committed date, some late,
	// some never (registration_overdue).
	var regAt, startAt, prodAt time.Time
	switch r := g.float(); {
	case r < 0.72*math.Min(form, 1.1):
		regAt = g.workTime(signAt, g.between(15, max(16, signDate.DaysUntil(registerBy)-2)))
	case r < 0.88:
		regAt = g.workTime(registerBy.Start(g.o.loc), g.between(5, 60))
	}
	if !regAt.IsZero() && before(regAt) {
		g.registration(p, regAt, contract)
		// Construction start (开工).
		switch r := g.float(); {
		case r < 0.7:
			startAt = g.workTime(regAt, g.between(20, max(21, domain.DateOf(regAt, g.o.loc).DaysUntil(startBy)-3)))
		case r < 0.9:
			startAt = g.workTime(startBy.Start(g.o.loc), g.between(10, 90))
		}
	} else if regAt.IsZero() && g.chance(0.25) {
		// Some ledgers skip the registration record and go straight to the
		// start; registration counts as achieved by it.
		startAt = g.after(signAt, 60, 200)
	}
	if !startAt.IsZero() && before(startAt) {
		g.construction(p, startAt)
		if g.chance(0.7) {
			prodAt = g.after(startAt, 150, 360)
			if before(prodAt) {
				at := prodAt
				p.add(proposal{name: "production", occurred: at, delay: g.normalOrLate(), owner: true,
					note: p.staged(domain.StageProducing),
					do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
						id, err := p.id(x)
						if err != nil {
							return commands.Result{}, err
						}
						return x.app.StartProduction.Handle(ctx, commands.StartProduction{ProjectID: id, OccurredAt: at, Meta: m})
					}})
			} else {
				prodAt = time.Time{}
			}
		}
	} else {
		startAt = time.Time{}
	}

	// Funds (资金到位) against the schedule, each milestone in one to three
	// instalments: most on time, some behind.
	slow := g.chance(0.28 / form)
	arrival := 0
	prev := signAt.Add(days(7))
funds:
	for _, ms := range schedule {
		var due time.Time
		total := ms.Amount
		if slow {
			due = g.workTime(ms.By.Start(g.o.loc), g.between(10, 80))
			total = scale(ms.Amount, g.uniform(0.4, 0.8))
		} else {
			due = g.workTime(ms.By.Start(g.o.loc), -g.between(5, 30))
			total = scale(ms.Amount, g.uniform(0.97, 1.08))
		}
		parts := g.between(1, 3)
		for k := range parts {
			at := g.workTime(due, -(parts-1-k)*g.between(20, 40))
			if !at.After(prev) {
				at = g.after(prev, 3, 10)
			}
			if !before(at) {
				break funds
			}
			amount := scale(total, 1/float64(parts))
			arrival++
			g.funds(p, arrival, at, amount)
			prev = at
		}
	}

	// A capital increase or cut, counted as its increment.
	if g.chance(0.1) {
		at := g.after(signAt, 90, 360)
		if before(at) {
			newAmount := scale(contract, g.uniform(1.15, 1.6))
			reason := pick(g, amendIncrease)
			if g.chance(0.2) {
				newAmount, reason = scale(contract, g.uniform(0.7, 0.9)), pick(g, amendDecrease)
			}
			if newAmount != contract {
				p.add(proposal{name: "amend", occurred: at, delay: delayNormal, owner: true,
					note: func() { g.stats.amendments++ },
					do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
						id, err := p.id(x)
						if err != nil {
							return commands.Result{}, err
						}
						return x.app.AmendContract.Handle(ctx, commands.AmendContract{ProjectID: id, OccurredAt: at,
							ContractInvestment: newAmount, Reason: reason, Meta: m})
					}})
			}
		}
	}

	// Supervision of the breaches the centre follows up.
	if !sc.unfiled && g.chance(0.5) {
		due := registerBy.AddDays(1).Start(g.o.loc)
		if regAt.IsZero() || regAt.After(due.Add(days(30))) {
			issue := g.after(due, 15, 40)
			if before(issue) {
				g.projectOrder(p, issue, "督促"+p.name+"办理公司注册（备案）手续",
					"按合同约定完成项目公司注册（备案）", regAt)
			}
		}
	}
	if sc.unfiled {
		// Left open: the breach stands and the order runs past its deadline.
		issue := g.after(signAt, 10, 20)
		g.projectOrder(p, issue, p.name+"重大签约未按规定提前一周报备",
			"说明未报备原因，完善重大签约报备流程", time.Time{})
	}

	if endAt.IsZero() {
		return
	}
	stage := domain.StageSigned
	for _, m := range []struct {
		at time.Time
		s  domain.Stage
	}{{regAt, domain.StageRegistered}, {startAt, domain.StageStarted}, {prodAt, domain.StageProducing}} {
		if !m.at.IsZero() && m.at.Before(endAt) {
			stage = m.s
		}
	}
	kind := domain.TermBuiltNotInvested
	switch {
	case stage == domain.StageProducing:
		kind = domain.TermBelowExpectation
	case sc.tolerance == tolNone && g.chance(0.2):
		kind = domain.TermWithdrawn
	}
	cause := g.cause()
	switch sc.tolerance {
	case tolEligible:
		cause = domain.CauseMarketChange
	case tolAfterFact:
		cause = domain.CausePolicyChange
	}
	g.terminate(p, endAt, kind, cause)
	g.toleranceCase(p, sc.tolerance, endAt, kind, cause)
}

func (g *gen) credit(u domain.UnitCode, year int) *credit {
	k := credKey{u, year}
	c := g.credits[k]
	if c == nil {
		c = &credit{}
		g.credits[k] = c
	}
	return c
}

func (g *gen) filing(p *proj, at, signAt time.Time, contract domain.Money) {
	planned := domain.DateOf(signAt, g.o.loc)
	venue := pick(g, venues)
	p.add(proposal{name: "filing", occurred: at, delay: delayNone, owner: true,
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.FileSigning.Handle(ctx, commands.FileSigning{ProjectID: id, PlannedDate: planned,
				ContractInvestment: contract, Venue: venue, Meta: m})
		}})
}

func (g *gen) registration(p *proj, at time.Time, contract domain.Money) {
	uscc := g.uscc(p.unit.division)
	capital := scale(contract, g.uniform(0.2, 0.4))
	p.add(proposal{name: "registration", occurred: at, delay: g.normalOrLate(), owner: true,
		note: p.staged(domain.StageRegistered),
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.RegisterCompany.Handle(ctx, commands.RegisterCompany{ProjectID: id, OccurredAt: at,
				CompanyUSCC: uscc, RegisteredCapital: &capital, Meta: m})
		}})
}

func (g *gen) construction(p *proj, at time.Time) {
	permit := fmt.Sprintf("%s%s%02d%02d%04d", p.unit.division, at.Format("2006"), int(at.Month()), at.Day(), g.between(1, 9999))
	unit := p.unit
	year := at.In(g.o.loc).Year()
	p.add(proposal{name: "start", occurred: at, delay: g.normalOrLate(), owner: true,
		note: func() { p.stage = domain.StageStarted; g.credit(unit.code, year).started++ },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.StartConstruction.Handle(ctx, commands.StartConstruction{ProjectID: id, OccurredAt: at,
				PermitNo: permit, Meta: m})
		}})
}

func (g *gen) funds(p *proj, n int, at time.Time, amount domain.Money) {
	source := domain.FundsDomestic
	switch {
	case amount.Currency == domain.USD || g.foreign(p.inv):
		source = domain.FundsForeign
	case !strings.HasPrefix(p.inv.Origin, "浙江"):
		source = domain.FundsOutOfProvince
	}
	unit := p.unit
	year := at.In(g.o.loc).Year()
	p.add(proposal{name: "funds" + strconv.Itoa(n), occurred: at, delay: g.normalOrLate(), owner: true,
		note: func() { g.credit(unit.code, year).funds += g.yuan(amount) },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: id, OccurredAt: at, Amount: amount,
				Source: source, Meta: m})
		}})
}

// cause draws a termination cause, objective causes most often.
func (g *gen) cause() domain.TerminationCause {
	switch r := g.float(); {
	case r < 0.42:
		return domain.CauseMarketChange
	case r < 0.55:
		return domain.CausePolicyChange
	case r < 0.6:
		return domain.CauseForceMajeure
	case r < 0.85:
		return domain.CauseInvestorDecision
	case r < 0.92:
		return domain.CauseSubjectiveFault
	}
	return domain.CauseOther
}

func (g *gen) terminate(p *proj, at time.Time, kind domain.TerminationKind, cause domain.TerminationCause) {
	explanation := terminationTexts[cause]
	if kind == domain.TermBuiltNotInvested {
		explanation = "项目公司已设立但投资方未按约投入。" + explanation
	}
	p.add(proposal{name: "termination", occurred: at, delay: delayNormal, owner: true,
		note: p.staged(domain.StageTerminated),
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.TerminateProject.Handle(ctx, commands.TerminateProject{ProjectID: id, OccurredAt: at,
				Kind: kind, Cause: cause, Explanation: explanation, Meta: m})
		}})
}

// toleranceCase opens a case for a terminated project and has the
// discipline commission decide it, as the evaluation would advise: exempt
// when the due process was in time and the cause objective, rejected
// otherwise (sometimes reduced instead). Random terminations ask for
// tolerance now and then; the scenarios always do.
func (g *gen) toleranceCase(p *proj, sc tolScenario, endAt time.Time, kind domain.TerminationKind, cause domain.TerminationCause) {
	dueInTime := p.due
	if sc == tolNone && (!kind.ToleranceRelevant() || !g.chance(0.4)) {
		return
	}
	reqAt := g.after(endAt, 7, 40)
	if sc == tolOpen {
		reqAt = g.o.now.Add(-days(g.between(5, 12)))
		if !reqAt.After(endAt) {
			reqAt = g.after(endAt, 1, 3)
		}
	}
	ref := p.ref + "/case"
	grounds := fmt.Sprintf("%s因%s终止（%s）。%s已对项目准入履行科学论证、风险评估、集体决策程序，申请容错免责。",
		p.name, causeText[cause], kindText[kind], p.unit.name)
	p.add(proposal{name: "case/request", occurred: reqAt, delay: delayNone, owner: true, ref: ref,
		note: func() { g.stats.cases++ },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: id, Grounds: grounds, Meta: m})
		}})
	if sc == tolOpen {
		return
	}
	eligible := kind.ToleranceRelevant() && cause.Objective() && dueInTime
	decision, rationale := domain.DecisionExempt, "经审查，项目准入程序完备，终止系客观因素所致，符合《嘉兴市进一步推动招大引强工作实施方案》三(四)容错免责情形，予以免责。"
	switch {
	case eligible && g.chance(0.25):
		decision, rationale = domain.DecisionReduced, "经审查，项目准入程序完备，终止主要系客观因素所致，但项目推进中跟踪服务不够及时，予以减责。"
	case !eligible && !dueInTime:
		decision, rationale = domain.DecisionRejected, "经审查，科学论证、风险评估、集体决策材料系签约后补录，不能证明准入程序在决策前履行，不予免责。"
	case !eligible && cause == domain.CauseSubjectiveFault:
		decision, rationale = domain.DecisionRejected, "经审查，项目终止系前期工作主观过错所致，不属于容错免责情形，不予免责。"
	case !eligible:
		decision, rationale = domain.DecisionRejected, "经审查，项目终止原因不属于国家政策调整、市场变化、不可抗力等客观因素，或准入程序不完备，不予免责。"
		if g.chance(0.2) {
			decision, rationale = domain.DecisionReduced, "经审查，项目准入程序存在瑕疵，但终止受客观因素影响较大，予以减责。"
		}
	}
	decAt := g.after(reqAt, 15, 60)
	p.add(proposal{name: "case/decision", occurred: decAt, delay: delayNone, actor: disciplineActor,
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := x.id(ref)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: id, Decision: decision,
				Rationale: rationale, Meta: m})
		}})
}

var causeText = map[domain.TerminationCause]string{
	domain.CausePolicyChange: "国家政策调整", domain.CauseMarketChange: "市场变化", domain.CauseForceMajeure: "不可抗力",
	domain.CauseInvestorDecision: "投资方决策调整", domain.CauseSubjectiveFault: "前期工作失误", domain.CauseOther: "其他原因",
}

var kindText = map[domain.TerminationKind]string{
	domain.TermNegotiationEnded: "洽谈终止", domain.TermBuiltNotInvested: "建而未投",
	domain.TermBelowExpectation: "投而未达预期", domain.TermWithdrawn: "撤回",
}

// correction: an entry fixed after the fact; the old and new value both
// stay in the log.
func (g *gen) correction(p *proj, reportAt time.Time) {
	at := g.after(reportAt, 1, 20)
	lead := p.lead
	for lead == p.lead {
		lead = g.person() + "（" + pick(g, officialTitles) + "）"
	}
	value, _ := json.Marshal(lead)
	p.add(proposal{name: "correction", occurred: at, delay: delayNone, owner: true,
		note: func() { g.stats.corrections++ },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			id, err := p.id(x)
			if err != nil {
				return commands.Result{}, err
			}
			return x.app.CorrectDetails.Handle(ctx, commands.CorrectDetails{ProjectID: id, Field: domain.FieldLeadOfficial,
				Value: value, Reason: "项目责任领导调整，更正台账记录", Meta: m})
		}})
}

// ---- supervision (督办, the six 定 of Xiamen 三(五)3) ----

// order describes a supervision order.
type order struct {
	ref, matter, target, requirements string
	unit                              *unitSpec
	project                           *proj
	issue                             time.Time
	deadline                          domain.Date
	// closeAt is when it is closed (办结); zero leaves it open, overdue
	// once its deadline has passed.
	closeAt time.Time
}

func (g *gen) orderProposals(o order) []proposal {
	leader := g.person() + "（" + pick(g, cityLeaders) + "）"
	var ps []proposal
	issue := o.issue
	unit := o.unit
	ps = append(ps, proposal{name: o.ref + "/issue", occurred: issue, delay: delayNone, actor: centreActor, ref: o.ref,
		note: func() { g.stats.orders++ },
		do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
			var pid string
			if o.project != nil {
				var err error
				if pid, err = o.project.id(x); err != nil {
					return commands.Result{}, err
				}
			}
			return x.app.IssueSupervisionOrder.Handle(ctx, commands.IssueSupervisionOrder{ProjectID: pid, Matter: o.matter,
				Target: o.target, LeadLeader: leader, ResponsibleUnit: unit.code, Requirements: o.requirements,
				Deadline: o.deadline, Meta: m})
		}})
	end := o.closeAt
	if end.IsZero() {
		end = g.o.now
	}
	n := 0
	for at := g.after(issue, 6, 10); at.Before(end) && n < 4; at = g.after(at, 6, 14) {
		n++
		summary := fmt.Sprintf("第%d次调度：%s已召开专题会议推进，%s", n, unit.name,
			pick(g, []string{"相关手续正在办理中。", "已与投资方对接，明确时间节点。", "存在用地指标问题，已报请市级协调。", "投资方资料已补齐，等待审批。"}))
		at := at
		ps = append(ps, proposal{name: o.ref + "/progress" + strconv.Itoa(n), occurred: at, delay: delayNormal, actor: staff(unit),
			do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
				id, err := x.id(o.ref)
				if err != nil {
					return commands.Result{}, err
				}
				return x.app.ReportSupervisionProgress.Handle(ctx, commands.ReportSupervisionProgress{OrderID: id,
					OccurredAt: at, Summary: summary, Meta: m})
			}})
	}
	if !o.closeAt.IsZero() {
		at := o.closeAt
		result := "已按要求办结：" + o.target + "。"
		ps = append(ps, proposal{name: o.ref + "/close", occurred: at, delay: delayNone, actor: centreActor,
			do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
				id, err := x.id(o.ref)
				if err != nil {
					return commands.Result{}, err
				}
				return x.app.CloseSupervisionOrder.Handle(ctx, commands.CloseSupervisionOrder{OrderID: id, OccurredAt: at,
					Result: result, Meta: m})
			}})
	}
	return ps
}

// projectOrder issues an order about a project to its unit. done is when
// the matter is settled (zero: not settled); the order closes a few days
// after, or stays open.
func (g *gen) projectOrder(p *proj, issue time.Time, matter, target string, done time.Time) {
	o := order{ref: p.ref + "/order" + strconv.Itoa(len(p.orders)+1), matter: matter, target: target,
		requirements: "每周报送进展，逾期未办结的由市招大引强工作领导小组约谈", unit: p.unit, project: p, issue: issue,
		deadline: domain.DateOf(issue, g.o.loc).AddDays(g.between(20, 45))}
	if !done.IsZero() {
		if !done.After(issue) {
			return // settled before the centre got to it
		}
		o.closeAt = g.after(done, 1, 6)
		if min := issue.Add(days(8)); o.closeAt.Before(min) {
			o.closeAt = g.workTime(min, 0)
		}
	}
	p.orders = append(p.orders, g.orderProposals(o))
}

// staleOrder: the centre presses a negotiation that has gone quiet.
func (g *gen) staleOrder(p *proj, last, endAt time.Time) {
	issue := g.after(last, 35, 60)
	if !issue.Before(endAt) {
		return
	}
	var done time.Time
	if g.chance(0.5) {
		done = g.after(issue, 7, 30)
	}
	g.projectOrder(p, issue, "推进"+p.name+"洽谈", "明确投资意向及签约时间表", done)
}

// unitOrders are orders on a unit's work rather than one project: the
// quarterly pushes of the 招大引强 campaign (Changsha 十三 周调度、月通报交办).
func (g *gen) unitOrders() {
	matters := []struct{ matter, target string }{
		{"重大项目攻坚行动", "本季度新签约10亿元以上项目不少于2个"},
		{"在谈项目清单动态更新", "完成在谈项目信息核实，逐一明确推进责任人"},
		{"外资项目“三张清单”推进", "推动合同外资到资率低的项目加快到资"},
		{"签约项目履约督查", "逾期未注册、未开工项目逐一说明原因并制定整改措施"},
	}
	for q := g.o.start.AddDate(0, 1, 0); q.Before(g.o.now); q = q.AddDate(0, 3, 0) {
		for range g.between(1, 2) {
			u := pick(g, g.units)
			m := pick(g, matters)
			issue := g.workTime(q, g.between(0, 20))
			o := order{ref: fmt.Sprintf("order/%s/%s", issue.Format("2006-01"), u.code), matter: u.name + m.matter,
				target: m.target, requirements: "建立周调度机制，每周五前报送进展", unit: u, issue: issue,
				deadline: domain.DateOf(issue, g.o.loc).AddDays(g.between(30, 75))}
			if g.usedName[o.ref] {
				continue
			}
			g.usedName[o.ref] = true
			switch r := g.float(); {
			case r < 0.65:
				o.closeAt = g.workTime(o.deadline.Start(g.o.loc), -g.between(1, 15))
			case r < 0.8:
				o.closeAt = g.workTime(o.deadline.Start(g.o.loc), g.between(3, 20))
			}
			if !o.closeAt.IsZero() && o.closeAt.Before(issue.Add(days(8))) {
				o.closeAt = g.after(issue, 8, 12)
			}
			g.emit(g.newChain(), nil, g.orderProposals(o))
		}
	}
}

// ---- targets and assessment ----

// jiaxingTargets are the Jiaxing 2024 plan's city-wide targets (一(二)):
// 80 projects ≥ ¥10亿, 15 ≥ ¥50亿, 5 ≥ ¥100亿, 25 Fortune-500 projects, 50
// above US$1亿.
var jiaxingTargets = map[domain.Indicator]float64{
	domain.IndSigned1b: 80, domain.IndSigned5b: 15, domain.IndSigned10b: 5,
	domain.IndFortune500Projects: 25, domain.IndSignedUSD100m: 50,
}

// targetScale sizes the Jiaxing figures to the demo's pace of projects;
// each later year asks 10% more.
const targetScale = 0.4

// assessment sets each year's targets in December before it, awards bonus
// points and a deduction, and publishes every year that has ended.
func (g *gen) assessment() {
	chain := g.newChain()
	var ps []proposal
	act := func(at time.Time, p proposal) {
		if at.Before(g.o.start) {
			at = g.workTime(g.o.start, 0).Add(time.Hour)
		}
		p.occurred, p.delay = at, delayNone
		ps = append(ps, p)
	}
	weights := 0.0
	for _, u := range g.units {
		weights += u.weight
	}
	first := g.o.years[0]
	for yi, year := range g.o.years {
		set := g.workTime(time.Date(year-1, 12, g.between(15, 24), 0, 0, 0, 0, g.o.loc), 0)
		split := g.split(yi, weights)
		for _, u := range g.units {
			ind := g.targets(u, yi, weights, split[u.code])
			u := u
			act(set, proposal{name: fmt.Sprintf("targets/%d/%s", year, u.code), actor: centreActor,
				do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
					return x.app.SetTargets.Handle(ctx, commands.SetTargets{Year: year, Unit: u.code, Indicators: ind, Meta: m})
				}})
			set = set.Add(time.Duration(g.between(2, 9)) * time.Minute)
		}
		// Bonus points (Jiaxing 2024 三(一) 予以加分) and a deduction for
		// falsification (弄虚作假).
		award := time.Date(year, 12, g.between(10, 20), 0, 0, 0, 0, g.o.loc)
		if award.After(g.o.now) {
			award = g.o.now.Add(-days(g.between(15, 40)))
		}
		bonuses := []struct {
			u      *unitSpec
			points float64
			reason string
		}{
			{g.units[5], 2, "引进世界500强企业区域总部项目，经市招大引强工作领导小组研究予以加分"},
			{g.units[7], 1.5, "牵头引进100亿元以上重大产业项目，予以加分"},
		}
		if year == first {
			bonuses = append(bonuses, struct {
				u      *unitSpec
				points float64
				reason string
			}{g.units[4], -3, "经核查，将未签订正式合同的意向项目报为签约项目，属弄虚作假，扣减考核分"})
		} else {
			bonuses = bonuses[:1]
		}
		for i, b := range bonuses {
			at := g.workTime(award, i)
			act(at, proposal{name: fmt.Sprintf("assessment/%d/points%d", year, i+1), actor: centreActor,
				do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
					return x.app.AwardBonus.Handle(ctx, commands.AwardBonus{Year: year, Unit: b.u.code, Points: b.points,
						Reason: b.reason, Meta: m})
				}})
		}
		// Publish once the year is over (mid-January), freezing the result.
		pub := g.workTime(time.Date(year+1, 1, g.between(12, 22), 0, 0, 0, 0, g.o.loc), 0)
		if pub.Before(g.o.now) {
			act(pub, proposal{name: fmt.Sprintf("assessment/%d/publish", year), actor: centreActor, phase: phaseFreeze,
				do: func(ctx context.Context, x *runner, m commands.Meta) (commands.Result, error) {
					return x.app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: year, Meta: m})
				}})
		}
	}
	g.emit(chain, nil, ps)
}

// split shares the Jiaxing figures among the units by size, by largest
// remainder so the units' targets add up to the city's.
func (g *gen) split(yi int, weights float64) map[domain.UnitCode]map[domain.Indicator]float64 {
	out := map[domain.UnitCode]map[domain.Indicator]float64{}
	for _, u := range g.units {
		out[u.code] = map[domain.Indicator]float64{}
	}
	for _, ind := range slices.Sorted(maps.Keys(jiaxingTargets)) {
		total := math.Round(jiaxingTargets[ind] * targetScale * math.Pow(1.1, float64(yi)))
		type share struct {
			u    *unitSpec
			n    float64
			frac float64
		}
		shares := make([]share, len(g.units))
		left := total
		for i, u := range g.units {
			exact := total * u.weight / weights
			shares[i] = share{u, math.Floor(exact), exact - math.Floor(exact)}
			left -= math.Floor(exact)
		}
		order := slices.Clone(shares)
		slices.SortStableFunc(order, func(a, b share) int { return cmp.Compare(b.frac, a.frac) })
		extra := map[domain.UnitCode]float64{}
		for i := 0; i < int(left); i++ {
			extra[order[i%len(order)].u.code]++
		}
		for _, s := range shares {
			if n := s.n + extra[s.u.code]; n > 0 {
				out[s.u.code][ind] = n
			}
		}
	}
	return out
}

// targets completes a unit's targets with the indicators the assessment
// weighs (signed_100m, contract_investment, funds_arrived,
// started_projects): what a unit of its size achieved across the city in
// the first year, grown 10% a year, so a unit's completion follows its form.
func (g *gen) targets(u *unitSpec, yi int, weights float64, base map[domain.Indicator]float64) map[domain.Indicator]float64 {
	var city credit
	norm := 0.0
	for _, w := range g.units {
		c := g.credit(w.code, g.o.years[0])
		city.signed100m += c.signed100m
		city.started += c.started
		city.contract += c.contract
		city.funds += c.funds
		norm += w.weight * w.form[0]
	}
	if norm == 0 {
		norm = weights
	}
	share := u.weight / norm * math.Pow(1.1, float64(yi)) * g.uniform(0.95, 1.05)
	out := map[domain.Indicator]float64{}
	for k, v := range base {
		out[k] = v
	}
	out[domain.IndSigned100m] = math.Max(1, math.Round(float64(city.signed100m)*share))
	out[domain.IndStartedProjects] = math.Max(1, math.Round(float64(city.started)*share))
	out[domain.IndContractInvestment] = math.Max(1e8, math.Round(float64(city.contract)*share/1e8)*1e8)
	out[domain.IndFundsArrived] = math.Max(1e7, math.Round(float64(city.funds)*share/1e7)*1e7)
	return out
}
