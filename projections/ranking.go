package projections

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The ranking view (晾晒, Jiaxing 2024 二(一)2; DOMAIN.md "Ranking") keeps what
// every signed project contributed to each indicator, per unit and per
// business day, so any period's ranking is a sum of a few buckets, and a
// log of contribution records (day, the event's occurred_at, recorded_at
// and position) so a ranking "as of" a past moment is a filter and a sum,
// never a replay.
//
// What a project contributes is the domain's rule (Project.Indicators):
// a signing once, in its period, in every tier it reaches, the signed
// figure in contract_investment; each amendment's increment in its period;
// each arrival of funds; the start of construction. The views apply it
// incrementally: each event adds exactly what it adds to Indicators for
// its day (tested against Indicators on a generated ledger), and a
// correction re-counts every day of the project with Indicators itself.
//
// Credit for transferred projects (项目流转) depends on the policy of the
// period being ranked (equal or shared), so contributions are kept in
// three roles per unit — own projects, projects it landed after a
// transfer, projects it first reported and saw transferred — and the
// period's policy weighs the roles with domain.CreditShares.

var indicatorList = domain.Indicators()

const nInd = 10

func indicatorIndex(ind domain.Indicator) int { return slices.Index(indicatorList, ind) }

var (
	iSigned100m   = indicatorIndex(domain.IndSigned100m)
	iSignedUSD    = indicatorIndex(domain.IndSignedUSD100m)
	iFortune500   = indicatorIndex(domain.IndFortune500Projects)
	iContract     = indicatorIndex(domain.IndContractInvestment)
	iFunds        = indicatorIndex(domain.IndFundsArrived)
	iStarted      = indicatorIndex(domain.IndStartedProjects)
	iOutProvFunds = indicatorIndex(domain.IndOutOfProvinceFunds)
)

type indVec [nInd]float64

func (a *indVec) addScaled(b *indVec, f float64) {
	for i := range a {
		a[i] += f * b[i]
	}
}

const (
	roleOwn     = 0
	roleLanding = 1
	roleFirst   = 2
	noUnit      = ^uint16(0)
)

// roleAgg keeps a role's sums per business day and per month, in chunks
// of consecutive days (and of a year's months): a unit's five years are a
// few dozen chunks, so the maps stay small and hot, and neighbouring days
// share memory.
type roleAgg struct {
	days   map[int32]*dayChunk
	months map[int32]*monthChunk
}

const dayChunkBits = 6

type (
	dayChunk   [1 << dayChunkBits]indVec
	monthChunk [12]indVec
)

func (ra *roleAgg) day(d int32) *indVec {
	if c := ra.days[d>>dayChunkBits]; c != nil {
		return &c[d&(1<<dayChunkBits-1)]
	}
	return nil
}

func (ra *roleAgg) month(m int32) *indVec {
	if c := ra.months[m/12]; c != nil {
		return &c[m%12]
	}
	return nil
}

type rankUnit struct {
	code  domain.UnitCode
	roles [3]roleAgg
}

type indDelta struct {
	ind uint8
	v   float64
}

type rankRecord struct {
	pos   eventstore.Position
	evOcc int64 // the contributing event's occurred_at, Unix ns
	evRec int64 // and its recorded_at
	day   int32 // the business day counted
	off   uint32
	unit  uint16
	first uint16
	n     uint8
}

type rankingState struct {
	units  []*rankUnit
	idx    map[domain.UnitCode]uint16
	recs   []rankRecord
	deltas []indDelta
	// minDay and maxDay bound the business days counted.
	minDay, maxDay int32
}

func newRankingState() rankingState { return rankingState{idx: map[domain.UnitCode]uint16{}} }

func (rs *rankingState) unitIndex(code domain.UnitCode) uint16 {
	if i, ok := rs.idx[code]; ok {
		return i
	}
	i := uint16(len(rs.units))
	u := &rankUnit{code: code}
	for r := range u.roles {
		u.roles[r] = roleAgg{days: map[int32]*dayChunk{}, months: map[int32]*monthChunk{}}
	}
	rs.units = append(rs.units, u)
	rs.idx[code] = i
	return i
}

// Civil days are numbered from 1970-01-01; months are year*12 + month-1.
func dayNumber(d domain.Date) int32 {
	return int32(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dayDate(n int32) domain.Date {
	t := time.Unix(int64(n)*86400, 0).UTC()
	return domain.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func monthKey(d domain.Date) int32 { return int32(d.Year*12 + int(d.Month) - 1) }

func (ra *roleAgg) add(day, mk int32, d indDelta) {
	dc := ra.days[day>>dayChunkBits]
	if dc == nil {
		dc = new(dayChunk)
		ra.days[day>>dayChunkBits] = dc
	}
	dc[day&(1<<dayChunkBits-1)][d.ind] += d.v
	mc := ra.months[mk/12]
	if mc == nil {
		mc = new(monthChunk)
		ra.months[mk/12] = mc
	}
	mc[mk%12][d.ind] += d.v
}

// span is days [from, to) split into whole months (summed from the month
// buckets) and the ragged days at either end, computed once per query and
// used for every unit.
type span struct {
	months []int32
	days   []int32
}

func newSpan(from, to int32) span {
	var sp span
	for d := from; d < to; {
		date := dayDate(d)
		if date.Day == 1 {
			next := dayNumber(domain.NewDate(date.Year, date.Month+1, 1))
			if next <= to {
				sp.months = append(sp.months, monthKey(date))
				d = next
				continue
			}
		}
		sp.days = append(sp.days, d)
		d++
	}
	return sp
}

// sum adds the role's buckets over the span into out.
func (ra *roleAgg) sum(sp *span, out *indVec) {
	if len(ra.days) == 0 {
		return
	}
	for _, m := range sp.months {
		if mv := ra.month(m); mv != nil {
			out.addScaled(mv, 1)
		}
	}
	for _, d := range sp.days {
		if dv := ra.day(d); dv != nil {
			out.addScaled(dv, 1)
		}
	}
}

// rankRecord adds one contribution of a project on a business day (and
// its month).
func (v *Views) rankRecord(en *projectEntry, d *decoded, day, mk int32, ds []indDelta) {
	if len(ds) == 0 {
		return
	}
	landing := en.landing
	if landing == "" {
		return
	}
	rs := &v.rank
	if landing != en.rkLanding {
		// Units are looked up once per project, not once per event.
		en.rkLanding = landing
		en.rkUnit = rs.unitIndex(landing)
		en.rkFirst = noUnit
		if first := en.p.FirstUnit(); first != "" && first != landing {
			en.rkFirst = rs.unitIndex(first)
		}
	}
	li, fi := en.rkUnit, en.rkFirst
	if len(rs.recs) == 0 || day < rs.minDay {
		rs.minDay = day
	}
	if len(rs.recs) == 0 || day > rs.maxDay {
		rs.maxDay = day
	}
	rs.recs = append(rs.recs, rankRecord{pos: d.Position, evOcc: d.OccurredAt.UnixNano(), evRec: d.RecordedAt.UnixNano(),
		day: day, off: uint32(len(rs.deltas)), unit: li, first: fi, n: uint8(len(ds))})
	rs.deltas = append(rs.deltas, ds...)
	for _, x := range ds {
		if fi == noUnit {
			rs.units[li].roles[roleOwn].add(day, mk, x)
		} else {
			rs.units[li].roles[roleLanding].add(day, mk, x)
			rs.units[fi].roles[roleFirst].add(day, mk, x)
		}
	}
	v.applied[vRank]++
	if v.touch != nil {
		v.touch.Days[dayDate(day)] = struct{}{}
	}
}

// rankProjectEvent adds what event e contributes (what it adds to
// Project.Indicators for its day).
func (v *Views) rankProjectEvent(en *projectEntry, d *decoded, e domain.Event, pol *domain.Policy) {
	if en.landing == "" {
		return // only a signed project counts
	}
	var buf [8]indDelta
	ds := buf[:0]
	switch x := e.(type) {
	case domain.ContractSigned:
		c, err := domain.Classify(x.ContractInvestment, *pol)
		if err != nil {
			return
		}
		for _, t := range c.Reached() {
			ds = append(ds, indDelta{uint8(indicatorIndex(t.Indicator())), 1})
		}
		if c.USD100m {
			ds = append(ds, indDelta{uint8(iSignedUSD), 1})
		}
		if slices.Contains(en.cats, domain.CategoryFortuneGlobal500) {
			ds = append(ds, indDelta{uint8(iFortune500), 1})
		}
		ds = append(ds, indDelta{uint8(iContract), float64(c.CNY.Amount)})
	case domain.ContractAmended:
		inc, err := x.Increment.ToCNY(pol.USDCNYRate)
		if err != nil || inc.Amount == 0 {
			return
		}
		ds = append(ds, indDelta{uint8(iContract), float64(inc.Amount)})
	case domain.FundsArrived:
		m, err := x.Amount.ToCNY(pol.USDCNYRate)
		if err != nil || m.Amount == 0 {
			return
		}
		ds = append(ds, indDelta{uint8(iFunds), float64(m.Amount)})
		if x.Source == domain.FundsOutOfProvince {
			ds = append(ds, indDelta{uint8(iOutProvFunds), float64(m.Amount)})
		}
	case domain.ConstructionStarted:
		ds = append(ds, indDelta{uint8(iStarted), 1})
	case domain.ProductionStarted:
		// The start of production counts as the start when construction
		// start was skipped (Project.Indicators).
		if en.startSeen {
			return
		}
		ds = append(ds, indDelta{uint8(iStarted), 1})
	default:
		return
	}
	v.rankRecord(en, d, d.pre.day, d.pre.month, ds)
}

func (v *Views) dayPeriod(day int32) domain.Period {
	d := dayDate(day)
	return domain.Period{From: d.Start(v.loc), To: d.End(v.loc)}
}

// dayValues asks the domain what the project contributes on one day.
func (v *Views) dayValues(en *projectEntry, day int32, pol *domain.Policy) indVec {
	var out indVec
	vals, err := en.p.Indicators(v.dayPeriod(day), *pol)
	if err != nil {
		return out
	}
	for k, x := range vals {
		if i := indicatorIndex(k); i >= 0 {
			out[i] = x
		}
	}
	return out
}

// diffBefore, for an event that takes the rankDiff path, returns the
// project's contributions per day before it; nil for events counted
// incrementally. Corrections can change any day; a second signing or
// construction start (which the commands refuse, but a replay must take
// as it comes) must not count twice.
func (v *Views) diffBefore(en *projectEntry, e domain.Event, pol *domain.Policy) map[int32]indVec {
	switch e.(type) {
	case domain.DetailsCorrected:
	case domain.ContractSigned:
		if en.p.LandingUnit() == "" {
			return nil
		}
	case domain.ConstructionStarted:
		if !en.startSeen {
			return nil
		}
	default:
		return nil
	}
	return v.projectDayValues(en, pol)
}

// diffAfter is diffBefore's counterpart once the event is applied.
func (v *Views) diffAfter(en *projectEntry, pol *domain.Policy) map[int32]indVec {
	return v.projectDayValues(en, pol)
}

// projectDayValues is what the project contributes on each day it
// contributes anything, by the domain's rule.
func (v *Views) projectDayValues(en *projectEntry, pol *domain.Policy) map[int32]indVec {
	out := map[int32]indVec{}
	if en.p.LandingUnit() == "" {
		return out
	}
	s := en.p.Snapshot()
	days := []time.Time{s.SignedAt, s.StartedAt, s.ProducingAt}
	for _, a := range s.Amendments {
		days = append(days, a.OccurredAt)
	}
	for _, f := range s.Funds {
		days = append(days, f.OccurredAt)
	}
	for _, t := range days {
		if t.IsZero() {
			continue
		}
		day := dayNumber(v.dateOf(t))
		if _, ok := out[day]; !ok {
			out[day] = v.dayValues(en, day, pol)
		}
	}
	return out
}

// rankDiff records, day by day, the difference between what the project
// contributed before an event and after it, both by the domain's rule.
// Corrections (any day may change) and production starts (which count as
// the start only when construction start was skipped) take this path.
func (v *Views) rankDiff(en *projectEntry, d *decoded, before, after map[int32]indVec) {
	days := make([]int32, 0, len(before)+len(after))
	for k := range before {
		days = append(days, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			days = append(days, k)
		}
	}
	slices.Sort(days)
	for _, day := range days {
		b, a := before[day], after[day]
		var ds []indDelta
		for i := range nInd {
			if diff := a[i] - b[i]; diff != 0 {
				ds = append(ds, indDelta{uint8(i), diff})
			}
		}
		v.rankRecord(en, d, day, monthKey(dayDate(day)), ds)
	}
}

// ---- queries ----

// Basis says which clock "as of" means: recorded (as known at T, what the
// dashboard showed then) or occurred (as of T in business time).
type Basis string

const (
	BasisRecorded Basis = "recorded"
	BasisOccurred Basis = "occurred"
)

// known filters facts by what was known at a moment; the zero value keeps
// everything (the live views).
type known struct {
	on    bool
	basis Basis
	at    int64
	t     time.Time
}

func newKnown(at time.Time, basis Basis) (known, error) {
	if at.IsZero() {
		return known{}, nil
	}
	switch basis {
	case "":
		basis = BasisRecorded
	case BasisRecorded, BasisOccurred:
	default:
		return known{}, queryError("basis must be recorded or occurred")
	}
	return known{on: true, basis: basis, at: at.UnixNano(), t: at}, nil
}

func (k known) keeps(occurred, recorded time.Time) bool {
	if !k.on {
		return true
	}
	if k.basis == BasisOccurred {
		return !occurred.After(k.t)
	}
	return !recorded.After(k.t)
}

func (k known) keepsRec(r *rankRecord) bool {
	if !k.on {
		return true
	}
	if k.basis == BasisOccurred {
		return r.evOcc <= k.at
	}
	return r.evRec <= k.at
}

// RankingQuery selects a ranking (GET /rankings).
type RankingQuery struct {
	// Period is "2024", "2024-Q2", "2024-05" or "2024-W18".
	Period string
	// Kind ranks the units of one kind; empty ranks every kind, each
	// within its own group.
	Kind domain.UnitKind
	// AsOf, when set, answers as of that moment on Basis (recorded by
	// default: what the ledger knew then).
	AsOf  time.Time
	Basis Basis
}

// RankingItem is one row (API.md "Ranking item").
type RankingItem struct {
	Rank       int                          `json:"rank"`
	Unit       domain.UnitCode              `json:"unit"`
	UnitName   string                       `json:"unit_name"`
	Kind       domain.UnitKind              `json:"kind"`
	Score      float64                      `json:"score"`
	Indicators map[domain.Indicator]float64 `json:"indicators"`
	// Change is the rank change since the previous period (positive:
	// moved up); null when the unit was not ranked then or nothing was
	// counted in that period.
	Change *int `json:"change"`
}

// RankingResult answers GET /rankings.
type RankingResult struct {
	Period        string              `json:"period"`
	Kind          domain.UnitKind     `json:"kind,omitempty"`
	From          time.Time           `json:"from"`
	To            time.Time           `json:"to"`
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	AsOf          *time.Time          `json:"as_of,omitempty"`
	Basis         Basis               `json:"basis,omitempty"`
	Items         []RankingItem       `json:"items"`
}

// Ranking answers GET /rankings: each unit's indicators for the period
// (counted by occurred date, transfers credited per the period's policy),
// its score and rank within its kind, and its change since the previous
// period.
func (v *Views) Ranking(q RankingQuery) (RankingResult, error) {
	per, err := domain.ParsePeriod(q.Period, v.loc)
	if err != nil {
		return RankingResult{}, queryError(err.Error())
	}
	if q.Kind != "" && !q.Kind.Valid() {
		return RankingResult{}, queryError("unknown unit kind " + string(q.Kind))
	}
	k, err := newKnown(q.AsOf, q.Basis)
	if err != nil {
		return RankingResult{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	key := rankingKey{period: per.String(), kind: q.Kind, known: k}
	if r, ok := v.memo.get(v.pos, key); ok {
		return r.(RankingResult).clone(), nil
	}
	res := v.ranking(per, q.Kind, k)
	v.memo.put(v.pos, key, res)
	return res.clone(), nil
}

type rankingKey struct {
	period string
	kind   domain.UnitKind
	known  known
}

// clone copies what a caller may change: the item list and each item's
// indicators. (The memo keeps the original.)
func (r RankingResult) clone() RankingResult {
	r.Items = slices.Clone(r.Items)
	for i := range r.Items {
		r.Items[i].Indicators = maps.Clone(r.Items[i].Indicators)
	}
	return r
}

func (v *Views) ranking(per domain.Period, kind domain.UnitKind, k known) RankingResult {
	q := RankingQuery{Kind: kind}
	cur, pol, _ := v.rankPeriod(per, q.Kind, k)
	prev, _, active := v.rankPeriod(per.Previous(), q.Kind, k)
	if !active {
		prev = nil
	}
	items := domain.WithChanges(cur, prev)
	res := RankingResult{Period: per.String(), Kind: q.Kind, From: per.From, To: per.To, PolicyVersion: pol.Version,
		Position: v.knownPosition(k), Items: make([]RankingItem, len(items))}
	if k.on {
		t := k.t
		res.AsOf, res.Basis = &t, k.basis
	}
	names := v.unitNames(k)
	for i, it := range items {
		res.Items[i] = RankingItem{Rank: it.Rank, Unit: it.Unit, UnitName: names[it.Unit], Kind: it.Kind, Score: it.Score,
			Indicators: withZeros(it.Indicators), Change: it.Change}
	}
	return res
}

// withZeros names every indicator in m (the ranking's own copy), zero
// when nothing was counted.
func withZeros(m map[domain.Indicator]float64) map[domain.Indicator]float64 {
	if m == nil {
		m = make(map[domain.Indicator]float64, nInd)
	}
	for _, ind := range indicatorList {
		if _, ok := m[ind]; !ok {
			m[ind] = 0
		}
	}
	return m
}

// rankPeriod ranks the units of kind (all kinds when empty) for a period
// under the policy in force at its end, and reports whether anything was
// counted at all.
func (v *Views) rankPeriod(per domain.Period, kind domain.UnitKind, k known) ([]domain.RankingItem, *domain.Policy, bool) {
	pol := v.ref.policyFor(per.To, k)
	units := v.ref.unitsKnown(k)
	vals := v.periodValues(per, pol, k)
	inputs := make([]domain.RankingInput, 0, len(units))
	active := false
	for _, u := range units {
		if kind != "" && u.Kind != kind {
			continue
		}
		if u.Kind == domain.UnitCentre && kind == "" {
			continue // the centre coordinates; it is not ranked among the units
		}
		m := map[domain.Indicator]float64{}
		if vec, ok := vals[u.Code]; ok {
			for i, x := range vec {
				if x != 0 {
					m[indicatorList[i]] = x
					active = true
				}
			}
		}
		inputs = append(inputs, domain.RankingInput{Unit: u.Code, Kind: u.Kind, Values: m})
	}
	return domain.Rank(inputs, pol.RankingWeights), pol, active
}

// creditShares are the weights of the landing and first roles under pol.
func creditShares(pol *domain.Policy) (landing, first float64) {
	sh := domain.CreditShares("first", "landing", *pol)
	for _, s := range sh {
		switch s.Unit {
		case "landing":
			landing = s.Share
		case "first":
			first = s.Share
		}
	}
	return landing, first
}

// periodValues is every unit's credited indicator values for a period.
func (v *Views) periodValues(per domain.Period, pol *domain.Policy, k known) map[domain.UnitCode]indVec {
	sl, sf := creditShares(pol)
	from := dayNumber(domain.DateOf(per.From, v.loc))
	to := dayNumber(domain.DateOf(per.To, v.loc))
	rs := &v.rank
	out := make(map[domain.UnitCode]indVec, len(rs.units))
	if !k.on {
		sp := newSpan(from, to)
		for _, u := range rs.units {
			var own, land, first indVec
			u.roles[roleOwn].sum(&sp, &own)
			u.roles[roleLanding].sum(&sp, &land)
			u.roles[roleFirst].sum(&sp, &first)
			own.addScaled(&land, sl)
			own.addScaled(&first, sf)
			out[u.code] = own
		}
		return out
	}
	acc := make([][3]indVec, len(rs.units))
	for i := range rs.recs {
		r := &rs.recs[i]
		if r.day < from || r.day >= to || !k.keepsRec(r) {
			continue
		}
		for _, x := range rs.deltas[r.off : r.off+uint32(r.n)] {
			if r.first == noUnit {
				acc[r.unit][roleOwn][x.ind] += x.v
			} else {
				acc[r.unit][roleLanding][x.ind] += x.v
				acc[r.first][roleFirst][x.ind] += x.v
			}
		}
	}
	for i, u := range rs.units {
		vec := acc[i][roleOwn]
		vec.addScaled(&acc[i][roleLanding], sl)
		vec.addScaled(&acc[i][roleFirst], sf)
		out[u.code] = vec
	}
	return out
}

// knownPosition is the position of the last event known under k.
func (v *Views) knownPosition(k known) eventstore.Position {
	if !k.on {
		return v.pos
	}
	if k.basis == BasisRecorded {
		return v.tl.positionAt(k.t)
	}
	for i := len(v.tl.entries) - 1; i >= 0; i-- {
		if v.tl.entries[i].occurred <= k.at {
			return v.tl.entries[i].pos
		}
	}
	return eventstore.Start
}

func (v *Views) unitNames(k known) map[domain.UnitCode]string {
	out := map[domain.UnitCode]string{}
	for _, u := range v.ref.unitsKnown(k) {
		out[u.Code] = u.Name
	}
	return out
}

// UnitValues is one unit's credited indicator values for a period.
type UnitValues struct {
	Unit       domain.UnitCode              `json:"unit"`
	Indicators map[domain.Indicator]float64 `json:"indicators"`
}

// Values returns every unit's credited values for a period, unranked (for
// exports and the assessment's actuals).
func (v *Views) Values(period string) ([]UnitValues, error) {
	per, err := domain.ParsePeriod(period, v.loc)
	if err != nil {
		return nil, queryError(err.Error())
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	vals := v.periodValues(per, v.ref.policyForPeriod(per.To), known{})
	out := make([]UnitValues, 0, len(vals))
	for code, vec := range vals {
		m := map[domain.Indicator]float64{}
		for i, x := range vec {
			m[indicatorList[i]] = x
		}
		out = append(out, UnitValues{Unit: code, Indicators: m})
	}
	slices.SortFunc(out, func(a, b UnitValues) int { return cmp.Compare(a.Unit, b.Unit) })
	return out, nil
}

// BusinessSpan is the first and last business day anything was counted on
// (ok false when nothing was): the periods worth ranking.
func (v *Views) BusinessSpan() (first, last domain.Date, ok bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if len(v.rank.recs) == 0 {
		return domain.Date{}, domain.Date{}, false
	}
	return dayDate(v.rank.minDay), dayDate(v.rank.maxDay), true
}

// PeriodsCovering names every period (year, quarter, month, ISO week) that
// contains a day of [first, last], oldest first.
func PeriodsCovering(first, last domain.Date, loc *time.Location) []domain.Period {
	var out []domain.Period
	seen := map[string]bool{}
	add := func(p domain.Period) {
		if s := p.String(); !seen[s] {
			seen[s] = true
			out = append(out, p)
		}
	}
	for y := first.Year; y <= last.Year; y++ {
		add(domain.YearPeriod(y, loc))
		for q := 1; q <= 4; q++ {
			if p := domain.QuarterPeriod(y, q, loc); overlaps(p, first, last, loc) {
				add(p)
			}
		}
		for m := time.January; m <= time.December; m++ {
			if p := domain.MonthPeriod(y, m, loc); overlaps(p, first, last, loc) {
				add(p)
			}
		}
	}
	for d := first; !d.After(last); d = d.AddDays(7) {
		add(WeekOf(d, loc))
	}
	add(WeekOf(last, loc))
	return out
}

// PeriodsContaining names the periods that contain day d.
func PeriodsContaining(d domain.Date, loc *time.Location) []domain.Period {
	return []domain.Period{domain.YearPeriod(d.Year, loc), domain.QuarterPeriod(d.Year, (int(d.Month)-1)/3+1, loc),
		domain.MonthPeriod(d.Year, d.Month, loc), WeekOf(d, loc)}
}

// WeekOf is the ISO week containing d.
func WeekOf(d domain.Date, loc *time.Location) domain.Period {
	y, w := d.Start(time.UTC).ISOWeek()
	return domain.WeekPeriod(y, w, loc)
}

func overlaps(p domain.Period, first, last domain.Date, loc *time.Location) bool {
	return p.From.Before(last.End(loc)) && p.To.After(first.Start(loc))
}
