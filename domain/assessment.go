package domain

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"
)

// ---- the assessment-year aggregate (stream assessment-<year>) ----

// AssessmentYear is the state of one year's assessment stream: bonus points,
// deductions, and whether the result is published (frozen).
type AssessmentYear struct {
	year       int
	bonuses    []BonusAwarded
	deductions []DeductionRecorded
	published  *AssessmentPublished
}

// Apply folds one event; other events are ignored.
func (a *AssessmentYear) Apply(e Event) {
	switch e := Unwrap(e).(type) {
	case BonusAwarded:
		a.year = e.Year
		a.bonuses = append(a.bonuses, e)
	case DeductionRecorded:
		a.year = e.Year
		a.deductions = append(a.deductions, e)
	case AssessmentPublished:
		a.year = e.Year
		if a.published == nil {
			p := e
			p.Results = slices.Clone(e.Results)
			a.published = &p
		}
	}
}

// Year is the year of the stream's events (0 when empty).
func (a *AssessmentYear) Year() int { return a.year }

// Published returns the publication, if any.
func (a *AssessmentYear) Published() (AssessmentPublished, bool) {
	if a.published == nil {
		return AssessmentPublished{}, false
	}
	return *a.published, true
}

// Bonuses lists every bonus award.
func (a *AssessmentYear) Bonuses() []BonusAwarded { return slices.Clone(a.bonuses) }

// Deductions lists every deduction.
func (a *AssessmentYear) Deductions() []DeductionRecorded { return slices.Clone(a.deductions) }

// BonusOf is the sum of a unit's bonus points.
func (a *AssessmentYear) BonusOf(unit UnitCode) float64 {
	var s float64
	for _, b := range a.bonuses {
		if b.Unit == unit {
			s += b.Points
		}
	}
	return s
}

// DeductionsOf is the sum of a unit's deducted points (positive).
func (a *AssessmentYear) DeductionsOf(unit UnitCode) float64 {
	var s float64
	for _, d := range a.deductions {
		if d.Unit == unit {
			s += d.Points
		}
	}
	return s
}

// AssessmentCommand is a command on an assessment year.
type AssessmentCommand interface{ assessmentCommand() }

// AwardBonus is POST /assessments/{year}/bonuses: positive points are a bonus
// (Jiaxing 2024 三(一) "可在年度综合考核中予以加分"), negative points a deduction
// (DOMAIN.md: e.g. 弄虚作假).
type AwardBonus struct {
	Year   int      `json:"-"`
	Unit   UnitCode `json:"unit"`
	Points float64  `json:"points"`
	Reason string   `json:"reason"`
}

// PublishAssessment is POST /assessments/{year}/publication. The commands layer
// states the log position and policy version the frozen result is computed at,
// and may attach the table itself.
type PublishAssessment struct {
	Year          int                `json:"-"`
	PolicyVersion int                `json:"policy_version"`
	Position      string             `json:"position"`
	Results       []AssessmentResult `json:"results,omitempty"`
}

func (AwardBonus) assessmentCommand()        {}
func (PublishAssessment) assessmentCommand() {}

// maxBonusPoints bounds one award: a score is out of 100 (plus the completion cap).
const maxBonusPoints = 100

func checkYear(v *validator, field string, year int) {
	if year < 2000 || year > 2100 {
		v.add(field, "out_of_range", "must be a year between 2000 and 2100")
	}
}

// Decide decides a bonus/deduction or the publication. A published year is
// frozen (DOMAIN.md: AssessmentPublished freezes a year's result): nothing more
// is awarded, and it is published once. A year is published only after it has
// ended (in now's time zone), since a result frozen mid-year would be wrong.
func (a *AssessmentYear) Decide(cmd AssessmentCommand, now time.Time) ([]Event, error) {
	var year int
	switch c := cmd.(type) {
	case AwardBonus:
		year = c.Year
	case PublishAssessment:
		year = c.Year
	}
	var v validator
	checkYear(&v, "year", year)
	if a.year != 0 && year != a.year {
		v.add("year", "stream_mismatch", "the stream holds year %d", a.year)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if a.published != nil {
		return nil, transition("assessment year", "published", "change", "the "+itoa(year)+" assessment is published and frozen")
	}
	switch c := cmd.(type) {
	case AwardBonus:
		v.addErr("unit", c.Unit.Validate("unit"))
		switch {
		case !finite(c.Points):
			v.add("points", "finite", "must be a number")
		case c.Points == 0:
			v.add("points", "non_zero", "must not be zero")
		case math.Abs(c.Points) > maxBonusPoints:
			v.add("points", "out_of_range", "must be between -%d and %d", maxBonusPoints, maxBonusPoints)
		}
		checkText(&v, "reason", c.Reason, true, maxSummary)
		if err := v.err(); err != nil {
			return nil, err
		}
		if c.Points < 0 {
			return []Event{DeductionRecorded{Year: year, Unit: c.Unit, Points: -c.Points, Reason: c.Reason, OccurredAt: now}}, nil
		}
		return []Event{BonusAwarded{Year: year, Unit: c.Unit, Points: c.Points, Reason: c.Reason, OccurredAt: now}}, nil
	case PublishAssessment:
		if now.Before(time.Date(year+1, 1, 1, 0, 0, 0, 0, now.Location())) {
			v.add("year", "not_ended", "the year %d has not ended", year)
		}
		if c.PolicyVersion < 0 {
			v.add("policy_version", "non_negative", "must not be negative")
		}
		v.required("position", c.Position)
		for i, r := range c.Results {
			if !finite(r.Score) || !finite(r.Overall) || !finite(r.Bonus) || !finite(r.Deductions) {
				v.add("results["+itoa(i)+"]", "finite", "holds a value that is not a number")
			}
			for _, x := range r.Completion {
				if !finite(x) {
					v.add("results["+itoa(i)+"].completion", "finite", "holds a value that is not a number")
					break
				}
			}
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		return []Event{AssessmentPublished{Year: year, PolicyVersion: c.PolicyVersion, Position: c.Position,
			Results: slices.Clone(c.Results), OccurredAt: now}}, nil
	}
	return nil, ValidationErrors{{Rule: "unknown_command", Message: "unknown assessment command"}}
}

// ---- scoring (pure functions for the read side) ----

// AssessmentInput is one unit's year as the read side counted it.
type AssessmentInput struct {
	Unit       UnitCode
	Kind       UnitKind
	Targets    map[Indicator]float64 // from AnnualTargetsSet; may be empty
	Actuals    map[Indicator]float64 // from Contributions over the year
	Bonus      float64               // Σ BonusAwarded
	Deductions float64               // Σ DeductionRecorded (positive)
}

// AssessmentResult is one unit's assessment (the API's assessment item, plus
// the facts the flags are derived from).
type AssessmentResult struct {
	Unit UnitCode `json:"unit"`
	Kind UnitKind `json:"kind"`
	// Score = Σ weight × capped completion + bonus − deductions.
	Score  float64 `json:"score"`
	Rating Rating  `json:"rating"`
	// Completion is actual ÷ target, capped, for every indicator with a target.
	Completion map[Indicator]float64 `json:"completion"`
	// Overall is the weighted mean of the capped completions of the indicators
	// that have both a target and a weight (weights rescaled to 100).
	Overall    float64 `json:"overall"`
	HasTargets bool    `json:"has_targets"`
	Bonus      float64 `json:"bonus"`
	Deductions float64 `json:"deductions"`
	// Rank in the unit's kind group by score (ties share a rank: 1, 1, 3).
	Rank int `json:"rank"`
	// Last: last in a group of at least two, not tied with everyone.
	Last bool `json:"last"`
	// MissedTargets: targets set and overall completion below 100%.
	MissedTargets bool     `json:"missed_targets"`
	Flags         []string `json:"flags"`
	// AdmonishReasons says why FlagAdmonish is set: "last_in_group",
	// "missed_targets" (Jiaxing 2024 三(一)).
	AdmonishReasons []string `json:"admonish_reasons,omitempty"`
}

// round6 rounds to 1e-6 so floating-point noise never splits a tie or changes
// a band.
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// Completion computes per-indicator and overall completion (Jiaxing 2024 三(一)
// 年度目标任务完成率; DOMAIN.md "Assessment"): actual ÷ target capped at
// completionCap (and at 0 from below) for every indicator with a positive
// target; overall is the weighted mean over the indicators with both a target
// and a weight, weights rescaled to sum to 100. counted is false when no
// indicator has both, and overall is then 0.
func Completion(targets, actuals map[Indicator]float64, weights map[Indicator]int, completionCap float64) (per map[Indicator]float64, overall float64, counted bool) {
	return completion(targets, func(ind Indicator) float64 { return actuals[ind] }, weights, completionCap)
}

// completion is Completion with the actuals read through a function, so
// AssessRows need not build a map per unit.
func completion(targets map[Indicator]float64, actual func(Indicator) float64, weights map[Indicator]int, completionCap float64) (per map[Indicator]float64, overall float64, counted bool) {
	per = make(map[Indicator]float64, len(targets))
	// The targets in indicator name order (the sum's order, so the result
	// never depends on map order), sorted on the stack for the usual ten or
	// fewer.
	type target struct {
		ind Indicator
		t   float64
	}
	var buf [16]target
	ts := buf[:0]
	for ind, t := range targets {
		ts = append(ts, target{ind, t})
	}
	slices.SortFunc(ts, func(a, b target) int { return cmp.Compare(a.ind, b.ind) })
	var wsum, acc float64
	for _, x := range ts {
		ind, t := x.ind, x.t
		if !(t > 0) || !finite(t) {
			continue
		}
		c := actual(ind) / t
		if !finite(c) || c < 0 {
			c = 0
		}
		c = math.Min(c, completionCap)
		per[ind] = round6(c)
		if w := weights[ind]; w > 0 {
			wsum += float64(w)
			acc += float64(w) * c
		}
	}
	if wsum == 0 {
		return per, 0, false
	}
	return per, round6(acc / wsum), true
}

// RatingOf rates a score by the policy's bands; a unit whose overall completion
// is below excellent_min_completion is never excellent (Jiaxing 2024 三(一)
// "完成率低于70%的…不得评定为优秀等次") and gets the next band, capped = true.
func RatingOf(score, overall float64, pol Policy) (r Rating, capped bool) {
	b := pol.ScoreBands
	switch {
	case score >= b.Excellent:
		if overall < pol.ExcellentMinCompletion {
			return RatingGood, true
		}
		return RatingExcellent, false
	case score >= b.Good:
		return RatingGood, false
	case score >= b.Pass:
		return RatingPass, false
	}
	return RatingFail, false
}

// Assess scores one year for all units (DOMAIN.md "Assessment", Jiaxing 2024
// 三(一)): completion, score, rating with the 70% rule, rank and "last" within
// each unit kind, and missed targets. Admonishment needs several years: see
// FlagAdmonishments. Results are ordered by kind, rank, unit.
func Assess(inputs []AssessmentInput, pol Policy) []AssessmentResult {
	set := map[Indicator]bool{}
	for _, in := range inputs {
		for ind := range in.Actuals {
			set[ind] = true
		}
	}
	inds := slices.Sorted(maps.Keys(set))
	rows := make([]AssessmentRow, len(inputs))
	for i, in := range inputs {
		act := make([]float64, len(inds))
		for j, ind := range inds {
			act[j] = in.Actuals[ind]
		}
		rows[i] = AssessmentRow{Unit: in.Unit, Kind: in.Kind, Targets: in.Targets, Actuals: act, Bonus: in.Bonus,
			Deductions: in.Deductions}
	}
	return AssessRows(rows, inds, pol)
}

// AssessmentRow is an AssessmentInput with the actuals as a vector: Actuals[j]
// is the value of the j-th indicator of the list AssessRows is given (a
// missing value is 0, as in AssessmentInput).
type AssessmentRow struct {
	Unit       UnitCode
	Kind       UnitKind
	Targets    map[Indicator]float64 // read, never kept or changed
	Actuals    []float64
	Bonus      float64
	Deductions float64
}

// AssessRows is Assess over vectors (the same rule, results and order), for a
// read side that assesses every unit on every query without a map of actuals
// per unit: indicators names the columns of every row's Actuals.
func AssessRows(rows []AssessmentRow, indicators []Indicator, pol Policy) []AssessmentResult {
	out := make([]AssessmentResult, 0, len(rows))
	for i := range rows {
		in := &rows[i]
		actual := func(ind Indicator) float64 {
			if j := slices.Index(indicators, ind); j >= 0 {
				return in.Actuals[j]
			}
			return 0
		}
		per, overall, counted := completion(in.Targets, actual, pol.AssessmentWeights, pol.CompletionCap)
		score := round6(100*overall + in.Bonus - in.Deductions)
		rating, capped := RatingOf(score, overall, pol)
		r := AssessmentResult{Unit: in.Unit, Kind: in.Kind, Score: score, Rating: rating, Completion: per,
			Overall: overall, HasTargets: counted, Bonus: in.Bonus, Deductions: in.Deductions,
			MissedTargets: counted && overall < 1, Flags: []string{}}
		if capped {
			r.Flags = append(r.Flags, FlagExcellentCapped)
		}
		if !counted {
			r.Flags = append(r.Flags, FlagNoTargets)
		}
		out = append(out, r)
	}
	// Out by kind, rank, unit, then input order (what a stable sort keeps):
	// the groups in kind order, each sorted on its own, as a permutation
	// (each result then moves once).
	perm := make([]int, 0, len(out))
	var scores []float64
	for _, group := range byKindOrder(groupByKind(out, func(r AssessmentResult) UnitKind { return r.Kind }),
		func(i int) UnitKind { return out[i].Kind }) {
		scores = scores[:0]
		for _, idx := range group {
			scores = append(scores, out[idx].Score)
		}
		ranks := CompetitionRanks(scores)
		worst := slices.Max(ranks)
		for i, idx := range group {
			out[idx].Rank = ranks[i]
			out[idx].Last = len(group) >= 2 && ranks[i] > 1 && ranks[i] == worst
		}
		part := append(perm[len(perm):], group...)
		slices.SortFunc(part, func(a, b int) int {
			return cmp.Or(cmp.Compare(out[a].Rank, out[b].Rank), cmp.Compare(out[a].Unit, out[b].Unit), cmp.Compare(a, b))
		})
		perm = perm[:len(perm)+len(part)]
	}
	permute(out, perm)
	return out
}

// permute moves s[perm[i]] to s[i] for every i, in place (perm is left as
// the identity).
func permute[T any](s []T, perm []int) {
	for i := range perm {
		if perm[i] == i {
			continue
		}
		tmp, j := s[i], i
		for {
			k := perm[j]
			perm[j] = j
			if k == i {
				s[j] = tmp
				break
			}
			s[j] = s[k]
			j = k
		}
	}
}

// FlagAdmonishments returns history[year] with FlagAdmonish set on every unit
// that was last in its group, or missed its targets, in each of the
// admonish_after_years years ending with year (Jiaxing 2024 三(一)
// "连续两年排名全市末位的或连续两年未完成目标任务的…提醒谈话、责令整改"). A
// year without a result for the unit breaks the run.
func FlagAdmonishments(history map[int][]AssessmentResult, year int, pol Policy) []AssessmentResult {
	h := make(map[int][]AssessmentResult, len(history)+1)
	maps.Copy(h, history)
	h[year] = cloneResults(history[year])
	return FlagAdmonishmentsInPlace(h, year, pol)
}

// FlagAdmonishmentsInPlace is FlagAdmonishments for a caller that owns
// history[year]: it flags those results themselves, and returns them, rather
// than a copy (the read side assesses every unit on every query).
func FlagAdmonishmentsInPlace(history map[int][]AssessmentResult, year int, pol Policy) []AssessmentResult {
	n := max(pol.AdmonishAfterYears, 1)
	cur := history[year]
	// Each year's results by unit (a unit's first result, as a scan finds
	// it), so a unit's run is n lookups rather than n scans.
	byUnit := make([]map[UnitCode]int, n)
	for k := range n {
		rs := history[year-k]
		m := make(map[UnitCode]int, len(rs))
		for i := len(rs) - 1; i >= 0; i-- {
			m[rs[i].Unit] = i
		}
		byUnit[k] = m
	}
	for i := range cur {
		u := cur[i].Unit
		lastRun, missRun := true, true
		for k := range n {
			j, ok := byUnit[k][u]
			if !ok {
				lastRun, missRun = false, false
				break
			}
			r := &history[year-k][j]
			lastRun = lastRun && r.Last
			missRun = missRun && r.MissedTargets
		}
		var reasons []string
		if lastRun {
			reasons = append(reasons, "last_in_group")
		}
		if missRun {
			reasons = append(reasons, "missed_targets")
		}
		if len(reasons) > 0 {
			if !slices.Contains(cur[i].Flags, FlagAdmonish) {
				cur[i].Flags = append(cur[i].Flags, FlagAdmonish)
			}
			cur[i].AdmonishReasons = reasons
		}
	}
	return cur
}

func cloneResults(rs []AssessmentResult) []AssessmentResult {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Completion = maps.Clone(out[i].Completion)
		out[i].Flags = slices.Clone(out[i].Flags)
		out[i].AdmonishReasons = slices.Clone(out[i].AdmonishReasons)
	}
	return out
}

// CompetitionRanks ranks scores high to low with ties sharing a rank and the
// next rank skipping ("1, 1, 3"), returned in the input's order.
func CompetitionRanks(scores []float64) []int {
	ranks := make([]int, len(scores))
	for i, s := range scores {
		r := 1
		for _, o := range scores {
			if o > s {
				r++
			}
		}
		ranks[i] = r
	}
	return ranks
}

func kindOrder(k UnitKind) int {
	if i := slices.Index(UnitKinds(), k); i >= 0 {
		return i
	}
	return len(UnitKinds())
}

// groupByKind returns the indices of items per kind, in a stable order.
func groupByKind[T any](items []T, kind func(T) UnitKind) [][]int {
	// A handful of kinds: a list beats a map, and one array holds every
	// group.
	var kinds []UnitKind
	var counts []int
	ki := make([]int, len(items))
	for i, it := range items {
		k := kind(it)
		j := slices.Index(kinds, k)
		if j < 0 {
			j = len(kinds)
			kinds, counts = append(kinds, k), append(counts, 0)
		}
		ki[i] = j
		counts[j]++
	}
	out := make([][]int, len(kinds))
	all := make([]int, 0, len(items))
	for j, n := range counts {
		out[j] = all[len(all) : len(all) : len(all)+n]
		all = all[:len(all)+n]
	}
	for i, j := range ki {
		out[j] = append(out[j], i)
	}
	return out
}

// byKindOrder sorts groups of one kind each (groupByKind) by kind order,
// then kind; kind names the kind of an item of a group.
func byKindOrder(groups [][]int, kind func(int) UnitKind) [][]int {
	slices.SortFunc(groups, func(a, b []int) int {
		ka, kb := kind(a[0]), kind(b[0])
		return cmp.Or(cmp.Compare(kindOrder(ka), kindOrder(kb)), cmp.Compare(ka, kb))
	})
	return groups
}
