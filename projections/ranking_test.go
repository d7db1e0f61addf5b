package projections

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

func rankItem(t *testing.T, r RankingResult, unit string) RankingItem {
	t.Helper()
	for _, it := range r.Items {
		if it.Unit == domain.UnitCode(unit) {
			return it
		}
	}
	t.Fatalf("unit %s not ranked in %s", unit, r.Period)
	return RankingItem{}
}

func mustRank(t *testing.T, v *Views, q RankingQuery) RankingResult {
	t.Helper()
	r, err := v.Ranking(q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// 项目流转 (Jiaxing 2024 二(一)3 同等赋分; Xiamen 三(二)4 适当分享): a project
// reported by A, transferred to B and signed by B credits both units.
func TestRankingTransferCredit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		credit      domain.TransferCredit
		wantA, want float64 // signed_1b credited to A (first) and B (landing)
	}{
		{"Jiaxing 二(一)3 equal: full credit to both", domain.TransferCredit{Mode: domain.CreditEqual, Ratio: 0.5}, 1, 1},
		{"Xiamen 三(二)4 shared 0.6: landing 0.6, first 0.4", domain.TransferCredit{Mode: domain.CreditShared, Ratio: 0.6}, 0.4, 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.unit("A", "南湖区", domain.UnitCounty)
			l.unit("B", "秀洲区", domain.UnitCounty)
			l.unit("C", "嘉善县", domain.UnitCounty)
			pol := domain.DefaultPolicy()
			pol.Version = 1
			pol.TransferCredit = tc.credit
			l.policy(pol, day("2024-01-02"))
			id := l.report(1, "A", yuan(20), day("2024-02-01"))
			l.negotiate(id, day("2024-02-05"))
			l.add(domain.ProjectStream(id), domain.ProjectTransferred{ProjectID: id, FromUnit: "A", ToUnit: "B", Reason: "流转", OccurredAt: day("2024-02-10")})
			l.sign(id, "B", yuan(20), day("2024-03-01"), domain.Commitments{})
			l.funds(id, yuan(5), domain.FundsOutOfProvince, day("2024-04-01"))
			c := l.report(2, "C", yuan(3), day("2024-02-01"))
			l.sign(c, "C", yuan(3), day("2024-03-02"), domain.Commitments{})
			l.targets(2024, "A", map[domain.Indicator]float64{domain.IndSigned1b: 2})
			l.targets(2024, "B", map[domain.Indicator]float64{domain.IndSigned1b: 2})
			v := l.views()

			r := mustRank(t, v, RankingQuery{Period: "2024", Kind: domain.UnitCounty})
			a, b := rankItem(t, r, "A"), rankItem(t, r, "B")
			if a.Indicators[domain.IndSigned1b] != tc.wantA || b.Indicators[domain.IndSigned1b] != tc.want {
				t.Errorf("signed_1b: A %v B %v, want %v %v", a.Indicators[domain.IndSigned1b], b.Indicators[domain.IndSigned1b], tc.wantA, tc.want)
			}
			if got, want := b.Indicators[domain.IndContractInvestment], tc.want*20e8; got != want {
				t.Errorf("B contract_investment %v, want %v", got, want)
			}
			if got, want := a.Indicators[domain.IndOutOfProvinceFunds], tc.wantA*5e8; got != want {
				t.Errorf("A out_of_province_funds %v, want %v", got, want)
			}
			if r.PolicyVersion != 1 {
				t.Errorf("policy version %d, want 1", r.PolicyVersion)
			}
			// The assessment counts the same way: completion of a target of
			// two signed_1b projects is the credited count ÷ 2.
			as, err := v.Assessment(AssessmentQuery{Year: 2024, Kind: domain.UnitCounty})
			if err != nil {
				t.Fatal(err)
			}
			completion := map[domain.UnitCode]float64{}
			for _, it := range as.Items {
				completion[it.Unit] = it.Completion[string(domain.IndSigned1b)]
			}
			if completion["A"] != tc.wantA/2 || completion["B"] != tc.want/2 {
				t.Errorf("signed_1b completion: A %v B %v, want %v %v", completion["A"], completion["B"], tc.wantA/2, tc.want/2)
			}
			// And the domain's own rule agrees.
			assertMatchesDomain(t, v, "2024")
		})
	}
}

// A signing counts once, in its period, by the signed figure; an amendment
// counts its increment in the period it occurred (DOMAIN.md "Ranking").
func TestRankingSigningOnceAmendmentIncrement(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	id := l.report(1, "A", yuan(8), day("2024-01-15"))
	l.sign(id, "A", yuan(8), day("2024-03-20"), domain.Commitments{})
	l.amend(id, yuan(8), yuan(12), day("2024-05-06"))
	l.amend(id, yuan(12), yuan(11), day("2024-08-01"))
	v := l.views()

	for _, tc := range []struct {
		period            string
		signed100m, s1b   float64
		contract, started float64
	}{
		{"2024-Q1", 1, 0, 8e8, 0},
		{"2024-03", 1, 0, 8e8, 0},
		{"2024-Q2", 0, 0, 4e8, 0},
		{"2024-05", 0, 0, 4e8, 0},
		{"2024-W19", 0, 0, 4e8, 0}, // 2024-05-06 is the Monday of ISO week 19
		{"2024-W18", 0, 0, 0, 0},
		{"2024-Q3", 0, 0, -1e8, 0},
		{"2024", 1, 0, 11e8, 0},
		{"2025", 0, 0, 0, 0},
	} {
		it := rankItem(t, mustRank(t, v, RankingQuery{Period: tc.period, Kind: domain.UnitCounty}), "A")
		if it.Indicators[domain.IndSigned100m] != tc.signed100m || it.Indicators[domain.IndSigned1b] != tc.s1b ||
			it.Indicators[domain.IndContractInvestment] != tc.contract {
			t.Errorf("%s: signed_100m %v signed_1b %v contract %v, want %v %v %v", tc.period,
				it.Indicators[domain.IndSigned100m], it.Indicators[domain.IndSigned1b], it.Indicators[domain.IndContractInvestment],
				tc.signed100m, tc.s1b, tc.contract)
		}
	}
	// A second ContractSigned (which the commands refuse) must not count twice.
	l.sign(id, "A", yuan(8), day("2024-03-20"), domain.Commitments{})
	it := rankItem(t, mustRank(t, l.views(), RankingQuery{Period: "2024", Kind: domain.UnitCounty}), "A")
	if it.Indicators[domain.IndSigned100m] != 1 {
		t.Errorf("after a duplicate signing, signed_100m = %v, want 1", it.Indicators[domain.IndSigned100m])
	}
	assertMatchesDomain(t, l.views(), "2024")
}

// Score = Σ weight × value ÷ best; ties share a rank; change is the rank
// change since the previous period, null when that period counted nothing.
func TestRankingScoreTiesAndChange(t *testing.T) {
	l := newLedger(t)
	for _, u := range []string{"A", "B", "C"} {
		l.unit(u, "县"+u, domain.UnitCounty)
	}
	l.unit("P", "开发区", domain.UnitPark)
	n := 0
	signN := func(unit string, k int, amount float64, at string) {
		for range k {
			n++
			id := l.report(n, unit, yuan(amount), day(at).AddDate(0, 0, -20))
			l.sign(id, unit, yuan(amount), day(at), domain.Commitments{})
		}
	}
	signN("A", 1, 2, "2024-02-10") // Q1: A best
	signN("B", 1, 1, "2024-02-11")
	signN("A", 1, 1, "2024-05-10") // Q2: A and B tie, C leads
	signN("B", 1, 1, "2024-05-11")
	signN("C", 2, 15, "2024-05-12")
	signN("P", 1, 50, "2024-05-12") // a park is ranked with parks only
	v := l.views()

	q1 := mustRank(t, v, RankingQuery{Period: "2024-Q1", Kind: domain.UnitCounty})
	if q1.Items[0].Unit != "A" || q1.Items[0].Rank != 1 {
		t.Fatalf("Q1 leader %+v", q1.Items[0])
	}
	for _, it := range q1.Items {
		if it.Change != nil {
			t.Errorf("Q1 %s change %v: 2023-Q4 counted nothing, want null", it.Unit, *it.Change)
		}
	}
	q2 := mustRank(t, v, RankingQuery{Period: "2024-Q2", Kind: domain.UnitCounty})
	c, a, b := rankItem(t, q2, "C"), rankItem(t, q2, "A"), rankItem(t, q2, "B")
	// Nobody started a project or received funds in Q2: those weights
	// (20 + 10) count zero for all, so the best unit scores 70.
	if c.Rank != 1 || c.Score != 70 {
		t.Errorf("C rank %d score %v, want 1 and 70", c.Rank, c.Score)
	}
	if a.Rank != 2 || b.Rank != 2 || a.Score != b.Score {
		t.Errorf("A and B should tie at rank 2: %+v %+v", a, b)
	}
	if a.Change == nil || *a.Change != -1 || b.Change == nil || *b.Change != 0 || c.Change == nil || *c.Change != 2 {
		t.Errorf("changes A %v B %v C %v, want -1, 0, +2", deref(a.Change), deref(b.Change), deref(c.Change))
	}
	// Weights 30/20/20/20/10 (DefaultPolicy): A has 1 of C's 2 signed_100m,
	// none of its signed_1b and 1亿 of its 30亿 contract investment.
	want := 20*0.5 + 20*(1.0/30)
	if math.Abs(a.Score-want) > 1e-6 {
		t.Errorf("A score %v, want %v", a.Score, want)
	}
	for _, it := range q2.Items {
		if it.Unit == "P" {
			t.Error("park ranked among counties")
		}
	}
	all := mustRank(t, v, RankingQuery{Period: "2024-Q2"})
	if p := rankItem(t, all, "P"); p.Rank != 1 || p.Kind != domain.UnitPark {
		t.Errorf("park in the all-kinds ranking: %+v", p)
	}
	if _, err := v.Ranking(RankingQuery{Period: "2024-Q5"}); err == nil {
		t.Error("2024-Q5 accepted")
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// assertMatchesDomain checks the incrementally kept counts against the
// domain's own rule, Project.Contributions, summed over every project, for
// every unit and for the year and each of its quarters and months.
func assertMatchesDomain(t *testing.T, v *Views, year string) {
	t.Helper()
	v.mu.RLock()
	defer v.mu.RUnlock()
	periods := []string{year, year + "-Q1", year + "-Q2", year + "-Q3", year + "-Q4", year + "-02", year + "-05", year + "-W10"}
	for _, ps := range periods {
		per, err := domain.ParsePeriod(ps, v.loc)
		if err != nil {
			t.Fatal(err)
		}
		pol := v.ref.policyForPeriod(per.To)
		var cs [][]domain.Contribution
		for _, en := range v.proj.bySeq {
			c, err := en.p.Contributions(per, *pol)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		want := domain.SumContributions(cs...)
		got := v.periodValues(per, pol, known{})
		for unit, vec := range got {
			for i, x := range vec {
				w := want[unit][indicatorList[i]]
				if math.Abs(x-w) > 1e-6*math.Max(1, math.Abs(w)) {
					t.Errorf("%s %s %s: views %v, domain %v", ps, unit, indicatorList[i], x, w)
				}
			}
		}
		for unit, m := range want {
			for ind, w := range m {
				if _, ok := got[unit]; !ok && w != 0 {
					t.Errorf("%s %s %s: domain %v, views nothing", ps, unit, ind, w)
				}
			}
		}
	}
}

// On a generated ledger with every event kind (transfers under equal and
// shared credit, amendments, corrections, USD projects), the views count
// exactly what the domain's rule counts.
func TestRankingMatchesDomainOnGeneratedLedger(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 60_000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	v, err := ReplaySlice(context.Background(), log.Events, Options{Location: synth.Zone}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range []string{"2020", "2022", "2023", "2024"} {
		assertMatchesDomain(t, v, y)
	}
}

// A ranking answer is the caller's own: changing it (its items, indicators,
// change or as-of moment) does not change the next answer, which may come
// from the memo.
func TestRankingAnswersAreCopies(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	a := l.report(1, "A", yuan(20), day("2024-01-10"))
	l.sign(a, "A", yuan(20), day("2024-02-01"), domain.Commitments{})
	b := l.report(2, "B", yuan(3), day("2024-01-11"))
	l.sign(b, "B", yuan(3), day("2024-05-01"), domain.Commitments{})
	v := l.views()
	q := RankingQuery{Period: "2024-Q2", Kind: domain.UnitCounty, AsOf: day("2024-12-31")}
	first := mustRank(t, v, q)
	want, err := json.Marshal(mustRank(t, v, q))
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i := range first.Items {
		first.Items[i].Indicators[domain.IndSigned100m] = 99
		if c := first.Items[i].Change; c != nil {
			*c += 7
			changed++
		}
		first.Items[i].Score = -1
	}
	*first.AsOf = first.AsOf.Add(time.Hour)
	if changed == 0 {
		t.Fatal("no item has a change to tamper with: the scenario does not test Change")
	}
	again, err := json.Marshal(mustRank(t, v, q))
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(want) {
		t.Errorf("a caller's edits reached the next answer:\n got %s\nwant %s", again, want)
	}
}

// TestCorrectionUnderAnEarlierPolicy: a correction made after a new policy
// moves or changes a fact counted under the old one. Each day is valued
// under the policy in force when its fact occurred, before and after the
// correction, so the old day is emptied exactly and nothing goes negative
// (DOMAIN.md "Ranking": counted by occurred date; "Policy": the rate and
// thresholds of the version in force).
func TestCorrectionUnderAnEarlierPolicy(t *testing.T) {
	type want struct {
		period string
		vals   map[domain.Indicator]float64
	}
	for _, tc := range []struct {
		name   string
		amount domain.Money
		edit   func(*domain.Policy)
		field  domain.CorrectionField
		prev   any
		val    any
		want   []want
	}{{
		name: "signed_at of a US$1.5亿 signing moved back a month after the rate fell to 6.5", amount: domain.Dollars(150_000_000),
		edit:  func(p *domain.Policy) { p.USDCNYRate = domain.Rate(6_500_000) },
		field: domain.FieldSignedAt, prev: day("2024-03-10"), val: day("2024-02-20"),
		want: []want{
			{"2024-02", map[domain.Indicator]float64{domain.IndSigned100m: 1, domain.IndSigned1b: 1, domain.IndSignedUSD100m: 1, domain.IndContractInvestment: 1_065_000_000}},
			{"2024-03", map[domain.Indicator]float64{domain.IndSigned100m: 0, domain.IndSigned1b: 0, domain.IndSignedUSD100m: 0, domain.IndContractInvestment: 0}},
			{"2024", map[domain.Indicator]float64{domain.IndSigned100m: 1, domain.IndSigned1b: 1, domain.IndSignedUSD100m: 1, domain.IndContractInvestment: 1_065_000_000}},
		},
	}, {
		name: "¥8亿 corrected to ¥6亿 after usd100m_includes_cny was switched on", amount: yuan(8),
		edit:  func(p *domain.Policy) { p.USD100mIncludesCNY = true },
		field: domain.FieldContractInvestment, prev: yuan(8), val: yuan(6),
		want: []want{
			{"2024-03", map[domain.Indicator]float64{domain.IndSigned100m: 1, domain.IndSigned1b: 0, domain.IndSignedUSD100m: 0, domain.IndContractInvestment: 600_000_000}},
			{"2024", map[domain.Indicator]float64{domain.IndSigned100m: 1, domain.IndSignedUSD100m: 0, domain.IndContractInvestment: 600_000_000}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.unit("A", "南湖区", domain.UnitCounty)
			l.unit("B", "秀洲区", domain.UnitCounty)
			id := l.report(1, "A", tc.amount, day("2024-01-05"))
			l.sign(id, "A", tc.amount, day("2024-03-10"), domain.Commitments{})
			pol := domain.DefaultPolicy()
			pol.Version = 1
			tc.edit(&pol)
			l.policy(pol, day("2024-04-01"))
			l.correct(id, tc.field, tc.prev, tc.val, day("2024-05-10"))
			v := l.views()
			for _, w := range tc.want {
				got := rankItem(t, mustRank(t, v, RankingQuery{Period: w.period, Kind: domain.UnitCounty}), "A").Indicators
				for ind, x := range w.vals {
					if got[ind] != x {
						t.Errorf("%s %s = %v, want %v", w.period, ind, got[ind], x)
					}
				}
			}
		})
	}
}
