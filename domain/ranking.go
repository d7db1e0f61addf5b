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

// RankingRow is one unit's values for RankRows, as a vector: Values[j] is the
// value of the j-th indicator of the list RankRows is given (a missing value
// is 0, as in RankingInput).
type RankingRow struct {
	Unit   UnitCode
	Kind   UnitKind
	Values []float64
}

// RankedRow is a row's place in a ranking: Row indexes the rows given to
// RankRows.
type RankedRow struct {
	Row   int
	Rank  int
	Score float64
}

// scoreTerm is one weighted indicator of the score: its column and weight.
type scoreTerm struct {
	col    int
	weight float64
}

// scoreTerms lists the weighted indicators in the order of their names, the
// order the score is summed in (so a score never depends on map order), with
// their columns in indicators; an indicator with a weight but no column is
// 0 for every unit and adds nothing.
func scoreTerms(weights map[Indicator]int, indicators []Indicator) []scoreTerm {
	terms := make([]scoreTerm, 0, len(weights))
	for _, ind := range slices.Sorted(maps.Keys(weights)) {
		if j := slices.Index(indicators, ind); j >= 0 {
			terms = append(terms, scoreTerm{col: j, weight: float64(weights[ind])})
		}
	}
	return terms
}

// score is RankingScore over vectors.
func score(values, best []float64, terms []scoreTerm) float64 {
	var s float64
	for _, t := range terms {
		b := best[t.col]
		if !(b > 0) || !finite(b) {
			continue
		}
		v := values[t.col]
		if !(v > 0) || !finite(v) {
			continue
		}
		s += t.weight * v / b
	}
	return round6(s)
}

// RankingScore is Σ weight × value ÷ best value in the group, per DOMAIN.md
// "Ranking" (Jiaxing 2024 二(一)2 定期晾晒招商实绩, 比学赶超): a unit best on every
// indicator scores 100; an indicator nobody scored on (best ≤ 0) counts zero
// for all. A negative value (a period whose amendments cut more than was
// signed) counts zero rather than below zero.
func RankingScore(values, best map[Indicator]float64, weights map[Indicator]int) float64 {
	inds := slices.Sorted(maps.Keys(weights))
	vs, bs := make([]float64, len(inds)), make([]float64, len(inds))
	for j, ind := range inds {
		vs[j], bs[j] = values[ind], best[ind]
	}
	return score(vs, bs, scoreTerms(weights, inds))
}

// Rank ranks units per kind with the policy's ranking weights: the best value
// of each indicator is taken within the kind group (units compare with units of
// the same kind), ties share a rank (1, 1, 3). Items come out by kind, rank,
// unit.
func Rank(inputs []RankingInput, weights map[Indicator]int) []RankingItem {
	set := map[Indicator]bool{}
	for _, in := range inputs {
		for ind := range in.Values {
			set[ind] = true
		}
	}
	inds := slices.Sorted(maps.Keys(set))
	rows := make([]RankingRow, len(inputs))
	for i, in := range inputs {
		vals := make([]float64, len(inds))
		for j, ind := range inds {
			vals[j] = in.Values[ind]
		}
		rows[i] = RankingRow{Unit: in.Unit, Kind: in.Kind, Values: vals}
	}
	ranked := RankRows(rows, inds, weights)
	out := make([]RankingItem, len(ranked))
	for i, r := range ranked {
		in := &inputs[r.Row]
		vals := maps.Clone(in.Values)
		if vals == nil {
			vals = map[Indicator]float64{}
		}
		out[i] = RankingItem{Rank: r.Rank, Unit: in.Unit, Kind: in.Kind, Score: r.Score, Indicators: vals}
	}
	return out
}

// RankRows is Rank over vectors (the same rule, scores, ranks and order),
// for a read side that ranks every unit on every query: indicators names the
// columns of every row's Values (each indicator once), and the weights'
// order is worked out once rather than per unit.
func RankRows(rows []RankingRow, indicators []Indicator, weights map[Indicator]int) []RankedRow {
	terms := scoreTerms(weights, indicators)
	out := make([]RankedRow, 0, len(rows))
	best := make([]float64, len(indicators))
	var scores []float64
	// Out by kind, rank, unit, then input order (what a stable sort keeps):
	// the groups in kind order, each sorted on its own.
	for _, group := range byKindOrder(groupByKind(rows, func(r RankingRow) UnitKind { return r.Kind }),
		func(i int) UnitKind { return rows[i].Kind }) {
		clear(best)
		for _, i := range group {
			for j, v := range rows[i].Values {
				if v > best[j] {
					best[j] = v
				}
			}
		}
		scores = scores[:0]
		for _, i := range group {
			scores = append(scores, score(rows[i].Values, best, terms))
		}
		ranks := CompetitionRanks(scores)
		part := out[len(out) : len(out)+len(group)]
		for j, i := range group {
			part[j] = RankedRow{Row: i, Rank: ranks[j], Score: scores[j]}
		}
		slices.SortFunc(part, func(a, b RankedRow) int {
			return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(rows[a.Row].Unit, rows[b.Row].Unit), cmp.Compare(a.Row, b.Row))
		})
		out = out[:len(out)+len(group)]
	}
	return out
}

// RowChanges is WithChanges for two RankRows results over the same rows
// (比学赶超, DOMAIN.md "Ranking": its change since the previous period): the
// change of current[i] is its row's previous rank − its rank (positive:
// moved up), nil for a row not ranked in previous, and every change nil
// when previous is nil (nothing ranked then). rows is the number of rows.
func RowChanges(current, previous []RankedRow, rows int) []*int {
	out := make([]*int, len(current))
	if previous == nil {
		return out
	}
	prevRank := make([]int, rows) // 0: not ranked (ranks start at 1)
	for _, r := range previous {
		prevRank[r.Row] = r.Rank
	}
	changes := make([]int, len(current))
	for i, r := range current {
		if p := prevRank[r.Row]; p > 0 {
			changes[i] = p - r.Rank
			out[i] = &changes[i]
		}
	}
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
