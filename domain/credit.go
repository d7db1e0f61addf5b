package domain

import (
	"slices"
	"time"
)

// Share is the part of a project's figures credited to one unit.
type Share struct {
	Unit  UnitCode
	Share float64
}

// CreditShares says who is credited with a project that landed at landing after
// being first reported by first (项目流转). Without a transfer (first ==
// landing) the unit gets full credit. With one:
//   - equal (Jiaxing 2024 二(一)3 "在考核上予以首谈地和承接地同等赋分"): both
//     units get full credit;
//   - shared (Xiamen 三(二)4 "对推荐在谈项目的区…在招商考核等方面给予适当分享"):
//     the landing unit gets ratio, the first unit 1 − ratio (a zero share is
//     left out).
//
// The landing unit comes first.
func CreditShares(first, landing UnitCode, pol Policy) []Share {
	if first == "" || first == landing {
		return []Share{{Unit: landing, Share: 1}}
	}
	if pol.TransferCredit.Mode == CreditShared {
		r := pol.TransferCredit.Ratio
		out := []Share{{Unit: landing, Share: r}}
		if 1-r > 0 {
			out = append(out, Share{Unit: first, Share: round6(1 - r)})
		}
		return out
	}
	return []Share{{Unit: landing, Share: 1}, {Unit: first, Share: 1}}
}

// Contribution is what one project contributes to one unit in a period.
type Contribution struct {
	Unit   UnitCode
	Share  float64
	Values map[Indicator]float64
}

// Indicators counts what the project achieved in a period, before credit
// (DOMAIN.md "Ranking": counting follows the occurred date). Only a signed
// project counts:
//   - its signing, in the period of the signing date, once (no double
//     counting): one in each signed_<tier> the contract figure reaches
//     (Classify/Reached: a ¥60亿 project counts in signed_100m, signed_1b and
//     signed_5b, as Jiaxing 2024 一(二) "10亿元以上…其中50亿元以上" reads), one
//     in signed_usd100m if 超亿美元, one in fortune500_projects for a
//     fortune_global_500 investor, and the contract figure in
//     contract_investment; the figure is the one signed (corrections applied),
//     not later amendments;
//   - each amendment's increment (possibly negative) in contract_investment in
//     the amendment's period;
//   - each arrival of funds in funds_arrived (and out_of_province_funds when
//     its source is out_of_province);
//   - the start of construction in started_projects (the start of production
//     when construction start was skipped).
//
// Amounts are yuan at the policy's rate. Facts before a termination still
// count: they happened.
func (p *Project) Indicators(per Period, pol Policy) (map[Indicator]float64, error) {
	s := &p.s
	vals := map[Indicator]float64{}
	if s.Signing == nil {
		return vals, nil
	}
	if per.Contains(s.SignedAt) {
		c, err := Classify(s.Signing.ContractInvestment, pol)
		if err != nil {
			return nil, err
		}
		for _, t := range c.Reached() {
			vals[t.Indicator()]++
		}
		if c.USD100m {
			vals[IndSignedUSD100m]++
		}
		if slices.Contains(s.Investor.Categories, CategoryFortuneGlobal500) {
			vals[IndFortune500Projects]++
		}
		vals[IndContractInvestment] += float64(c.CNY.Amount)
	}
	for _, a := range s.Amendments {
		if per.Contains(a.OccurredAt) {
			inc, err := a.Increment.ToCNY(pol.USDCNYRate)
			if err != nil {
				return nil, err
			}
			vals[IndContractInvestment] += float64(inc.Amount)
		}
	}
	for _, f := range s.Funds {
		if !per.Contains(f.OccurredAt) {
			continue
		}
		m, err := f.Amount.ToCNY(pol.USDCNYRate)
		if err != nil {
			return nil, err
		}
		vals[IndFundsArrived] += float64(m.Amount)
		if f.Source == FundsOutOfProvince {
			vals[IndOutOfProvinceFunds] += float64(m.Amount)
		}
	}
	start := s.StartedAt
	if start.IsZero() {
		start = s.ProducingAt
	}
	if !start.IsZero() && per.Contains(start) {
		vals[IndStartedProjects]++
	}
	for k, v := range vals {
		if v == 0 {
			delete(vals, k)
		}
	}
	return vals, nil
}

// LandingUnit is the unit credited with landing the project: the owner when it
// was signed (empty while unsigned).
func (p *Project) LandingUnit() UnitCode {
	if p.s.Signing == nil {
		return ""
	}
	if p.s.Signing.Unit != "" {
		return p.s.Signing.Unit
	}
	return p.s.Unit
}

// Contributions splits the project's Indicators for the period among the units
// credited with it (CreditShares of the first unit and the landing unit). A
// transfer changes the credit only if it happened before the signing; that is
// the only time a transfer is allowed.
func (p *Project) Contributions(per Period, pol Policy) ([]Contribution, error) {
	vals, err := p.Indicators(per, pol)
	if err != nil || len(vals) == 0 {
		return nil, err
	}
	var out []Contribution
	for _, sh := range CreditShares(p.s.FirstUnit, p.LandingUnit(), pol) {
		v := make(map[Indicator]float64, len(vals))
		for k, x := range vals {
			v[k] = x * sh.Share
		}
		out = append(out, Contribution{Unit: sh.Unit, Share: sh.Share, Values: v})
	}
	return out, nil
}

// SumContributions adds contributions per unit.
func SumContributions(cs ...[]Contribution) map[UnitCode]map[Indicator]float64 {
	out := map[UnitCode]map[Indicator]float64{}
	for _, list := range cs {
		for _, c := range list {
			m := out[c.Unit]
			if m == nil {
				m = map[Indicator]float64{}
				out[c.Unit] = m
			}
			for k, v := range c.Values {
				m[k] += v
			}
		}
	}
	return out
}

// TierOf is the project's tier and usd100m flag as the API shows them: by the
// current contract figure once signed, the planned investment before (DOMAIN.md
// "Money and tiers").
func (p *Project) TierOf(pol Policy) (Tier, bool, error) {
	m := p.s.PlannedInvestment
	if p.s.ContractInvestment != nil {
		m = *p.s.ContractInvestment
	}
	c, err := Classify(m, pol)
	if err != nil {
		return TierNone, false, err
	}
	return c.Tier, c.USD100m, nil
}

// FundsArrivedTotal is the cumulative funds (in yuan) whose arrival occurred
// before t (zero t: all).
func (p *Project) FundsArrivedTotal(t time.Time, pol Policy) (Money, error) {
	var ms []Money
	for _, f := range p.s.Funds {
		if t.IsZero() || f.OccurredAt.Before(t) {
			ms = append(ms, f.Amount)
		}
	}
	return SumCNY(pol.USDCNYRate, ms...)
}
