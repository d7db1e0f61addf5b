package projections

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The assessment view (考核, Jiaxing 2024 三(一); DOMAIN.md "Assessment"):
// for a year, each unit's completion per indicator against its targets,
// score, rating with the 70% rule, rank within its kind and the admonish
// flag, computed by domain.AssessRows and domain.FlagAdmonishmentsInPlace
// (Assess and FlagAdmonishments without a map or copy per unit) from the
// ranking view's counts for the year, the targets, and the bonuses and
// deductions. A published year is frozen as it was published; what a
// recomputation gives today is shown beside it, never instead of it.

type pointsRec struct {
	year       int
	unit       domain.UnitCode
	points     float64 // bonus positive, deduction negative
	occurred   time.Time
	recorded   time.Time
	deductions bool
}

type targetsRec struct {
	unit       domain.UnitCode
	indicators map[domain.Indicator]float64
	occurred   time.Time
	recorded   time.Time
}

type publishedYear struct {
	event    domain.AssessmentPublished
	results  []domain.AssessmentResult
	policy   int
	position eventstore.Position
	recorded time.Time
	// items caches the results as answered, per kind (publishedItems).
	mu    sync.Mutex
	items map[domain.UnitKind]namedItems
}

// namedItems are items named from one list of the units (compared by
// identity: the reference lists them anew after every unit event).
type namedItems struct {
	units []domain.Unit
	items []AssessmentItem
}

type assessmentState struct {
	years     map[int]*domain.AssessmentYear
	points    map[int][]pointsRec
	targets   map[int][]targetsRec
	published map[int]*publishedYear
	// corrections are the projects' corrections by the years they affect.
	corrections map[int][]*correctionRec
}

func newAssessmentState() assessmentState {
	return assessmentState{years: map[int]*domain.AssessmentYear{}, points: map[int][]pointsRec{},
		targets: map[int][]targetsRec{}, published: map[int]*publishedYear{},
		corrections: map[int][]*correctionRec{}}
}

func (v *Views) applyAssessment(d *decoded) {
	as := &v.asm
	e := domain.Unwrap(d.Data)
	var year int
	switch x := e.(type) {
	case domain.BonusAwarded:
		year = x.Year
		as.points[year] = append(as.points[year], pointsRec{year: year, unit: x.Unit, points: x.Points, occurred: x.OccurredAt, recorded: d.RecordedAt})
	case domain.DeductionRecorded:
		year = x.Year
		as.points[year] = append(as.points[year], pointsRec{year: year, unit: x.Unit, points: -x.Points, occurred: x.OccurredAt, recorded: d.RecordedAt, deductions: true})
	case domain.AssessmentPublished:
		year = x.Year
		if as.published[year] == nil {
			as.published[year] = v.freeze(x, d)
		}
	}
	ay := as.years[year]
	if ay == nil {
		ay = &domain.AssessmentYear{}
		as.years[year] = ay
	}
	ay.Apply(e)
	v.applied[vAsm]++
	if v.touch != nil {
		v.touch.Years[year] = struct{}{}
	}
}

// trackTargets keeps every AnnualTargetsSet with its clocks, for
// assessments as known at a past moment.
func (v *Views) trackTargets(d *decoded, e domain.AnnualTargetsSet) {
	v.asm.targets[e.Year] = append(v.asm.targets[e.Year], targetsRec{unit: e.Unit, indicators: maps.Clone(e.Indicators), occurred: e.OccurredAt, recorded: d.RecordedAt})
}

// freeze computes the result a publication freezes: the table the
// publisher attached if any, else the result from every event before the
// publication, under the policy version the publication names (or the one
// in force at the year's end).
func (v *Views) freeze(e domain.AssessmentPublished, d *decoded) *publishedYear {
	pos := v.pos
	if p, err := eventstore.ParsePosition(e.Position); err == nil && e.Position != "" {
		pos = p
	}
	pol, ok := v.policyVersion(e.PolicyVersion)
	if !ok {
		pol = v.ref.policyForPeriod(domain.YearPeriod(e.Year, v.loc).To)
	}
	py := &publishedYear{event: e, policy: pol.Version, position: pos, recorded: d.RecordedAt}
	if len(e.Results) > 0 {
		py.results = cloneAssessment(e.Results)
	} else {
		py.results = v.assessYearFull(e.Year, pol, known{})
	}
	return py
}

func (v *Views) policyVersion(version int) (*domain.Policy, bool) {
	if version == 0 {
		return nil, false
	}
	for _, pv := range v.ref.versions {
		if pv.policy.Version == version {
			return pv.policy, true
		}
	}
	return nil, false
}

func cloneAssessment(rs []domain.AssessmentResult) []domain.AssessmentResult {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Completion = maps.Clone(out[i].Completion)
		out[i].Flags = slices.Clone(out[i].Flags)
		out[i].AdmonishReasons = slices.Clone(out[i].AdmonishReasons)
	}
	return out
}

// assessYear scores a year for every unit (centre excluded) without the
// admonish flag, which needs earlier years.
func (v *Views) assessYear(year int, pol *domain.Policy, k known) []domain.AssessmentResult {
	all := v.ref.unitsKnown(k)
	units := make([]domain.Unit, 0, len(all))
	per := domain.YearPeriod(year, v.loc)
	for _, u := range all {
		if u.Kind != domain.UnitCentre && v.takesPart(&u, per.To) {
			units = append(units, u)
		}
	}
	vals := v.unitValues(per, pol, k, v.rankIDs(units))
	targets := make(map[domain.UnitCode]map[domain.Indicator]float64, len(units))
	for _, t := range v.asm.targets[year] {
		if k.keeps(t.occurred, t.recorded) {
			targets[t.unit] = t.indicators // the last set wins (domain.AnnualTargets)
		}
	}
	bonus, deduct := map[domain.UnitCode]float64{}, map[domain.UnitCode]float64{}
	for _, p := range v.asm.points[year] {
		if !k.keeps(p.occurred, p.recorded) {
			continue
		}
		if p.deductions {
			deduct[p.unit] -= p.points
		} else {
			bonus[p.unit] += p.points
		}
	}
	rows := make([]domain.AssessmentRow, len(units))
	for i, u := range units {
		for j, x := range vals[i] {
			if x == 0 {
				vals[i][j] = 0 // never -0: nothing counted completes 0, not -0
			}
		}
		// The domain only reads the targets: they are shared, not copied.
		rows[i] = domain.AssessmentRow{Unit: u.Code, Kind: u.Kind, Targets: targets[u.Code], Actuals: vals[i][:],
			Bonus: bonus[u.Code], Deductions: deduct[u.Code]}
	}
	return domain.AssessRows(rows, indicatorList, *pol)
}

// assessYearFull adds the admonish flag: the earlier years of the run are
// their published results when published (the official record), else
// recomputed under their own year's policy.
func (v *Views) assessYearFull(year int, pol *domain.Policy, k known) []domain.AssessmentResult {
	history := map[int][]domain.AssessmentResult{year: v.assessYear(year, pol, k)}
	for y := year - 1; y > year-max(pol.AdmonishAfterYears, 1); y-- {
		if py := v.publishedKnown(y, k); py != nil {
			history[y] = py.results
			continue
		}
		history[y] = v.assessYear(y, v.ref.policyFor(domain.YearPeriod(y, v.loc).To, k), k)
	}
	// history[year] is this call's own: flag it in place, uncopied.
	return domain.FlagAdmonishmentsInPlace(history, year, *pol)
}

func (v *Views) publishedKnown(year int, k known) *publishedYear {
	py := v.asm.published[year]
	if py == nil || !k.keeps(py.event.OccurredAt, py.recorded) {
		return nil
	}
	return py
}

// AssessmentItem is one unit's result (API.md "Assessment item").
type AssessmentItem struct {
	Unit     domain.UnitCode `json:"unit"`
	UnitName string          `json:"unit_name"`
	Kind     domain.UnitKind `json:"kind"`
	Score    float64         `json:"score"`
	Rating   domain.Rating   `json:"rating"`
	// Completion is actual ÷ target (capped) per indicator with a target,
	// and "overall", the weighted mean.
	Completion      map[string]float64 `json:"completion"`
	Bonus           float64            `json:"bonus"`
	Deductions      float64            `json:"deductions"`
	Rank            int                `json:"rank"`
	Flags           []string           `json:"flags"`
	AdmonishReasons []string           `json:"admonish_reasons,omitempty"`
}

// AssessmentDifference is a unit whose result today differs from the
// published one.
type AssessmentDifference struct {
	Unit      domain.UnitCode `json:"unit"`
	Fields    []string        `json:"fields"`
	Published *AssessmentItem `json:"published"`
	Current   *AssessmentItem `json:"current"`
}

// AssessmentCurrent is a published year recomputed from today's log.
type AssessmentCurrent struct {
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	Items         []AssessmentItem    `json:"items"`
}

// AssessmentResult answers GET /assessments/{year}.
type AssessmentResult struct {
	Year          int                 `json:"year"`
	Kind          domain.UnitKind     `json:"kind,omitempty"`
	PolicyVersion int                 `json:"policy_version"`
	Position      eventstore.Position `json:"position"`
	Published     bool                `json:"published"`
	PublishedAt   *time.Time          `json:"published_at,omitempty"`
	AsOf          *time.Time          `json:"as_of,omitempty"`
	Basis         Basis               `json:"basis,omitempty"`
	// Items is the published (frozen) result when published, else the
	// result computed now.
	Items []AssessmentItem `json:"items"`
	// Current and Differences, for a published year, show what the log
	// gives today beside the frozen result: later corrections appear as a
	// difference, never as a silent change.
	Current     *AssessmentCurrent     `json:"current,omitempty"`
	Differences []AssessmentDifference `json:"differences,omitempty"`
	// Corrections, for a published year, are the corrections of the
	// year's figures that its frozen result does not include (flagged by
	// log order, domain.DetailsCorrected.FlaggedYears): why Current may
	// differ. Omitted when none.
	Corrections []FlaggedCorrection `json:"corrections,omitempty"`
}

// AssessmentQuery selects an assessment.
type AssessmentQuery struct {
	Year  int
	Kind  domain.UnitKind
	AsOf  time.Time
	Basis Basis
}

// Assessment answers GET /assessments/{year}?kind=&as_of=.
func (v *Views) Assessment(q AssessmentQuery) (AssessmentResult, error) {
	if q.Year < 1 || q.Year > 9999 {
		return AssessmentResult{}, queryError("year out of range")
	}
	if q.Kind != "" && !q.Kind.Valid() {
		return AssessmentResult{}, queryError("unknown unit kind " + string(q.Kind))
	}
	k, err := newKnown(q.AsOf, q.Basis)
	if err != nil {
		return AssessmentResult{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	key := assessmentKey{year: q.Year, kind: q.Kind, known: k}
	if r, ok := v.memo.get(v.pos, key); ok {
		return r.(AssessmentResult).clone(), nil
	}
	res := v.assessment(q, k)
	v.memo.put(v.pos, key, res)
	return res.clone(), nil
}

type assessmentKey struct {
	year  int
	kind  domain.UnitKind
	known known
}

func cloneItems(items []AssessmentItem) []AssessmentItem {
	out := slices.Clone(items)
	for i := range out {
		out[i].Completion = maps.Clone(out[i].Completion)
		out[i].Flags = slices.Clone(out[i].Flags)
		out[i].AdmonishReasons = slices.Clone(out[i].AdmonishReasons)
	}
	return out
}

// clone copies everything a caller could change (the memo keeps the
// original).
func (r AssessmentResult) clone() AssessmentResult {
	r.Items = cloneItems(r.Items)
	if r.Current != nil {
		c := *r.Current
		c.Items = cloneItems(c.Items)
		r.Current = &c
	}
	if r.Differences != nil {
		ds := slices.Clone(r.Differences)
		for i := range ds {
			ds[i].Fields = slices.Clone(ds[i].Fields)
			if p := ds[i].Published; p != nil {
				c := cloneItems([]AssessmentItem{*p})[0]
				ds[i].Published = &c
			}
			if p := ds[i].Current; p != nil {
				c := cloneItems([]AssessmentItem{*p})[0]
				ds[i].Current = &c
			}
		}
		r.Differences = ds
	}
	r.Corrections = slices.Clone(r.Corrections)
	return r
}

func (v *Views) assessment(q AssessmentQuery, k known) AssessmentResult {
	names := v.unitNames(k)
	pol := v.ref.policyFor(domain.YearPeriod(q.Year, v.loc).To, k)
	current := v.assessYearFull(q.Year, pol, k)
	res := AssessmentResult{Year: q.Year, Kind: q.Kind, PolicyVersion: pol.Version, Position: v.knownPosition(k)}
	if k.on {
		t := k.t
		res.AsOf, res.Basis = &t, k.basis
	}
	curItems := assessmentItems(current, q.Kind, names)
	py := v.publishedKnown(q.Year, k)
	if py == nil {
		res.Items = curItems
		return res
	}
	at := py.event.OccurredAt
	res.Published, res.PublishedAt = true, &at
	res.PolicyVersion, res.Position = py.policy, py.position
	res.Items = v.publishedItems(py, q.Kind, k, names)
	res.Current = &AssessmentCurrent{PolicyVersion: pol.Version, Position: v.knownPosition(k), Items: curItems}
	res.Differences = diffAssessment(res.Items, curItems)
	res.Corrections = v.flaggedCorrections(q.Year, k)
	return res
}

// publishedItems is assessmentItems of a published year's results, which
// never change: they are built once per kind until the units change (their
// names), not on every query. Callers must not modify them.
func (v *Views) publishedItems(py *publishedYear, kind domain.UnitKind, k known, names map[domain.UnitCode]string) []AssessmentItem {
	if k.on {
		return assessmentItems(py.results, kind, names) // named as known then
	}
	units := v.ref.allUnits() // what names was built from
	py.mu.Lock()
	defer py.mu.Unlock()
	if c, ok := py.items[kind]; ok && len(c.units) == len(units) && (len(units) == 0 || &c.units[0] == &units[0]) {
		return c.items
	}
	items := assessmentItems(py.results, kind, names)
	if py.items == nil {
		py.items = map[domain.UnitKind]namedItems{}
	}
	py.items[kind] = namedItems{units: units, items: items}
	return items
}

func assessmentItems(rs []domain.AssessmentResult, kind domain.UnitKind, names map[domain.UnitCode]string) []AssessmentItem {
	out := make([]AssessmentItem, 0, len(rs)) // [] rather than null when empty
	for _, r := range rs {
		if kind != "" && r.Kind != kind {
			continue
		}
		c := make(map[string]float64, len(r.Completion)+1)
		for k, x := range r.Completion {
			c[string(k)] = x
		}
		c["overall"] = r.Overall
		flags := slices.Clone(r.Flags)
		if flags == nil {
			flags = []string{}
		}
		out = append(out, AssessmentItem{Unit: r.Unit, UnitName: names[r.Unit], Kind: r.Kind, Score: r.Score, Rating: r.Rating,
			Completion: c, Bonus: r.Bonus, Deductions: r.Deductions, Rank: r.Rank, Flags: flags, AdmonishReasons: slices.Clone(r.AdmonishReasons)})
	}
	return out
}

func diffAssessment(published, current []AssessmentItem) []AssessmentDifference {
	cur := make(map[domain.UnitCode]*AssessmentItem, len(current))
	for i := range current {
		cur[current[i].Unit] = &current[i]
	}
	seen := make(map[domain.UnitCode]bool, len(published))
	out := []AssessmentDifference{}
	for i := range published {
		p := &published[i]
		seen[p.Unit] = true
		c := cur[p.Unit]
		if c == nil {
			out = append(out, AssessmentDifference{Unit: p.Unit, Fields: []string{"unit"}, Published: p})
			continue
		}
		var fields []string
		if p.Score != c.Score {
			fields = append(fields, "score")
		}
		if p.Rating != c.Rating {
			fields = append(fields, "rating")
		}
		if !maps.Equal(p.Completion, c.Completion) {
			fields = append(fields, "completion")
		}
		if p.Bonus != c.Bonus || p.Deductions != c.Deductions {
			fields = append(fields, "bonus")
		}
		if p.Rank != c.Rank {
			fields = append(fields, "rank")
		}
		// reflect.DeepEqual's comparison: nil differs from empty.
		if !slices.Equal(p.Flags, c.Flags) || (p.Flags == nil) != (c.Flags == nil) {
			fields = append(fields, "flags")
		}
		if len(fields) > 0 {
			out = append(out, AssessmentDifference{Unit: p.Unit, Fields: fields, Published: p, Current: c})
		}
	}
	for i := range current {
		if !seen[current[i].Unit] {
			out = append(out, AssessmentDifference{Unit: current[i].Unit, Fields: []string{"unit"}, Current: &current[i]})
		}
	}
	return out
}

// AssessmentYears lists the years with anything to assess: targets,
// bonuses, deductions, publications, or counted results.
func (v *Views) AssessmentYears() []int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	set := map[int]bool{}
	for y := range v.asm.targets {
		set[y] = true
	}
	for y := range v.asm.points {
		set[y] = true
	}
	for y := range v.asm.published {
		set[y] = true
	}
	if v.rank.recs.Len() > 0 {
		for y := dayDate(v.rank.minDay).Year; y <= dayDate(v.rank.maxDay).Year; y++ {
			set[y] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
