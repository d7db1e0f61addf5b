package domain

import (
	"testing"
)

func TestCreditShares(t *testing.T) {
	equal := DefaultPolicy()
	shared := DefaultPolicy()
	shared.TransferCredit = TransferCredit{Mode: CreditShared, Ratio: 0.6}
	all := DefaultPolicy()
	all.TransferCredit = TransferCredit{Mode: CreditShared, Ratio: 1}
	tests := []struct {
		name        string
		first, land UnitCode
		pol         Policy
		want        map[UnitCode]float64
	}{
		{"no transfer: full credit to the unit", "nanhu", "nanhu", equal, map[UnitCode]float64{"nanhu": 1}},
		{"Jiaxing 二(一)3 同等赋分: equal gives both full credit", "nanhu", "haiyan", equal, map[UnitCode]float64{"nanhu": 1, "haiyan": 1}},
		{"Xiamen 三(二)4 适当分享: shared splits by ratio", "nanhu", "haiyan", shared, map[UnitCode]float64{"haiyan": 0.6, "nanhu": 0.4}},
		{"Xiamen 三(二)4: ratio 1 gives all to the landing unit", "nanhu", "haiyan", all, map[UnitCode]float64{"haiyan": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CreditShares(tt.first, tt.land, tt.pol)
			if len(got) != len(tt.want) {
				t.Fatalf("%v", got)
			}
			for _, s := range got {
				if !near(s.Share, tt.want[s.Unit]) {
					t.Fatalf("%v", got)
				}
			}
			if got[0].Unit != tt.land {
				t.Fatal("the landing unit comes first")
			}
		})
	}
}

func TestContributionsOfATransferredProject(t *testing.T) {
	year, _ := ParsePeriod("2024", shanghai)
	build := func() *Project {
		p := reported(t, bigCNY)
		p.s.Investor.Categories = []Category{CategoryFortuneGlobal500}
		must(t, p, TransferProject{ToUnit: "haiyan", Reason: "市投促中心协调", OccurredAt: t0})
		must(t, p, sign(t0.Add(day(1)), Dollars(1_000_000_000))) // US$10亿 = ¥71亿
		must(t, p, StartConstruction{OccurredAt: t0.Add(day(2))})
		must(t, p, RecordFunds{OccurredAt: t0.Add(day(3)), Amount: Yuan(300_000_000), Source: FundsOutOfProvince})
		return p
	}
	wantRaw := map[Indicator]float64{IndSigned100m: 1, IndSigned1b: 1, IndSigned5b: 1, IndSignedUSD100m: 1,
		IndFortune500Projects: 1, IndContractInvestment: 7_100_000_000, IndStartedProjects: 1,
		IndFundsArrived: 300_000_000, IndOutOfProvinceFunds: 300_000_000}

	for _, tt := range []struct {
		name  string
		pol   func() Policy
		share map[UnitCode]float64
	}{
		{"Jiaxing 二(一)3 同等赋分: both units get every indicator in full", DefaultPolicy, map[UnitCode]float64{"haiyan": 1, "nanhu": 1}},
		{"Xiamen 三(二)4 适当分享: 0.7 to the landing unit, 0.3 to the first", func() Policy {
			p := DefaultPolicy()
			p.TransferCredit = TransferCredit{Mode: CreditShared, Ratio: 0.7}
			return p
		}, map[UnitCode]float64{"haiyan": 0.7, "nanhu": 0.3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := build()
			if p.LandingUnit() != "haiyan" || p.FirstUnit() != "nanhu" {
				t.Fatalf("landing %s first %s", p.LandingUnit(), p.FirstUnit())
			}
			cs, err := p.Contributions(year, tt.pol())
			if err != nil {
				t.Fatal(err)
			}
			sum := SumContributions(cs)
			for u, share := range tt.share {
				for k, v := range wantRaw {
					if !near(sum[u][k], v*share) {
						t.Fatalf("%s %s = %v, want %v", u, k, sum[u][k], v*share)
					}
				}
			}
		})
	}
	// Outside the period nothing counts.
	p := build()
	y23, _ := ParsePeriod("2023", shanghai)
	if cs, _ := p.Contributions(y23, DefaultPolicy()); len(cs) != 0 {
		t.Fatalf("2023: %v", cs)
	}
	// An unsigned project contributes nothing.
	if cs, _ := reported(t, bigCNY).Contributions(year, DefaultPolicy()); len(cs) != 0 {
		t.Fatal("unsigned project counted")
	}
	if tier, usd, _ := p.TierOf(DefaultPolicy()); tier != Tier5b || !usd {
		t.Fatalf("tier %s usd %v", tier, usd)
	}
}
