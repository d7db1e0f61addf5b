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
	// The chunks last added to: a unit's contributions arrive roughly in
	// date order, so most additions skip the maps.
	lastDay, lastMonth int32
	lastDayC           *dayChunk
	lastMonthC         *monthChunk
}

const dayChunkBits = 6

type (
	dayChunk   [1 << dayChunkBits]indVec
	monthChunk [12]indVec
)

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
	recs   chunked[rankRecord]
	deltas chunked[indDelta] // each record's deltas are one run (AppendRun)
	// minDay and maxDay bound the business days counted.
	minDay, maxDay int32
}

func newRankingState() rankingState { return rankingState{idx: map[domain.UnitCode]uint16{}} }

// takesPart reports whether a unit is ranked and assessed in a period
// ending at to: unless the unit states it was set up later
// (domain.Unit.EstablishedOn), it took part from the start. A new park is
// then not ranked, nor flagged last, in years before it existed (DOMAIN.md
// "Assessment": last in its group two years running). The registration's
// own date cannot tell: it dates the unit's entry in the ledger, and a city
// that registers its units today and imports its older 台账 ranks them in
// the imported years.
func (v *Views) takesPart(u *domain.Unit, to time.Time) bool {
	return u.EstablishedOn.IsZero() || u.EstablishedOn.Start(v.loc).Before(to)
}

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
	dk, mk12 := day>>dayChunkBits, mk/12
	dc := ra.lastDayC
	if dc == nil || ra.lastDay != dk {
		if dc = ra.days[dk]; dc == nil {
			dc = new(dayChunk)
			ra.days[dk] = dc
		}
		ra.lastDay, ra.lastDayC = dk, dc
	}
	dc[day&(1<<dayChunkBits-1)][d.ind] += d.v
	mc := ra.lastMonthC
	if mc == nil || ra.lastMonth != mk12 {
		if mc = ra.months[mk12]; mc == nil {
			mc = new(monthChunk)
			ra.months[mk12] = mc
		}
		ra.lastMonth, ra.lastMonthC = mk12, mc
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
	if rs.recs.Len() == 0 || day < rs.minDay {
		rs.minDay = day
	}
	if rs.recs.Len() == 0 || day > rs.maxDay {
		rs.maxDay = day
	}
	off := rs.deltas.AppendRun(ds)
	rs.recs.Append(rankRecord{pos: d.Position, evOcc: d.OccurredAt.UnixNano(), evRec: d.RecordedAt.UnixNano(),
		day: day, off: uint32(off), unit: li, first: fi, n: uint8(len(ds))})
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
func (v *Views) diffBefore(en *projectEntry, e domain.Event) map[int32]indVec {
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
	return v.projectDayValues(en)
}

// diffAfter is diffBefore's counterpart once the event is applied.
func (v *Views) diffAfter(en *projectEntry) map[int32]indVec {
	return v.projectDayValues(en)
}

// projectDayValues is what the project contributes on each day it
// contributes anything, by the domain's rule, each day under the policy in
// force when its fact occurred: the policy the fact was counted under when
// it was applied, whatever policy is in force when a correction moves it.
// (A correction occurs the day it is made; valuing the old days under that
// day's policy would take back what was never counted, e.g. a USD signing
// converted at a newer rate.)
func (v *Views) projectDayValues(en *projectEntry) map[int32]indVec {
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
			out[day] = v.dayValues(en, day, v.ref.policyAt(t))
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
		if c := r.Items[i].Change; c != nil {
			r.Items[i].Change = new(*c)
		}
	}
	if r.AsOf != nil {
		r.AsOf = new(*r.AsOf)
	}
	return r
}

func (v *Views) ranking(per domain.Period, kind domain.UnitKind, k known) RankingResult {
	// The units ranked, listed once for both periods.
	all := v.ref.unitsKnown(k)
	units := make([]domain.Unit, 0, len(all))
	for _, u := range all {
		if kind != "" && u.Kind != kind {
			continue
		}
		if u.Kind == domain.UnitCentre && kind == "" {
			continue // the centre coordinates; it is not ranked among the units
		}
		units = append(units, u)
	}
	ids := v.rankIDs(units)
	cur := v.rankPeriod(per, units, ids, k)
	prev := v.rankPeriod(per.Previous(), units, ids, k)
	res := RankingResult{Period: per.String(), Kind: kind, From: per.From, To: per.To, PolicyVersion: cur.pol.Version,
		Position: v.knownPosition(k), Items: make([]RankingItem, len(cur.ranked))}
	if k.on {
		t := k.t
		res.AsOf, res.Basis = &t, k.basis
	}
	// Both periods rank the same units; no change when nothing was counted
	// in the previous period.
	var prevRanked []domain.RankedRow
	if prev.active {
		prevRanked = prev.ranked
	}
	changes := domain.RowChanges(cur.ranked, prevRanked, len(units))
	for i, r := range cur.ranked {
		u := &units[r.Row]
		res.Items[i] = RankingItem{Rank: r.Rank, Unit: u.Code, UnitName: u.Name, Kind: u.Kind, Score: r.Score,
			Indicators: indicatorMap(&cur.vals[r.Row]), Change: changes[i]}
	}
	return res
}

// indicatorMap names every indicator with its value, zero when nothing was
// counted.
func indicatorMap(vec *indVec) map[domain.Indicator]float64 {
	m := make(map[domain.Indicator]float64, nInd)
	for i, x := range vec {
		if x == 0 {
			x = 0 // never -0 (nothing counted reads 0)
		}
		m[indicatorList[i]] = x
	}
	return m
}

// periodRanking is one period's ranking of a query's units: the policy in
// force at the period's end, the units' values and their places (rows
// index the units; a unit that takes no part in the period has none), and
// whether anything was counted at all.
type periodRanking struct {
	pol    *domain.Policy
	vals   []indVec
	ranked []domain.RankedRow
	active bool
}

// rankPeriod ranks units (each within its kind) for a period under the
// policy in force at its end; ids are the units' indices in the ranking
// view (rankIDs).
func (v *Views) rankPeriod(per domain.Period, units []domain.Unit, ids []uint16, k known) periodRanking {
	pol := v.ref.policyFor(per.To, k)
	vals := v.unitValues(per, pol, k, ids)
	rows := make([]domain.RankingRow, 0, len(units))
	unitOf := make([]int, 0, len(units)) // row → index in units
	active := false
	for i, u := range units {
		if !v.takesPart(&u, per.To) {
			continue
		}
		for _, x := range vals[i] {
			active = active || x != 0
		}
		rows = append(rows, domain.RankingRow{Unit: u.Code, Kind: u.Kind, Values: vals[i][:]})
		unitOf = append(unitOf, i)
	}
	ranked := domain.RankRows(rows, indicatorList, pol.RankingWeights)
	for i := range ranked {
		ranked[i].Row = unitOf[ranked[i].Row]
	}
	return periodRanking{pol: pol, vals: vals, ranked: ranked, active: active}
}

// rankIDs are the units' indices in the ranking view, noUnit for a unit
// nothing was ever counted for.
func (v *Views) rankIDs(units []domain.Unit) []uint16 {
	ids := make([]uint16, len(units))
	for i, u := range units {
		id, ok := v.rank.idx[u.Code]
		if !ok {
			id = noUnit
		}
		ids[i] = id
	}
	return ids
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
	ids := make([]uint16, len(v.rank.units))
	for i := range ids {
		ids[i] = uint16(i)
	}
	out := make(map[domain.UnitCode]indVec, len(ids))
	for i, vec := range v.unitValues(per, pol, k, ids) {
		out[v.rank.units[i].code] = vec
	}
	return out
}

// unitValues is the credited indicator values for a period of the units
// ids (indices in the ranking view, noUnit for zero), in their order.
func (v *Views) unitValues(per domain.Period, pol *domain.Policy, k known, ids []uint16) []indVec {
	sl, sf := creditShares(pol)
	from := dayNumber(domain.DateOf(per.From, v.loc))
	to := dayNumber(domain.DateOf(per.To, v.loc))
	rs := &v.rank
	out := make([]indVec, len(ids))
	if !k.on {
		// Only the units asked for: a ranking of one kind sums a part.
		cs := newChunkSpan(from, to)
		for i, id := range ids {
			if id == noUnit {
				continue
			}
			u := rs.units[id]
			var land, first indVec
			own := &out[i]
			u.roles[roleOwn].sumChunks(&cs, own)
			u.roles[roleLanding].sumChunks(&cs, &land)
			u.roles[roleFirst].sumChunks(&cs, &first)
			own.addScaled(&land, sl)
			own.addScaled(&first, sf)
		}
		return out
	}
	acc := make([][3]indVec, len(rs.units))
	for i := range rs.recs.Len() {
		r := rs.recs.At(i)
		if r.day < from || r.day >= to || !k.keepsRec(r) {
			continue
		}
		for _, x := range rs.deltas.Run(int(r.off), int(r.n)) {
			if r.first == noUnit {
				acc[r.unit][roleOwn][x.ind] += x.v
			} else {
				acc[r.unit][roleLanding][x.ind] += x.v
				acc[r.first][roleFirst][x.ind] += x.v
			}
		}
	}
	for i, id := range ids {
		if id == noUnit {
			continue
		}
		vec := acc[id][roleOwn]
		vec.addScaled(&acc[id][roleLanding], sl)
		vec.addScaled(&acc[id][roleFirst], sf)
		out[i] = vec
	}
	return out
}

// bucketRun is the buckets [lo, hi) of one chunk of a roleAgg's days or
// months.
type bucketRun struct{ key, lo, hi int32 }

// chunkSpan is a span as runs of buckets in one chunk, so that a sum looks
// each chunk up once rather than each month and day (a year is one month
// chunk per role, a week one or two day chunks).
type chunkSpan struct{ months, days []bucketRun }

func newChunkSpan(from, to int32) chunkSpan {
	sp := newSpan(from, to)
	var cs chunkSpan
	for _, m := range sp.months {
		cs.months = appendBucket(cs.months, m/12, m%12)
	}
	for _, d := range sp.days {
		cs.days = appendBucket(cs.days, d>>dayChunkBits, d&(1<<dayChunkBits-1))
	}
	return cs
}

// appendBucket adds bucket i of chunk key, to the last run if it follows it.
func appendBucket(runs []bucketRun, key, i int32) []bucketRun {
	if n := len(runs); n > 0 && runs[n-1].key == key && runs[n-1].hi == i {
		runs[n-1].hi++
		return runs
	}
	return append(runs, bucketRun{key: key, lo: i, hi: i + 1})
}

// sumChunks adds the role's buckets over the span into out: whole months
// from the month buckets, the ragged days from the day buckets.
func (ra *roleAgg) sumChunks(cs *chunkSpan, out *indVec) {
	if len(ra.days) == 0 {
		return
	}
	for _, r := range cs.months {
		if c := ra.months[r.key]; c != nil {
			for i := r.lo; i < r.hi; i++ {
				out.addScaled(&c[i], 1)
			}
		}
	}
	for _, r := range cs.days {
		if c := ra.days[r.key]; c != nil {
			for i := r.lo; i < r.hi; i++ {
				out.addScaled(&c[i], 1)
			}
		}
	}
}

// knownPosition is the position of the last event known under k.
func (v *Views) knownPosition(k known) eventstore.Position {
	if !k.on {
		return v.pos
	}
	if k.basis == BasisRecorded {
		return v.tl.positionAt(k.t)
	}
	for i := v.tl.entries.Len() - 1; i >= 0; i-- {
		if en := v.tl.entries.At(i); en.occurred <= k.at {
			return en.pos
		}
	}
	return eventstore.Start
}

func (v *Views) unitNames(k known) map[domain.UnitCode]string {
	units := v.ref.unitsKnown(k)
	out := make(map[domain.UnitCode]string, len(units))
	for _, u := range units {
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
		m := make(map[domain.Indicator]float64, nInd)
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
	if v.rank.recs.Len() == 0 {
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
