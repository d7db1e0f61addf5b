package synth

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Config sizes the generated ledger. Zero fields take the defaults.
type Config struct {
	// Events is the number of events to generate (default 1,000,000);
	// the number of projects follows (about one per 20 events).
	Events int
	// Units is the number of units (default 100: counties, parks, a few
	// departments and the centre).
	Units int
	// StartYear and Years bound the history (default 2020 and 5 years).
	StartYear int
	Years     int
	// Seed selects the ledger; the same Config yields the same bytes.
	Seed uint64
}

// Zone is the time zone of generated dates (China keeps one offset).
var Zone = time.FixedZone("Asia/Shanghai", 8*3600)

func (c Config) withDefaults() Config {
	if c.Events <= 0 {
		c.Events = 1_000_000
	}
	if c.Units <= 0 {
		c.Units = 100
	}
	if c.StartYear == 0 {
		c.StartYear = 2020
	}
	if c.Years <= 0 {
		c.Years = 5
	}
	return c
}

// Start is the first day of the history.
func (c Config) Start() time.Time {
	c = c.withDefaults()
	return time.Date(c.StartYear, 1, 1, 0, 0, 0, 0, Zone)
}

// End is the first instant after the history: nothing is recorded at or
// after it, so it is a natural "now" for queries over the generated log.
func (c Config) End() time.Time {
	c = c.withDefaults()
	return time.Date(c.StartYear+c.Years, 1, 1, 0, 0, 0, 0, Zone)
}

// Log is a generated ledger.
type Log struct {
	Config Config
	Events []eventstore.Event
	Units  []domain.Unit
	// Projects is how many projects the log reports.
	Projects int
	// Counts is the number of events of each type.
	Counts map[string]int
}

// fact is an event before it is placed in the global log.
type fact struct {
	stream   string
	data     domain.Event
	occurred time.Time
	// key orders a stream's facts (normally occurred; a due-process record
	// entered after the signing it should have preceded has a later key).
	key time.Time
	// delay is how long after the previous fact of the stream (or its own
	// occurrence) the ledger learned of it.
	delay    time.Duration
	recorded time.Time
	actor    eventstore.Actor
	n        uint64 // generation order, the final tie-break
}

type gen struct {
	cfg    Config
	rng    *rand.Rand
	start  time.Time
	end    time.Time
	units  []domain.Unit
	counts []domain.Unit // counties and parks: the units that report projects
	facts  []*fact
	n      uint64
	pol    domain.Policy
}

// Generate builds the ledger described by cfg.
func Generate(cfg Config) (*Log, error) {
	cfg = cfg.withDefaults()
	g := &gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x7a68616f7368616e)),
		start: cfg.Start(),
		end:   cfg.End(),
		pol:   domain.DefaultPolicy(),
	}
	g.facts = make([]*fact, 0, cfg.Events+cfg.Events/8)
	g.genUnits()
	g.genPolicy()
	g.genTargets()
	g.genAssessment()
	// A margin over the target: facts recorded after the history's end are
	// dropped, then the log is cut to size.
	for len(g.facts) < cfg.Events+cfg.Events/20+100 {
		g.genProject()
	}
	evs, err := g.place(cfg.Events)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for i := range evs {
		counts[evs[i].Type]++
	}
	return &Log{Config: cfg, Events: evs, Units: g.units, Projects: counts[domain.TypeProjectReported], Counts: counts}, nil
}

func (g *gen) emit(stream string, data domain.Event, actor eventstore.Actor) *fact {
	g.n++
	f := &fact{stream: stream, data: data, occurred: data.Occurred(), key: data.Occurred(), actor: actor, n: g.n}
	f.delay = g.delay()
	g.facts = append(g.facts, f)
	return f
}

// delay models how late the ledger learns of a fact: mostly within hours,
// sometimes days, and about 3% later than late_record_days (补录).
func (g *gen) delay() time.Duration {
	switch p := g.rng.Float64(); {
	case p < 0.90:
		return time.Duration(g.rng.Int64N(int64(8 * time.Hour)))
	case p < 0.97:
		return time.Duration(1+g.rng.IntN(10)) * 24 * time.Hour
	default:
		return time.Duration(16+g.rng.IntN(30)) * 24 * time.Hour
	}
}

func (g *gen) days(lo, hi int) time.Duration {
	d := lo + g.rng.IntN(hi-lo+1)
	return time.Duration(d)*24*time.Hour + time.Duration(g.rng.IntN(10*3600))*time.Second
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

func centre() eventstore.Actor {
	return eventstore.Actor{Subject: "centre-ops", Role: string(domain.RoleCentre), Unit: "CENTRE"}
}

func staff(u domain.UnitCode) eventstore.Actor {
	return eventstore.Actor{Subject: "staff-" + string(u), Role: string(domain.RoleUnitStaff), Unit: string(u)}
}

func (g *gen) genUnits() {
	at := g.start.AddDate(0, 0, -30)
	n := g.cfg.Units
	nDept := min(len(departments), max(0, n/20))
	nCentre := 1
	rest := max(1, n-nDept-nCentre)
	nPark := rest * 35 / 100
	nCounty := rest - nPark
	add := func(code domain.UnitCode, name string, kind domain.UnitKind) {
		u := domain.Unit{Code: code, Name: name, Kind: kind}
		g.units = append(g.units, u)
		if kind == domain.UnitCounty || kind == domain.UnitPark {
			g.counts = append(g.counts, u)
		}
		g.emit(domain.StreamUnits, domain.UnitRegistered{Code: code, Name: name, Kind: kind, OccurredAt: at}, eventstore.Actor{Subject: "admin", Role: string(domain.RoleAdmin)})
		at = at.Add(time.Minute)
	}
	for i := range nCounty {
		add(domain.UnitCode(fmt.Sprintf("C%03d", i+1)), placeNames[i%len(placeNames)]+countySuffix[i%len(countySuffix)]+suffixNo(i, len(placeNames)), domain.UnitCounty)
	}
	for i := range nPark {
		add(domain.UnitCode(fmt.Sprintf("P%03d", i+1)), placeNames[(i*7+3)%len(placeNames)]+parkSuffix[i%len(parkSuffix)]+suffixNo(i, len(placeNames)), domain.UnitPark)
	}
	for i := range nDept {
		add(domain.UnitCode(fmt.Sprintf("D%03d", i+1)), departments[i], domain.UnitDepartment)
	}
	add("CENTRE", "市投资促进中心", domain.UnitCentre)
	// A few renames during the history (区划调整).
	for i := 0; i < 3 && i < len(g.counts); i++ {
		u := g.counts[g.rng.IntN(len(g.counts))]
		when := g.start.Add(g.days(200, 365*g.cfg.Years-30))
		g.emit(domain.StreamUnits, domain.UnitUpdated{Code: u.Code, Name: u.Name + "（新）", Kind: u.Kind, OccurredAt: when}, eventstore.Actor{Subject: "admin", Role: string(domain.RoleAdmin)})
	}
}

func suffixNo(i, n int) string {
	if i < n {
		return ""
	}
	return strconv.Itoa(i/n + 1)
}

func (g *gen) genPolicy() {
	p1 := domain.DefaultPolicy()
	p1.Version = 1
	g.emit(domain.StreamPolicy, domain.PolicyAdopted{Policy: p1, OccurredAt: g.start.AddDate(0, 0, -20)}, centre())
	if g.cfg.Years >= 3 {
		// The city adds Fortune-500 projects to its ranking in year 3 and
		// moves to shared transfer credit (Xiamen-style) in year 4.
		p2 := p1.Clone()
		p2.Version = 2
		p2.RankingWeights = map[domain.Indicator]int{
			domain.IndSigned1b: 25, domain.IndSigned100m: 15, domain.IndContractInvestment: 20,
			domain.IndFundsArrived: 20, domain.IndStartedProjects: 10, domain.IndFortune500Projects: 10,
		}
		g.emit(domain.StreamPolicy, domain.PolicyAdopted{Policy: p2, OccurredAt: time.Date(g.cfg.StartYear+2, 1, 5, 10, 0, 0, 0, Zone)}, centre())
		if g.cfg.Years >= 4 {
			p3 := p2.Clone()
			p3.Version = 3
			p3.TransferCredit = domain.TransferCredit{Mode: domain.CreditShared, Ratio: 0.6}
			g.emit(domain.StreamPolicy, domain.PolicyAdopted{Policy: p3, OccurredAt: time.Date(g.cfg.StartYear+3, 1, 5, 10, 0, 0, 0, Zone)}, centre())
		}
	}
}

func (g *gen) genTargets() {
	for y := g.cfg.StartYear; y < g.cfg.StartYear+g.cfg.Years; y++ {
		at := time.Date(y, 1, 15, 9, 0, 0, 0, Zone)
		for _, u := range g.counts {
			scale := 0.6 + g.rng.Float64()
			ind := map[domain.Indicator]float64{
				domain.IndSigned100m:         math.Round(30 * scale),
				domain.IndSigned1b:           math.Round(6 * scale),
				domain.IndContractInvestment: math.Round(120e8 * scale),
				domain.IndFundsArrived:       math.Round(60e8 * scale),
				domain.IndStartedProjects:    math.Round(12 * scale),
			}
			if g.rng.IntN(3) == 0 {
				ind[domain.IndFortune500Projects] = 1
				ind[domain.IndSigned5b] = 1
			}
			g.emit(domain.TargetsStream(y), domain.AnnualTargetsSet{Year: y, Unit: u.Code, Indicators: ind, OccurredAt: at}, centre())
			at = at.Add(time.Minute)
		}
	}
}

func (g *gen) genAssessment() {
	for y := g.cfg.StartYear; y < g.cfg.StartYear+g.cfg.Years; y++ {
		for range max(1, len(g.counts)/5) {
			u := g.counts[g.rng.IntN(len(g.counts))]
			at := time.Date(y, 12, 10+g.rng.IntN(15), 10, 0, 0, 0, Zone)
			if g.rng.IntN(5) == 0 {
				g.emit(domain.AssessmentStream(y), domain.DeductionRecorded{Year: y, Unit: u.Code, Points: float64(1 + g.rng.IntN(5)), Reason: "统计数据弄虚作假，核减相应分值", OccurredAt: at}, centre())
			} else {
				g.emit(domain.AssessmentStream(y), domain.BonusAwarded{Year: y, Unit: u.Code, Points: float64(1 + g.rng.IntN(3)), Reason: "引进世界500强区域总部，经领导小组研究予以加分", OccurredAt: at}, centre())
			}
		}
		if y < g.cfg.StartYear+g.cfg.Years-1 {
			g.emit(domain.AssessmentStream(y), domain.AssessmentPublished{Year: y, OccurredAt: time.Date(y+1, 1, 25, 10, 0, 0, 0, Zone)}, centre())
		}
	}
}

// amount draws a log-uniform investment between ¥5000万 and ¥200亿, with
// about one in twelve projects denominated in dollars.
func (g *gen) amount() domain.Money {
	lo, hi := math.Log(5e7), math.Log(2e10)
	v := math.Exp(lo + (hi-lo)*math.Pow(g.rng.Float64(), 1.6))
	if g.rng.IntN(12) == 0 {
		return domain.Dollars(int64(v/7.1/1e4) * 1e4)
	}
	return domain.Yuan(int64(v/1e6) * 1e6)
}

func (g *gen) investor() domain.Investor {
	var inv domain.Investor
	if g.rng.IntN(10) == 0 {
		inv.Name = g.pick(foreignBrands) + g.pick(companyForms)
		inv.Origin = "DE"
		inv.Categories = append(inv.Categories, domain.CategoryForeign)
	} else {
		n := 2 + g.rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(g.pick(brandChars))
		}
		inv.Name = b.String() + g.pick(companyForms)
		inv.Origin = g.pick([]string{"上海", "江苏", "广东", "北京", "浙江", "安徽", "湖南", "福建"})
	}
	switch p := g.rng.Float64(); {
	case p < 0.06:
		inv.Categories = append(inv.Categories, domain.CategoryFortuneGlobal500)
	case p < 0.14:
		inv.Categories = append(inv.Categories, domain.CategoryChina500)
	case p < 0.22:
		inv.Categories = append(inv.Categories, domain.CategoryPrivate500)
	case p < 0.26:
		inv.Categories = append(inv.Categories, domain.CategoryCentralSOE)
	case p < 0.34:
		inv.Categories = append(inv.Categories, domain.CategorySpecializedSME)
	}
	if g.rng.IntN(10) < 7 {
		inv.USCC = g.uscc()
	}
	return inv
}

func (g *gen) uscc() string {
	const cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := []byte("91330400")
	for len(b) < 17 {
		b = append(b, cs[g.rng.IntN(len(cs))])
	}
	c, _ := domain.USCCCheckChar(string(b))
	return string(append(b, c))
}

func (g *gen) summary() string {
	n := 2 + g.rng.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.pick(summaryParts)
	}
	return strings.Join(parts, "；") + "。"
}

func (g *gen) projectName(chain string) string {
	form := g.pick(projectForms)
	prod := g.pick(products[chain])
	var b strings.Builder
	for range 2 + g.rng.IntN(2) {
		b.WriteString(g.pick(brandChars))
	}
	if strings.Count(form, "%") == 2 {
		return b.String() + fmt.Sprintf(form, 5+g.rng.IntN(95), prod)
	}
	return b.String() + fmt.Sprintf(form, prod)
}

func date(t time.Time) domain.Date { return domain.DateOf(t, Zone) }

func scale(m domain.Money, f float64) domain.Money {
	return domain.Money{Amount: int64(float64(m.Amount)*f/1e4) * 1e4, Currency: m.Currency}
}

// genProject generates one project's whole life and the streams it touches.
func (g *gen) genProject() {
	span := int(g.end.Sub(g.start).Hours()/24) - 60
	t := g.start.Add(g.days(0, span))
	unit := g.counts[g.rng.IntN(len(g.counts))]
	owner := unit.Code
	id := g.uuid()
	stream := domain.ProjectStream(id)
	chain := g.pick(chains)
	inv := g.investor()
	planned := g.amount()
	major := domain.IsMajor(planned, g.pol)
	key := domain.ExclusivityKeyOf(inv, chain)
	rep := domain.ProjectReported{
		ProjectID: id, Name: g.projectName(chain), Unit: owner, Investor: inv, IndustryChain: chain,
		PlannedInvestment: planned, SourceChannel: domain.SourceChannels()[g.rng.IntN(len(domain.SourceChannels()))],
		Referrer: g.pick(leaderNames), LeadOfficial: g.pick(leaderNames), OccurredAt: t, Major: major,
		ExclusivityKey: key, PolicyVersion: 1,
	}
	if major {
		until := t.Add(time.Duration(g.pol.ExclusivityDays) * 24 * time.Hour)
		rep.ExclusiveUntil = &until
		// One claim per key, each in the stream of its own key, as the
		// commands record them (domain.DecideReport).
		for _, k := range domain.ExclusivityKeysOf(inv, chain) {
			g.emit(domain.ExclusivityStream(k), domain.ExclusivityClaimed{Key: k, InvestorName: domain.NormaliseName(inv.Name),
				USCC: domain.NormaliseUSCC(inv.USCC), IndustryChain: domain.NormaliseName(chain), Unit: owner, ProjectID: id,
				OccurredAt: t, Until: until, PolicyVersion: 1}, staff(owner))
		}
		if g.rng.IntN(50) == 0 {
			other := g.counts[g.rng.IntN(len(g.counts))].Code
			if other != owner {
				// The rival names the same investor, so the match is made
				// by the code when there is one — the primary key — and
				// the rejection goes to that key's stream, where the
				// blocking claim is.
				g.emit(domain.ExclusivityStream(key), domain.ReportRejected{Key: key, ProjectID: g.uuid(), Unit: other, Name: rep.Name, Investor: inv,
					IndustryChain: chain, PlannedInvestment: planned, OccurredAt: t.Add(g.days(2, 25)),
					HolderUnit: owner, HolderProject: id, Until: until}, staff(other))
			}
		}
	}
	g.emit(stream, rep, staff(owner))
	stage := domain.StageReported
	alive := func() bool { return t.Before(g.end) }

	// Negotiation rounds (洽谈).
	negotiated := false
	if g.rng.Float64() < 0.8 {
		for range 3 + g.rng.IntN(16) {
			t = t.Add(g.days(2, 30))
			if !alive() {
				return
			}
			g.emit(stream, domain.NegotiationRecorded{ProjectID: id, OccurredAt: t,
				LeaderLevel:  domain.LeaderLevels()[g.rng.IntN(3)],
				Participants: []string{g.pick(participants), g.pick(participants)}, Summary: g.summary()}, staff(owner))
			negotiated = true
			stage = domain.StageNegotiating
		}
	}
	if g.rng.IntN(40) == 0 {
		to := g.counts[g.rng.IntN(len(g.counts))].Code
		if to != owner {
			t = t.Add(g.days(1, 20))
			if !alive() {
				return
			}
			g.emit(stream, domain.ProjectTransferred{ProjectID: id, FromUnit: owner, ToUnit: to, Reason: "经市投促中心协调，流转至承接地洽谈落户", OccurredAt: t}, centre())
			owner = to
		}
	}
	terminate := g.rng.Float64() < 0.12
	// Due process (科学论证、风险评估、集体决策), mostly before the decision.
	var lateEvidence []*fact
	if g.rng.Float64() < 0.6 {
		for _, k := range domain.DueProcessKinds() {
			if g.rng.Float64() < 0.85 {
				t = t.Add(g.days(1, 10))
				if !alive() {
					return
				}
				f := g.emit(stream, domain.DueProcessRecorded{ProjectID: id, Kind: k, OccurredAt: t, Body: "项目评审委员会",
					Summary: "经论证，项目符合产业导向，风险总体可控。" + g.summary(), DocumentRef: "ZS-" + strconv.Itoa(g.rng.IntN(99999)),
					DocumentSHA256: fmt.Sprintf("%016x%016x%016x%016x", g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64())}, staff(owner))
				if terminate && g.rng.IntN(4) == 0 {
					lateEvidence = append(lateEvidence, f)
				}
			}
		}
	}
	if !negotiated || g.rng.Float64() > 0.66 || (terminate && g.rng.IntN(2) == 0) {
		if terminate {
			t = t.Add(g.days(10, 120))
			if alive() {
				g.terminate(stream, id, owner, t, stage, lateEvidence)
			}
		}
		return
	}
	// Signing (签约), filed a week ahead when major.
	signAt := t.Add(g.days(10, 90))
	contract := scale(planned, 0.8+0.5*g.rng.Float64())
	if domain.IsMajor(contract, g.pol) && g.rng.Float64() < 0.9 {
		filed := signAt.Add(-g.days(1, 30))
		if filed.Before(t) {
			filed = t.Add(time.Hour)
		}
		g.emit(stream, domain.SigningFiled{ProjectID: id, PlannedDate: date(signAt), ContractInvestment: contract, Venue: "全球招商大会", OccurredAt: filed}, staff(owner))
	}
	t = signAt
	if !alive() {
		return
	}
	regBy := date(t.Add(g.days(60, 120)))
	startBy := date(t.Add(g.days(120, 240)))
	cny, _ := contract.ToCNY(g.pol.USDCNYRate)
	// Each milestone is one step of the schedule (FundsDue sums the steps).
	var sched []domain.FundsMilestone
	for i := 1; i <= 2+g.rng.IntN(3); i++ {
		sched = append(sched, domain.FundsMilestone{By: date(t.Add(time.Duration(i*120) * 24 * time.Hour)), Amount: domain.Yuan(cny.Amount / 5 / 1e4 * 1e4)})
	}
	g.emit(stream, domain.ContractSigned{ProjectID: id, OccurredAt: t, ContractInvestment: contract,
		Agreement:   domain.AgreementKinds()[g.rng.IntN(2)],
		Commitments: domain.Commitments{RegisterBy: &regBy, StartBy: &startBy, Funds: sched}, Unit: owner}, staff(owner))
	stage = domain.StageSigned
	for _, f := range lateEvidence {
		// Evidence entered after the signing it should have preceded.
		f.key = t.Add(g.days(1, 20))
	}
	signed := t
	if g.rng.IntN(10) == 0 {
		at := t.Add(g.days(30, 300))
		if at.Before(g.end) {
			next := scale(contract, 0.7+0.8*g.rng.Float64())
			g.emit(stream, domain.ContractAmended{ProjectID: id, OccurredAt: at, PreviousInvestment: contract, ContractInvestment: next,
				Increment: domain.Money{Amount: next.Amount - contract.Amount, Currency: contract.Currency}, Reason: "企业增资扩产"}, staff(owner))
			contract = next
		}
	}
	// Funds arrive over the years after signing (资金到位).
	nFunds := 6 + g.rng.IntN(30)
	ft := t
	for range nFunds {
		ft = ft.Add(g.days(10, 60))
		if !ft.Before(g.end) {
			break
		}
		src := domain.FundSources()[g.rng.IntN(3)]
		g.emit(stream, domain.FundsArrived{ProjectID: id, OccurredAt: ft, Amount: domain.Yuan(cny.Amount / int64(nFunds+2) / 1e4 * 1e4), Source: src}, staff(owner))
	}
	if g.rng.IntN(30) == 0 {
		g.correct(stream, id, owner, t, rep, contract)
	}
	if terminate && g.rng.IntN(3) == 0 {
		t = t.Add(g.days(30, 400))
		if alive() {
			g.terminate(stream, id, owner, t, stage, lateEvidence)
		}
		return
	}
	if g.rng.Float64() < 0.88 {
		t = t.Add(g.days(20, 150))
		if !alive() {
			return
		}
		g.emit(stream, domain.CompanyRegistered{ProjectID: id, OccurredAt: t, CompanyUSCC: g.uscc()}, staff(owner))
		stage = domain.StageRegistered
		if g.rng.Float64() < 0.8 {
			t = t.Add(g.days(20, 200))
			if !alive() {
				return
			}
			g.emit(stream, domain.ConstructionStarted{ProjectID: id, OccurredAt: t, PermitNo: "施许-" + strconv.Itoa(g.rng.IntN(999999))}, staff(owner))
			stage = domain.StageStarted
			if g.rng.Float64() < 0.5 {
				t = t.Add(g.days(180, 500))
				if !alive() {
					return
				}
				g.emit(stream, domain.ProductionStarted{ProjectID: id, OccurredAt: t}, staff(owner))
				stage = domain.StageProducing
			}
		}
	}
	if terminate && stage != domain.StageProducing {
		t = t.Add(g.days(30, 300))
		if alive() {
			g.terminate(stream, id, owner, t, stage, lateEvidence)
		}
	}
	// Supervision orders (督办) about some projects.
	if g.rng.IntN(11) == 0 {
		g.order(id, owner, signed)
	}
}

// correct records a DetailsCorrected shortly after the signing: a name typo,
// a missed Fortune-500 category, or a mistyped contract figure.
func (g *gen) correct(stream, id string, owner domain.UnitCode, signed time.Time, rep domain.ProjectReported, contract domain.Money) {
	at := signed.Add(g.days(1, 20))
	if !at.Before(g.end) {
		return
	}
	raw := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
	c := domain.DetailsCorrected{ProjectID: id, OccurredAt: at, Reason: "核对原始材料后更正录入错误", AffectedYears: []int{signed.Year()}}
	switch g.rng.IntN(3) {
	case 0:
		c.Field, c.Previous, c.Value = domain.FieldName, raw(rep.Name), raw(rep.Name+"（一期）")
		c.AffectedYears = nil
	case 1:
		cats := append(slices.Clone(rep.Investor.Categories), domain.CategoryFortuneGlobal500)
		c.Field, c.Previous, c.Value = domain.FieldInvestorCategories, raw(rep.Investor.Categories), raw(cats)
	default:
		c.Field, c.Previous, c.Value = domain.FieldContractInvestment, raw(contract), raw(scale(contract, 1.1))
	}
	g.emit(stream, c, staff(owner))
}

func (g *gen) terminate(stream, id string, owner domain.UnitCode, t time.Time, stage domain.Stage, lateEvidence []*fact) {
	var kind domain.TerminationKind
	switch {
	case !stage.Signed():
		kind = domain.TermNegotiationEnded
	case g.rng.IntN(2) == 0:
		kind = domain.TermBuiltNotInvested
	default:
		kind = domain.TermBelowExpectation
	}
	if g.rng.IntN(8) == 0 {
		kind = domain.TermWithdrawn
	}
	cause := domain.TerminationCauses()[g.rng.IntN(len(domain.TerminationCauses()))]
	for _, f := range lateEvidence {
		if f.key.After(t) {
			f.key = t.Add(-time.Hour)
		}
	}
	g.emit(stream, domain.ProjectTerminated{ProjectID: id, OccurredAt: t, Kind: kind, Cause: cause, Explanation: "受宏观环境影响，企业调整投资计划，项目终止。", StageBefore: stage}, staff(owner))
	if kind.ToleranceRelevant() && g.rng.Float64() < 0.4 {
		caseID := g.uuid()
		cs := domain.ToleranceStream(caseID)
		at := t.Add(g.days(5, 60))
		if !at.Before(g.end) {
			return
		}
		g.emit(cs, domain.ToleranceRequested{CaseID: caseID, ProjectID: id, Unit: owner, Grounds: "项目经科学论证、风险评估和集体决策，因市场变化终止，申请容错免责。", OccurredAt: at}, staff(owner))
		if g.rng.Float64() < 0.7 {
			at = at.Add(g.days(10, 90))
			if at.Before(g.end) {
				dec := domain.ToleranceDecisions()[g.rng.IntN(3)]
				g.emit(cs, domain.ToleranceDecided{CaseID: caseID, ProjectID: id, Decision: dec, Rationale: "经审查，相关决策程序履行情况已核实。", OccurredAt: at},
					eventstore.Actor{Subject: "jiwei-1", Role: string(domain.RoleDiscipline)})
			}
		}
	}
}

func (g *gen) order(projectID string, unit domain.UnitCode, around time.Time) {
	id := g.uuid()
	s := domain.SupervisionStream(id)
	at := around.Add(g.days(1, 60))
	if !at.Before(g.end) {
		return
	}
	deadline := date(at.Add(g.days(14, 90)))
	g.emit(s, domain.SupervisionOrderIssued{OrderID: id, ProjectID: projectID, Matter: "重大项目推进督办", Target: "按期完成注册并开工建设",
		LeadLeader: g.pick(leaderNames), ResponsibleUnit: unit, Requirements: "每周报送进展，按期办结", Deadline: deadline, OccurredAt: at}, centre())
	for range g.rng.IntN(7) {
		at = at.Add(g.days(5, 14))
		if !at.Before(g.end) {
			return
		}
		g.emit(s, domain.SupervisionProgressReported{OrderID: id, OccurredAt: at, Summary: g.summary()}, staff(unit))
	}
	if g.rng.Float64() < 0.65 {
		at = at.Add(g.days(1, 30))
		if at.Before(g.end) {
			g.emit(s, domain.SupervisionOrderClosed{OrderID: id, OccurredAt: at, Result: "已按要求办结"}, centre())
		}
	}
}

// place orders every fact into the global log: each stream by its key, its
// recorded_at never earlier than the previous fact of the stream, then the
// whole log by recorded_at; it assigns versions and positions, encodes the
// data and stamps the hash chains.
func (g *gen) place(limit int) ([]eventstore.Event, error) {
	byStream := map[string][]*fact{}
	for _, f := range g.facts {
		byStream[f.stream] = append(byStream[f.stream], f)
	}
	for _, fs := range byStream {
		slices.SortStableFunc(fs, func(a, b *fact) int {
			if c := a.key.Compare(b.key); c != 0 {
				return c
			}
			return cmp.Compare(a.n, b.n)
		})
		var prev time.Time
		for _, f := range fs {
			r := f.key.Add(f.delay)
			if r.Before(prev) {
				r = prev.Add(time.Millisecond)
			}
			f.recorded = eventstore.NormalizeTime(r)
			prev = f.recorded
		}
	}
	all := g.facts
	slices.SortStableFunc(all, func(a, b *fact) int {
		if c := a.recorded.Compare(b.recorded); c != 0 {
			return c
		}
		return cmp.Compare(a.n, b.n)
	})
	// Drop what would be recorded after the history ends, then cut to size:
	// both remove a suffix of the log, so every stream stays a prefix of
	// itself.
	n := 0
	for n < len(all) && all[n].recorded.Before(g.end) && n < limit {
		n++
	}
	all = all[:n]

	evs := make([]eventstore.Event, n)
	versions := map[string]uint64{}
	streamOf := map[string]string{} // one string per stream name
	var lastPos eventstore.Position
	for i, f := range all {
		s, ok := streamOf[f.stream]
		if !ok {
			s = f.stream
			streamOf[s] = s
		}
		versions[s]++
		pos := eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}
		if ap, ok := f.data.(domain.AssessmentPublished); ok {
			// Published at the position just before the publication.
			ap.Position = lastPos.String()
			f.data = ap
		}
		evs[i] = eventstore.Event{Stream: s, Version: versions[s], Position: pos, Type: f.data.EventType(),
			OccurredAt: eventstore.NormalizeTime(f.occurred), RecordedAt: f.recorded, Actor: f.actor}
		lastPos = pos
	}
	// Encode and hash in parallel by stream: each stream's chain is
	// sequential, streams are independent.
	workers := min(runtime.GOMAXPROCS(0), 255)
	owner := make([]uint8, len(evs))
	for i := range evs {
		owner[i] = uint8(fnv(evs[i].Stream) % uint32(workers))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := map[string]string{}
			var idb [16]byte
			for i := range evs {
				if int(owner[i]) != w {
					continue
				}
				e := &evs[i]
				data, err := json.Marshal(all[i].data)
				if err != nil {
					errs[w] = err
					return
				}
				// Event ids derive from the position: deterministic and unique.
				for j := range 8 {
					idb[j] = byte(e.Position.Commit >> (8 * j))
				}
				copy(idb[8:], "zhaoshan")
				idb[6] = idb[6]&0x0f | 0x40
				idb[8] = idb[8]&0x3f | 0x80
				ne := eventstore.NewEvent{ID: uuid.UUID(idb), Type: e.Type, Data: data, OccurredAt: e.OccurredAt, Actor: e.Actor,
					CorrelationID: e.Stream}
				stamped := eventstore.Stamp(&ne, e.Stream, e.Version, prev[e.Stream], e.RecordedAt)
				stamped.Position = e.Position
				prev[e.Stream] = stamped.Hash
				*e = stamped
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return evs, nil
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
