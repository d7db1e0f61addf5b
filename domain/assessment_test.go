package domain

import (
	"cmp"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestCompletion(t *testing.T) {
	pol := DefaultPolicy()
	tests := []struct {
		name    string
		targets map[Indicator]float64
		actuals map[Indicator]float64
		overall float64
		counted bool
		per     map[Indicator]float64
	}{
		{"Jiaxing 一(二) 2024 targets: only weighted indicators with a target count (signed_1b 60/80)",
			jiaxing2024, map[Indicator]float64{IndSigned1b: 60, IndSigned5b: 15, IndSigned10b: 2, IndFortune500Projects: 30},
			0.75, true, map[Indicator]float64{IndSigned1b: 0.75, IndSigned5b: 1, IndSigned10b: 0.4, IndFortune500Projects: 1.2, IndSignedUSD100m: 0}},
		{"Suzhou 一 county targets: weights 20 and 30 rescaled to 100",
			suzhouCounty, map[Indicator]float64{IndSigned100m: 24, IndSigned1b: 3},
			(20*0.8 + 30*1.0) / 50, true, nil},
		{"DOMAIN completion_cap 1.2: over-achievement capped",
			suzhouCounty, map[Indicator]float64{IndSigned100m: 90, IndSigned1b: 3},
			(20*1.2 + 30*1.0) / 50, true, map[Indicator]float64{IndSigned100m: 1.2, IndSigned1b: 1}},
		{"no target with a weight: completion undefined",
			map[Indicator]float64{IndFortune500Projects: 5}, map[Indicator]float64{IndFortune500Projects: 5}, 0, false, nil},
		{"negative actual (net amendment cut) counts zero",
			map[Indicator]float64{IndContractInvestment: 1e9}, map[Indicator]float64{IndContractInvestment: -5e8}, 0, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			per, overall, counted := Completion(tt.targets, tt.actuals, pol.AssessmentWeights, pol.CompletionCap)
			if !near(overall, tt.overall) || counted != tt.counted {
				t.Fatalf("overall %v counted %v, want %v %v", overall, counted, tt.overall, tt.counted)
			}
			for k, v := range tt.per {
				if !near(per[k], v) {
					t.Fatalf("%s completion %v, want %v", k, per[k], v)
				}
			}
		})
	}
}

func TestRating(t *testing.T) {
	pol := DefaultPolicy()
	tests := []struct {
		name    string
		score   float64
		overall float64
		rating  Rating
		capped  bool
	}{
		{"bands: 90 is excellent", 90, 0.9, RatingExcellent, false},
		{"bands: 89.99 is good", 89.99, 0.9, RatingGood, false},
		{"bands: 75 is good", 75, 0.75, RatingGood, false},
		{"bands: 60 is pass", 60, 0.6, RatingPass, false},
		{"bands: below 60 fails", 59.9, 0.6, RatingFail, false},
		{"Jiaxing 三(一) 70% rule: completion 69% is never excellent", 95, 0.69, RatingGood, true},
		{"Jiaxing 三(一) 70% rule: completion exactly 70% may be excellent", 95, 0.70, RatingExcellent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, capped := RatingOf(tt.score, tt.overall, pol)
			if r != tt.rating || capped != tt.capped {
				t.Fatalf("%s %v", r, capped)
			}
		})
	}
}

func TestAssess(t *testing.T) {
	pol := DefaultPolicy()
	target := map[Indicator]float64{IndSigned1b: 10}
	in := []AssessmentInput{
		// Jiaxing 三(一): 65% completion + 30 bonus = 95 → would be excellent, capped to good.
		{Unit: "nanhu", Kind: UnitCounty, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 6.5}, Bonus: 30},
		{Unit: "xiuzhou", Kind: UnitCounty, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 12}},
		{Unit: "haiyan", Kind: UnitCounty, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 5}, Deductions: 5},
		{Unit: "pinghu", Kind: UnitCounty, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 5}, Deductions: 5},
		{Unit: "jxetdz", Kind: UnitPark, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 1}},
	}
	res := Assess(in, pol)
	by := map[UnitCode]AssessmentResult{}
	for _, r := range res {
		by[r.Unit] = r
	}
	nh := by["nanhu"]
	if !near(nh.Score, 95) || nh.Rating != RatingGood || !slices.Contains(nh.Flags, FlagExcellentCapped) {
		t.Fatalf("Jiaxing 三(一) 70%% rule: %+v", nh)
	}
	xz := by["xiuzhou"]
	if !near(xz.Score, 120) || xz.Rating != RatingExcellent || xz.Rank != 1 || xz.MissedTargets {
		t.Fatalf("xiuzhou %+v", xz)
	}
	// score = Σ weight × completion + bonus − deductions: 50 − 5
	hy, ph := by["haiyan"], by["pinghu"]
	if !near(hy.Score, 45) || hy.Rating != RatingFail || !hy.MissedTargets {
		t.Fatalf("haiyan %+v", hy)
	}
	if hy.Rank != 3 || ph.Rank != 3 || !hy.Last || !ph.Last {
		t.Fatalf("ties share the last rank: %+v %+v", hy, ph)
	}
	// A park is ranked among parks only; alone in its group it is not "last".
	if p := by["jxetdz"]; p.Rank != 1 || p.Last {
		t.Fatalf("park %+v", p)
	}
	if res[0].Unit != "xiuzhou" || res[len(res)-1].Kind != UnitPark {
		t.Fatalf("order %v", res)
	}
}

func TestAdmonish(t *testing.T) {
	pol := DefaultPolicy()
	mk := func(year int, lastUnit UnitCode, missed ...UnitCode) []AssessmentResult {
		var out []AssessmentResult
		for _, u := range []UnitCode{"nanhu", "xiuzhou", "haiyan"} {
			out = append(out, AssessmentResult{Unit: u, Kind: UnitCounty, Last: u == lastUnit,
				MissedTargets: slices.Contains(missed, u), Flags: []string{}})
		}
		return out
	}
	history := map[int][]AssessmentResult{
		2022: mk(2022, "xiuzhou", "nanhu"),
		2023: mk(2023, "haiyan", "nanhu"),
		2024: mk(2024, "haiyan", "nanhu"),
	}
	got := FlagAdmonishments(history, 2024, pol)
	flags := map[UnitCode][]string{}
	for _, r := range got {
		flags[r.Unit] = r.AdmonishReasons
	}
	tests := []struct {
		name string
		unit UnitCode
		want []string
	}{
		{"Jiaxing 三(一): last two years running is admonished", "haiyan", []string{"last_in_group"}},
		{"Jiaxing 三(一): missing targets two years running is admonished", "nanhu", []string{"missed_targets"}},
		{"Jiaxing 三(一): last once (2022) is not", "xiuzhou", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(flags[tt.unit], tt.want) {
				t.Fatalf("%s: %v", tt.unit, flags[tt.unit])
			}
		})
	}
	for _, r := range got {
		if (r.AdmonishReasons != nil) != slices.Contains(r.Flags, FlagAdmonish) {
			t.Fatalf("flag and reasons disagree: %+v", r)
		}
	}
	if slices.Contains(history[2024][0].Flags, FlagAdmonish) {
		t.Fatal("FlagAdmonishments must not modify its input")
	}
	// A missing year breaks the run.
	delete(history, 2023)
	for _, r := range FlagAdmonishments(history, 2024, pol) {
		if r.AdmonishReasons != nil {
			t.Fatalf("no 2023 result, still admonished: %+v", r)
		}
	}
}

func TestAssessmentYear(t *testing.T) {
	var a AssessmentYear
	decide := func(c AssessmentCommand, when time.Time) ([]Event, error) {
		evs, err := a.Decide(c, when)
		for _, e := range evs {
			a.Apply(e)
		}
		return evs, err
	}
	evs, err := decide(AwardBonus{Year: 2024, Unit: "nanhu", Points: 3, Reason: "引进世界500强总部"}, now)
	if err != nil || evs[0].EventType() != TypeBonusAwarded {
		t.Fatalf("Jiaxing 三(一) 予以加分: %v %v", evs, err)
	}
	evs, err = decide(AwardBonus{Year: 2024, Unit: "nanhu", Points: -2, Reason: "弄虚作假"}, now)
	if err != nil || evs[0].(DeductionRecorded).Points != 2 {
		t.Fatalf("DOMAIN: negative points are a deduction: %v %v", evs, err)
	}
	if a.BonusOf("nanhu") != 3 || a.DeductionsOf("nanhu") != 2 {
		t.Fatal("sums")
	}
	for _, bad := range []struct {
		cmd   AwardBonus
		field string
	}{
		{AwardBonus{Year: 2024, Unit: "nanhu", Points: 0, Reason: "x"}, "points"},
		{AwardBonus{Year: 2024, Unit: "nanhu", Points: math.NaN(), Reason: "x"}, "points"},
		{AwardBonus{Year: 2024, Unit: "nanhu", Points: 1}, "reason"},
		{AwardBonus{Year: 2024, Unit: "", Points: 1, Reason: "x"}, "unit"},
		{AwardBonus{Year: 2023, Unit: "nanhu", Points: 1, Reason: "x"}, "year"},
	} {
		_, err := a.Decide(bad.cmd, now)
		wantErr(t, err, ErrValidation, bad.field)
	}
	pub := PublishAssessment{Year: 2024, PolicyVersion: 1, Position: "4711"}
	if _, err := decide(pub, now); !errors.Is(err, ErrValidation) {
		t.Fatalf("publishing before the year ends: %v", err)
	}
	jan := at("2025-01-10T09:00:00+08:00")
	if _, err := decide(PublishAssessment{Year: 2024, PolicyVersion: 1}, jan); !errors.Is(err, ErrValidation) {
		t.Fatal("position required")
	}
	if _, err := decide(pub, jan); err != nil {
		t.Fatal(err)
	}
	if p, ok := a.Published(); !ok || p.Position != "4711" {
		t.Fatal("publication not folded")
	}
	if _, err := decide(pub, jan); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("DOMAIN: published once: %v", err)
	}
	if _, err := decide(AwardBonus{Year: 2024, Unit: "nanhu", Points: 1, Reason: "x"}, jan); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("DOMAIN: a published year is frozen: %v", err)
	}
}

func TestRanking(t *testing.T) {
	w := DefaultPolicy().RankingWeights
	tests := []struct {
		name   string
		inputs []RankingInput
		ranks  map[UnitCode]int
		scores map[UnitCode]float64
	}{
		{"DOMAIN Ranking: best on every indicator scores 100",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 4, IndSigned100m: 10, IndContractInvestment: 8e9, IndFundsArrived: 2e9, IndStartedProjects: 3}},
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2, IndSigned100m: 5, IndContractInvestment: 4e9, IndFundsArrived: 1e9, IndStartedProjects: 0}},
			},
			map[UnitCode]int{"a": 1, "b": 2}, map[UnitCode]float64{"a": 100, "b": 45}},
		{"DOMAIN Ranking: an indicator nobody scored on counts zero for all",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}},
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{}},
			},
			map[UnitCode]int{"a": 1, "b": 2}, map[UnitCode]float64{"a": 30, "b": 0}},
		{"DOMAIN Ranking: nobody scored → 0 for all, all rank 1",
			[]RankingInput{{Unit: "a", Kind: UnitCounty}, {Unit: "b", Kind: UnitCounty}},
			map[UnitCode]int{"a": 1, "b": 1}, map[UnitCode]float64{"a": 0, "b": 0}},
		{"DOMAIN Ranking: ties share a rank (1, 1, 3)",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2}},
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2}},
				{Unit: "c", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}},
			},
			map[UnitCode]int{"a": 1, "b": 1, "c": 3}, map[UnitCode]float64{"a": 30, "b": 30, "c": 15}},
		{"Suzhou 一: counties and parks are ranked apart",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 10}},
				{Unit: "p", Kind: UnitPark, Values: map[Indicator]float64{IndSigned1b: 1}},
			},
			map[UnitCode]int{"a": 1, "p": 1}, map[UnitCode]float64{"a": 30, "p": 30}},
		{"DOMAIN Ranking: a negative value counts zero",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndContractInvestment: 1e9}},
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndContractInvestment: -1e9}},
			},
			map[UnitCode]int{"a": 1, "b": 2}, map[UnitCode]float64{"a": 20, "b": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, it := range Rank(tt.inputs, w) {
				if it.Rank != tt.ranks[it.Unit] || !near(it.Score, tt.scores[it.Unit]) {
					t.Fatalf("%s: rank %d score %v", it.Unit, it.Rank, it.Score)
				}
			}
		})
	}
	cur := Rank([]RankingInput{{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2}},
		{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}},
		{Unit: "c", Kind: UnitCounty}}, w)
	prev := Rank([]RankingInput{{Unit: "a", Kind: UnitCounty}, {Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}}}, w)
	for _, it := range WithChanges(cur, prev) {
		switch it.Unit {
		case "a":
			if it.Change == nil || *it.Change != 1 {
				t.Fatalf("比学赶超: a moved 2→1: %v", it.Change)
			}
		case "b":
			if it.Change == nil || *it.Change != -1 {
				t.Fatalf("b moved 1→2: %v", it.Change)
			}
		case "c":
			if it.Change != nil {
				t.Fatal("c was not ranked before: change is null")
			}
		}
	}
	if !slices.Equal(CompetitionRanks([]float64{5, 7, 7, 1}), []int{3, 1, 1, 4}) {
		t.Fatal(CompetitionRanks([]float64{5, 7, 7, 1}))
	}
}

// assessByMaps is the assessment rule written plainly over maps, per unit:
// the reference AssessRows (and Assess through it) must match exactly.
func assessByMaps(inputs []AssessmentInput, pol Policy) []AssessmentResult {
	out := make([]AssessmentResult, 0, len(inputs))
	for _, in := range inputs {
		per := map[Indicator]float64{}
		var wsum, acc float64
		for _, ind := range slices.Sorted(maps.Keys(in.Targets)) {
			tg := in.Targets[ind]
			if !(tg > 0) || !finite(tg) {
				continue
			}
			c := in.Actuals[ind] / tg
			if !finite(c) || c < 0 {
				c = 0
			}
			c = math.Min(c, pol.CompletionCap)
			per[ind] = round6(c)
			if w := pol.AssessmentWeights[ind]; w > 0 {
				wsum += float64(w)
				acc += float64(w) * c
			}
		}
		overall, counted := 0.0, wsum != 0
		if counted {
			overall = round6(acc / wsum)
		}
		score := round6(100*overall + in.Bonus - in.Deductions)
		rating, capped := RatingOf(score, overall, pol)
		r := AssessmentResult{Unit: in.Unit, Kind: in.Kind, Score: score, Rating: rating, Completion: per, Overall: overall,
			HasTargets: counted, Bonus: in.Bonus, Deductions: in.Deductions, MissedTargets: counted && overall < 1, Flags: []string{}}
		if capped {
			r.Flags = append(r.Flags, FlagExcellentCapped)
		}
		if !counted {
			r.Flags = append(r.Flags, FlagNoTargets)
		}
		out = append(out, r)
	}
	for _, group := range groupByKind(out, func(r AssessmentResult) UnitKind { return r.Kind }) {
		scores := make([]float64, len(group))
		for i, idx := range group {
			scores[i] = out[idx].Score
		}
		ranks := CompetitionRanks(scores)
		worst := slices.Max(ranks)
		for i, idx := range group {
			out[idx].Rank = ranks[i]
			out[idx].Last = len(group) >= 2 && ranks[i] > 1 && ranks[i] == worst
		}
	}
	slices.SortStableFunc(out, func(a, b AssessmentResult) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Unit, b.Unit))
	})
	return out
}

// sameBits compares results exactly (every float by its bits, nil and empty
// told apart, as encoding them would).
func sameBits(t *testing.T, got, want []AssessmentResult) {
	t.Helper()
	bits := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Unit != w.Unit || g.Kind != w.Kind || !bits(g.Score, w.Score) || g.Rating != w.Rating ||
			!bits(g.Overall, w.Overall) || g.HasTargets != w.HasTargets || !bits(g.Bonus, w.Bonus) ||
			!bits(g.Deductions, w.Deductions) || g.Rank != w.Rank || g.Last != w.Last || g.MissedTargets != w.MissedTargets ||
			!maps.EqualFunc(g.Completion, w.Completion, bits) || !slices.Equal(g.Flags, w.Flags) || (g.Flags == nil) != (w.Flags == nil) ||
			!slices.Equal(g.AdmonishReasons, w.AdmonishReasons) || (g.AdmonishReasons == nil) != (w.AdmonishReasons == nil) {
			t.Fatalf("result %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}

func randomAssessmentInputs(r *rand.Rand) []AssessmentInput {
	kinds := UnitKinds()
	inputs := make([]AssessmentInput, r.IntN(30))
	for i := range inputs {
		tg, act := map[Indicator]float64{}, map[Indicator]float64{}
		for _, ind := range Indicators() {
			if r.IntN(2) == 0 {
				tg[ind] = []float64{0, -1, 1, 5, 80, math.NaN()}[r.IntN(6)]
			}
			if r.IntN(2) == 0 {
				act[ind] = []float64{0, -2, 1, 4, 3.3, 120, math.Inf(1)}[r.IntN(7)]
			}
		}
		if r.IntN(5) == 0 {
			tg = nil
		}
		inputs[i] = AssessmentInput{Unit: UnitCode(rune('a' + r.IntN(15))), Kind: kinds[r.IntN(len(kinds))], Targets: tg,
			Actuals: act, Bonus: float64(r.IntN(3)) * 5, Deductions: float64(r.IntN(2)) * 3}
	}
	return inputs
}

func TestAssessMatchesMapRuleOnRandomInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pol := DefaultPolicy()
	for range 300 {
		in := randomAssessmentInputs(r)
		sameBits(t, Assess(in, pol), assessByMaps(in, pol))
	}
}

// AssessRows is Assess with the actuals as vectors; an indicator without a
// column counts 0, and the targets are only read.
func TestAssessRows(t *testing.T) {
	pol := DefaultPolicy()
	target := map[Indicator]float64{IndSigned1b: 10, IndFundsArrived: 4}
	rows := []AssessmentRow{
		{Unit: "b", Kind: UnitCounty, Targets: target, Actuals: []float64{5}},
		{Unit: "a", Kind: UnitCounty, Targets: target, Actuals: []float64{5}, Bonus: 2},
		{Unit: "p", Kind: UnitPark, Targets: target, Actuals: []float64{20}},
	}
	got := AssessRows(rows, []Indicator{IndSigned1b}, pol)
	want := Assess([]AssessmentInput{
		{Unit: "b", Kind: UnitCounty, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 5}},
		{Unit: "a", Kind: UnitCounty, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 5}, Bonus: 2},
		{Unit: "p", Kind: UnitPark, Targets: target, Actuals: map[Indicator]float64{IndSigned1b: 20}},
	}, pol)
	sameBits(t, got, want)
	if got[0].Unit != "a" || got[1].Unit != "b" || got[2].Unit != "p" || got[0].Completion[IndFundsArrived] != 0 {
		t.Fatalf("%+v", got)
	}
	if len(target) != 2 || target[IndSigned1b] != 10 {
		t.Fatalf("targets changed: %v", target)
	}
}

// flagByScan is the admonishment rule written plainly (each year scanned
// for the unit): the reference for FlagAdmonishments and its in-place form.
func flagByScan(history map[int][]AssessmentResult, year int, pol Policy) []AssessmentResult {
	n := max(pol.AdmonishAfterYears, 1)
	cur := cloneResults(history[year])
	for i := range cur {
		lastRun, missRun := true, true
		for k := range n {
			j := slices.IndexFunc(history[year-k], func(r AssessmentResult) bool { return r.Unit == cur[i].Unit })
			if j < 0 {
				lastRun, missRun = false, false
				break
			}
			r := history[year-k][j]
			lastRun, missRun = lastRun && r.Last, missRun && r.MissedTargets
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

func TestFlagAdmonishmentsMatchScanOnRandomHistories(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		pol := DefaultPolicy()
		pol.AdmonishAfterYears = r.IntN(4)
		history := map[int][]AssessmentResult{}
		for y := 2020; y <= 2024; y++ {
			if r.IntN(6) == 0 {
				continue // a year without results breaks runs
			}
			rs := make([]AssessmentResult, r.IntN(12))
			for i := range rs {
				// Units may repeat within a year: the first counts.
				rs[i] = AssessmentResult{Unit: UnitCode(rune('a' + r.IntN(8))), Kind: UnitCounty, Last: r.IntN(2) == 0,
					MissedTargets: r.IntN(2) == 0, Flags: []string{}}
				if r.IntN(4) == 0 {
					rs[i].Flags = append(rs[i].Flags, FlagAdmonish)
				}
			}
			history[y] = rs
		}
		want := flagByScan(history, 2024, pol)
		before := cloneResults(history[2024])
		sameBits(t, FlagAdmonishments(history, 2024, pol), want)
		sameBits(t, history[2024], before) // FlagAdmonishments leaves its input alone
		got := FlagAdmonishmentsInPlace(history, 2024, pol)
		sameBits(t, got, want)
		if len(got) > 0 && &got[0] != &history[2024][0] {
			t.Fatal("FlagAdmonishmentsInPlace copied the results")
		}
	}
	if got := FlagAdmonishments(nil, 2024, DefaultPolicy()); got != nil {
		t.Fatalf("no history: %v", got)
	}
}

func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100 {
		n := r.IntN(20)
		perm := r.Perm(n)
		s := make([]int, n)
		for i := range s {
			s[i] = i * 10
		}
		permute(s, slices.Clone(perm))
		for i := range s {
			if s[i] != perm[i]*10 {
				t.Fatalf("perm %v: %v", perm, s)
			}
		}
	}
}
