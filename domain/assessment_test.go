package domain

import (
	"errors"
	"math"
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
