package projections

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/zhaoshang/zhaoshang/domain"
)

// jiaxingTargets are the Jiaxing 2024 targets (嘉兴市进一步推动招大引强工作
// 实施方案 一(二)): 80 projects ≥ ¥10亿, 15 ≥ ¥50亿, 5 ≥ ¥100亿, 25
// Fortune-500 projects, 50 projects above US$1亿.
var jiaxingTargets = map[domain.Indicator]float64{
	domain.IndSigned1b: 80, domain.IndSigned5b: 15, domain.IndSigned10b: 5,
	domain.IndFortune500Projects: 25, domain.IndSignedUSD100m: 50,
}

// jiaxingPolicy weighs exactly the Jiaxing indicators.
func jiaxingPolicy() domain.Policy {
	p := domain.DefaultPolicy()
	p.Version = 1
	p.AssessmentWeights = map[domain.Indicator]int{
		domain.IndSigned1b: 30, domain.IndSigned5b: 20, domain.IndSigned10b: 15,
		domain.IndFortune500Projects: 15, domain.IndSignedUSD100m: 20,
	}
	return p
}

// portfolio is what a unit signs in a year.
type portfolio struct {
	usd2      int // US$2亿 projects: usd100m and ≥ ¥10亿 at 7.1
	cny20     int // ¥20亿: ≥ ¥10亿
	cny60     int // ¥60亿: ≥ ¥10亿 and ≥ ¥50亿
	cny120    int // ¥120亿: every tier
	fortune   int // of the above, this many Fortune Global 500 investors
	bonus     float64
	deduction float64
}

func (l *ledger) signPortfolio(n *int, unit string, year int, p portfolio) {
	sign := func(k int, m domain.Money) {
		for range k {
			*n++
			var opts []projOpt
			if p.fortune > 0 {
				opts = append(opts, withCats(domain.CategoryFortuneGlobal500))
				p.fortune--
			}
			at := day("2024-03-01").AddDate(year-2024, 0, *n%200)
			id := l.report(*n, unit, m, at.AddDate(0, 0, -30), opts...)
			l.sign(id, unit, m, at, domain.Commitments{})
		}
	}
	sign(p.usd2, domain.Dollars(200_000_000))
	sign(p.cny20, yuan(20))
	sign(p.cny60, yuan(60))
	sign(p.cny120, yuan(120))
	if p.bonus != 0 {
		l.add(domain.AssessmentStream(year), domain.BonusAwarded{Year: year, Unit: domain.UnitCode(unit), Points: p.bonus, Reason: "加分", OccurredAt: day("2024-12-20").AddDate(year-2024, 0, 0)})
	}
	if p.deduction != 0 {
		l.add(domain.AssessmentStream(year), domain.DeductionRecorded{Year: year, Unit: domain.UnitCode(unit), Points: p.deduction, Reason: "弄虚作假", OccurredAt: day("2024-12-21").AddDate(year-2024, 0, 0)})
	}
}

func completion(p portfolio) (per map[domain.Indicator]float64, overall float64) {
	actual := map[domain.Indicator]float64{
		domain.IndSigned1b:           float64(p.usd2 + p.cny20 + p.cny60 + p.cny120),
		domain.IndSigned5b:           float64(p.cny60 + p.cny120),
		domain.IndSigned10b:          float64(p.cny120),
		domain.IndFortune500Projects: float64(p.fortune),
		domain.IndSignedUSD100m:      float64(p.usd2),
	}
	w := jiaxingPolicy().AssessmentWeights
	per = map[domain.Indicator]float64{}
	var acc float64
	for ind, target := range jiaxingTargets {
		c := math.Min(actual[ind]/target, 1.2)
		per[ind] = c
		acc += float64(w[ind]) * c
	}
	return per, acc / 100
}

// Jiaxing 2024 三(一): completion per indicator (capped), weighted score plus
// bonus minus deductions, rating bands 90/75/60, and a unit whose completion
// is under 70% is never excellent, whatever its bonus.
func TestAssessmentJiaxing2024(t *testing.T) {
	rows := []struct {
		unit, clause string
		p            portfolio
		rating       domain.Rating
		flags        []string
	}{
		{"JX1", "every target met: excellent", portfolio{usd2: 50, cny20: 15, cny60: 10, cny120: 5, fortune: 25}, domain.RatingExcellent, nil},
		{"JX2", "三(一) 完成率低于70%的不得评定为优秀: 65% + 30 bonus scores 95 but is good",
			portfolio{usd2: 33, cny20: 10, cny60: 6, cny120: 3, fortune: 16, bonus: 30}, domain.RatingGood, []string{domain.FlagExcellentCapped}},
		{"JX3", "80% + 12 bonus: excellent (completion ≥ 70%)", portfolio{usd2: 40, cny20: 12, cny60: 8, cny120: 4, fortune: 20, bonus: 12}, domain.RatingExcellent, nil},
		{"JX4", "over-achievement is capped at completion_cap 1.2", portfolio{usd2: 90, cny20: 20, cny60: 20, cny120: 10, fortune: 40}, domain.RatingExcellent, nil},
		{"JX5", "40%: fail; deduction for falsification (弄虚作假)", portfolio{usd2: 20, cny20: 6, cny60: 4, cny120: 2, fortune: 10, deduction: 5}, domain.RatingFail, nil},
	}
	l := newLedger(t)
	l.policy(jiaxingPolicy(), day("2024-01-02"))
	n := 0
	for _, r := range rows {
		l.unit(r.unit, "嘉兴"+r.unit, domain.UnitCounty)
		l.targets(2024, r.unit, jiaxingTargets)
		l.signPortfolio(&n, r.unit, 2024, r.p)
	}
	v := l.views()
	res, err := v.Assessment(AssessmentQuery{Year: 2024, Kind: domain.UnitCounty})
	if err != nil {
		t.Fatal(err)
	}
	if res.PolicyVersion != 1 || res.Published {
		t.Errorf("policy version %d published %v", res.PolicyVersion, res.Published)
	}
	for _, r := range rows {
		t.Run(r.unit+" "+r.clause, func(t *testing.T) {
			var it *AssessmentItem
			for i := range res.Items {
				if res.Items[i].Unit == domain.UnitCode(r.unit) {
					it = &res.Items[i]
				}
			}
			if it == nil {
				t.Fatal("no result")
			}
			per, overall := completion(r.p)
			for ind, want := range per {
				if got := it.Completion[string(ind)]; math.Abs(got-want) > 1e-6 {
					t.Errorf("completion %s = %v, want %v", ind, got, want)
				}
			}
			if math.Abs(it.Completion["overall"]-overall) > 1e-6 {
				t.Errorf("overall %v, want %v", it.Completion["overall"], overall)
			}
			if want := 100*overall + r.p.bonus - r.p.deduction; math.Abs(it.Score-want) > 1e-5 {
				t.Errorf("score %v, want %v", it.Score, want)
			}
			if it.Rating != r.rating {
				t.Errorf("rating %s, want %s", it.Rating, r.rating)
			}
			for _, f := range r.flags {
				if !slices.Contains(it.Flags, f) {
					t.Errorf("flags %v lack %s", it.Flags, f)
				}
			}
			if r.rating == domain.RatingExcellent && slices.Contains(it.Flags, domain.FlagExcellentCapped) {
				t.Errorf("excellent and capped: %v", it.Flags)
			}
		})
	}
}

// 三(一) 连续两年排名全市末位的或连续两年未完成目标任务的 → 提醒谈话: missing
// targets two years running flags admonish; one year does not. A published
// year is frozen: a later correction shows as a difference beside it.
func TestAssessmentAdmonishAndPublishedFrozen(t *testing.T) {
	l := newLedger(t)
	l.policy(jiaxingPolicy(), day("2023-01-02"))
	n := 0
	full := portfolio{usd2: 50, cny20: 15, cny60: 10, cny120: 5, fortune: 25}
	weak := portfolio{usd2: 30, cny20: 8, cny60: 5, cny120: 2, fortune: 10}
	for _, u := range []string{"A", "B", "C"} {
		l.unit(u, "县"+u, domain.UnitCounty)
		for _, y := range []int{2023, 2024} {
			l.targets(y, u, jiaxingTargets)
		}
	}
	l.signPortfolio(&n, "A", 2023, full)
	l.signPortfolio(&n, "A", 2024, full)
	l.signPortfolio(&n, "B", 2023, weak) // missed 2023 …
	l.signPortfolio(&n, "B", 2024, weak) // … and 2024: admonish
	l.signPortfolio(&n, "C", 2023, weak) // missed 2023 only
	l.signPortfolio(&n, "C", 2024, full)
	l.add(domain.AssessmentStream(2023), domain.AssessmentPublished{Year: 2023, PolicyVersion: 1, OccurredAt: day("2024-01-20")})
	v := l.views()

	res, err := v.Assessment(AssessmentQuery{Year: 2024})
	if err != nil {
		t.Fatal(err)
	}
	flags := map[domain.UnitCode][]string{}
	for _, it := range res.Items {
		flags[it.Unit] = it.Flags
	}
	if !slices.Contains(flags["B"], domain.FlagAdmonish) {
		t.Errorf("B missed its targets in 2023 and 2024 but is not admonished: %v", flags["B"])
	}
	for _, u := range []domain.UnitCode{"A", "C"} {
		if slices.Contains(flags[u], domain.FlagAdmonish) {
			t.Errorf("%s admonished: %v", u, flags[u])
		}
	}

	pub, err := v.Assessment(AssessmentQuery{Year: 2023})
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Published || pub.Current == nil || len(pub.Differences) != 0 {
		t.Fatalf("2023 published %v current %v differences %v", pub.Published, pub.Current != nil, pub.Differences)
	}
	frozen := pub.Items

	// A correction after publication: one of A's 2023 investors was a
	// Fortune Global 500 company after all (the 26th).
	var target string
	for _, en := range v.proj.bySeq {
		s := en.p.Snapshot()
		if s.Unit == "A" && s.SignedAt.Year() == 2023 && len(s.Investor.Categories) == 0 {
			target = s.ID
			break
		}
	}
	l.correct(target, domain.FieldInvestorCategories, []domain.Category{}, []domain.Category{domain.CategoryFortuneGlobal500}, day("2024-02-01"))
	l.signPortfolio(&n, "B", 2023, portfolio{cny20: 10}) // facts of 2023 recorded late
	v = l.views()
	pub, err = v.Assessment(AssessmentQuery{Year: 2023})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(pub.Items, frozen, func(a, b AssessmentItem) bool { return a.Unit == b.Unit && a.Score == b.Score && a.Rating == b.Rating }) {
		t.Error("the published 2023 result changed after publication")
	}
	units := map[domain.UnitCode][]string{}
	for _, d := range pub.Differences {
		units[d.Unit] = d.Fields
	}
	if len(units["B"]) == 0 {
		t.Errorf("B's late 2023 signings do not show as a difference: %+v", pub.Differences)
	}
	if pub.Current.Position == pub.Position {
		t.Errorf("current and published positions are both %s", pub.Position)
	}
}

// A published year's table is kept between queries (it never changes), but
// it names the units as they are now: a renaming shows at once, and what a
// caller does to an answer never reaches the next one.
func TestAssessmentPublishedNamesFollowUnits(t *testing.T) {
	l := newLedger(t)
	l.policy(jiaxingPolicy(), day("2023-01-02"))
	n := 0
	for _, u := range []string{"A", "B"} {
		l.unit(u, "县"+u, domain.UnitCounty)
		l.targets(2023, u, jiaxingTargets)
	}
	l.unit("P", "园P", domain.UnitPark)
	l.signPortfolio(&n, "A", 2023, portfolio{cny20: 3})
	l.signPortfolio(&n, "B", 2023, portfolio{cny20: 1})
	l.add(domain.AssessmentStream(2023), domain.AssessmentPublished{Year: 2023, PolicyVersion: 1, OccurredAt: day("2024-01-20")})
	v := l.views()
	names := func(kind domain.UnitKind) map[domain.UnitCode]string {
		t.Helper()
		res, err := v.Assessment(AssessmentQuery{Year: 2023, Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Published {
			t.Fatal("2023 not published")
		}
		out := map[domain.UnitCode]string{}
		for _, it := range res.Items {
			out[it.Unit] = it.UnitName
		}
		// A caller's changes stay its own.
		for i := range res.Items {
			res.Items[i].UnitName = "changed"
			res.Items[i].Completion["overall"] = -1
			res.Items[i].Flags = append(res.Items[i].Flags, "changed")
		}
		return out
	}
	if got := names(""); got["A"] != "县A" || got["B"] != "县B" || got["P"] != "园P" {
		t.Fatalf("names %v", got)
	}
	if got := names(domain.UnitCounty); len(got) != 2 || got["A"] != "县A" {
		t.Fatalf("county names %v", got)
	}
	// The same answer again (from the kept table, at a new position).
	l.signPortfolio(&n, "A", 2024, portfolio{cny20: 1})
	if err := v.Feed(context.Background(), l.evs, 1); err != nil {
		t.Fatal(err)
	}
	res, err := v.Assessment(AssessmentQuery{Year: 2023})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		if it.UnitName == "changed" || it.Completion["overall"] < 0 || slices.Contains(it.Flags, "changed") {
			t.Fatalf("a caller's change reached a later answer: %+v", it)
		}
	}
	l.add(domain.StreamUnits, domain.UnitUpdated{Code: "A", Name: "南湖区", Kind: domain.UnitCounty, OccurredAt: day("2024-02-01")})
	if err := v.Feed(context.Background(), l.evs, 1); err != nil {
		t.Fatal(err)
	}
	if got := names(""); got["A"] != "南湖区" || got["B"] != "县B" {
		t.Errorf("after renaming A: %v", got)
	}
	if got := names(domain.UnitCounty); got["A"] != "南湖区" {
		t.Errorf("after renaming A (counties): %v", got)
	}
	// Readers share the kept table (go test -race).
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			kind := []domain.UnitKind{"", domain.UnitCounty, domain.UnitPark}[i%3]
			if res, err := v.Assessment(AssessmentQuery{Year: 2023, Kind: kind}); err != nil || len(res.Items) == 0 {
				t.Errorf("%s: %v, %d items", kind, err, len(res.Items))
			}
		})
	}
	wg.Wait()
}

// TestUnitSetUpLater: a park established on 1 March 2024 takes no part in
// 2023's ranking or assessment, so it is not "last in its group two years
// running" in 2024 (DOMAIN.md "Assessment"). A unit registered in 2024
// without a founding date took part from the start: its imported 2023
// 台账 counts, and so does 2023 for a unit with nothing in it.
func TestUnitSetUpLater(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	for _, y := range []int{2023, 2024} {
		for _, u := range []string{"A", "B", "C"} {
			l.targets(y, u, map[domain.Indicator]float64{domain.IndSigned1b: 1})
		}
	}
	a := l.report(1, "A", yuan(20), day("2023-01-05"))
	l.sign(a, "A", yuan(20), day("2023-02-10"), domain.Commitments{})
	b := l.report(2, "B", yuan(5), day("2023-01-05"))
	l.sign(b, "B", yuan(5), day("2023-02-10"), domain.Commitments{})
	l.add(domain.StreamUnits, domain.UnitRegistered{Code: "C", Name: "新设园区", Kind: domain.UnitCounty,
		EstablishedOn: domain.NewDate(2024, 3, 1), OccurredAt: day("2024-03-01")})
	// D and E are entered in the ledger in 2024 too, with no founding date:
	// D's 台账 imported from 2023 credits it with a signing then; E has
	// nothing in 2023.
	l.add(domain.StreamUnits, domain.UnitRegistered{Code: "D", Name: "南湖高新区", Kind: domain.UnitCounty, OccurredAt: day("2024-03-01")})
	l.add(domain.StreamUnits, domain.UnitRegistered{Code: "E", Name: "海盐县", Kind: domain.UnitCounty, OccurredAt: day("2024-03-01")})
	d := l.report(5, "D", yuan(3), day("2023-05-05"))
	l.sign(d, "D", yuan(3), day("2023-06-10"), domain.Commitments{})
	a2 := l.report(3, "A", yuan(20), day("2024-03-05"))
	l.sign(a2, "A", yuan(20), day("2024-04-10"), domain.Commitments{})
	b2 := l.report(4, "B", yuan(5), day("2024-03-05"))
	l.sign(b2, "B", yuan(5), day("2024-04-10"), domain.Commitments{})
	v := l.views()

	units := func(period string) []domain.UnitCode {
		var out []domain.UnitCode
		for _, it := range mustRank(t, v, RankingQuery{Period: period, Kind: domain.UnitCounty}).Items {
			out = append(out, it.Unit)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		period string
		want   []domain.UnitCode
	}{
		{"2023", []domain.UnitCode{"A", "B", "D", "E"}},
		{"2024-02", []domain.UnitCode{"A", "B", "D", "E"}},
		{"2024-03", []domain.UnitCode{"A", "B", "C", "D", "E"}},
		{"2024-Q1", []domain.UnitCode{"A", "B", "C", "D", "E"}},
		{"2024", []domain.UnitCode{"A", "B", "C", "D", "E"}},
	} {
		if got := units(tc.period); !slices.Equal(got, tc.want) {
			t.Errorf("ranking %s ranks %v, want %v", tc.period, got, tc.want)
		}
	}
	res, err := v.Assessment(AssessmentQuery{Year: 2024, Kind: domain.UnitCounty})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		if it.Unit == "C" && slices.Contains(it.Flags, domain.FlagAdmonish) {
			t.Errorf("C, set up in 2024, is admonished for 2023: %+v", it)
		}
	}
	res, err = v.Assessment(AssessmentQuery{Year: 2023, Kind: domain.UnitCounty})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		if it.Unit == "C" {
			t.Errorf("C is assessed for 2023, before it existed: %+v", it)
		}
	}
}
