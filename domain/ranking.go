package domain

import (
	"cmp"
	"maps"
	"slices"
)

// RankingInput is one unit's indicator values for a period.
type RankingInput struct {
	Unit   UnitCode
	Kind   UnitKind
	Values map[Indicator]float64
}

// RankingItem is one row of a ranking (晾晒): rank within the kind group, score,
// the values, and the rank change since the previous period (nil when the unit
// was not ranked then).
type RankingItem struct {
	Rank       int                   `json:"rank"`
	Unit       UnitCode              `json:"unit"`
	Kind       UnitKind              `json:"kind"`
	Score      float64               `json:"score"`
	Indicators map[Indicator]float64 `json:"indicators"`
	Change     *int                  `json:"change"`
}

// RankingScore is Σ weight × value ÷ best value in the group, per DOMAIN.md
// "Ranking" (Jiaxing 2024 二(一)2 定期晾晒招商实绩, 比学赶超): a unit best on every
// indicator scores 100; an indicator nobody scored on (best ≤ 0) counts zero
// for all. A negative value (a period whose amendments cut more than was
// signed) counts zero rather than below zero.
func RankingScore(values, best map[Indicator]float64, weights map[Indicator]int) float64 {
	var s float64
	for _, ind := range slices.Sorted(maps.Keys(weights)) {
		b := best[ind]
		if !(b > 0) || !finite(b) {
			continue
		}
		v := values[ind]
		if !(v > 0) || !finite(v) {
			continue
		}
		s += float64(weights[ind]) * v / b
	}
	return round6(s)
}

// Rank ranks units per kind with the policy's ranking weights: the best value
// of each indicator is taken within the kind group (units compare with units of
// the same kind), ties share a rank (1, 1, 3). Items come out by kind, rank,
// unit.
func Rank(inputs []RankingInput, weights map[Indicator]int) []RankingItem {
	out := make([]RankingItem, len(inputs))
	for _, group := range groupByKind(inputs, func(r RankingInput) UnitKind { return r.Kind }) {
		best := map[Indicator]float64{}
		for _, i := range group {
			for k, v := range inputs[i].Values {
				if v > best[k] {
					best[k] = v
				}
			}
		}
		scores := make([]float64, len(group))
		for j, i := range group {
			scores[j] = RankingScore(inputs[i].Values, best, weights)
		}
		ranks := CompetitionRanks(scores)
		for j, i := range group {
			vals := maps.Clone(inputs[i].Values)
			if vals == nil {
				vals = map[Indicator]float64{}
			}
			out[i] = RankingItem{Rank: ranks[j], Unit: inputs[i].Unit, Kind: inputs[i].Kind, Score: scores[j],
				Indicators: vals}
		}
	}
	slices.SortStableFunc(out, func(a, b RankingItem) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Unit, b.Unit))
	})
	return out
}

// WithChanges returns current with Change set to previous rank − current rank
// (positive: moved up) for every unit ranked in both periods in the same kind
// (比学赶超, DOMAIN.md "Ranking": its change since the previous period).
func WithChanges(current, previous []RankingItem) []RankingItem {
	type key struct {
		u UnitCode
		k UnitKind
	}
	prev := make(map[key]int, len(previous))
	for _, it := range previous {
		prev[key{it.Unit, it.Kind}] = it.Rank
	}
	out := slices.Clone(current)
	for i := range out {
		if r, ok := prev[key{out[i].Unit, out[i].Kind}]; ok {
			c := r - out[i].Rank
			out[i].Change = &c
		} else {
			out[i].Change = nil
		}
	}
	return out
}
