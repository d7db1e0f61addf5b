package domain

import (
	"cmp"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rowsOf is inputs as RankRows takes them, over every indicator.
func rowsOf(inputs []RankingInput) []RankingRow {
	rows := make([]RankingRow, len(inputs))
	for i, in := range inputs {
		vals := make([]float64, len(Indicators()))
		for j, ind := range Indicators() {
			vals[j] = in.Values[ind]
		}
		rows[i] = RankingRow{Unit: in.Unit, Kind: in.Kind, Values: vals}
	}
	return rows
}

// RankRows is the same rule as Rank (DOMAIN.md "Ranking", Jiaxing 2024
// 二(一)2): the same ranks, the very same scores and the same order, for
// each case of the rule.
func TestRankRowsMatchesRank(t *testing.T) {
	w := DefaultPolicy().RankingWeights
	tests := []struct {
		name   string
		inputs []RankingInput
		want   []RankedRow
	}{
		{"DOMAIN Ranking: best on every indicator scores 100",
			[]RankingInput{
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2, IndSigned100m: 5, IndContractInvestment: 4e9, IndFundsArrived: 1e9}},
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 4, IndSigned100m: 10, IndContractInvestment: 8e9, IndFundsArrived: 2e9, IndStartedProjects: 3}},
			},
			[]RankedRow{{Row: 1, Rank: 1, Score: 100}, {Row: 0, Rank: 2, Score: 45}}},
		{"DOMAIN Ranking: nobody scored → 0 for all, all rank 1, by unit",
			[]RankingInput{{Unit: "b", Kind: UnitCounty}, {Unit: "a", Kind: UnitCounty}},
			[]RankedRow{{Row: 1, Rank: 1}, {Row: 0, Rank: 1}}},
		{"DOMAIN Ranking: ties share a rank (1, 1, 3)",
			[]RankingInput{
				{Unit: "c", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}},
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2}},
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 2}},
			},
			[]RankedRow{{Row: 2, Rank: 1, Score: 30}, {Row: 1, Rank: 1, Score: 30}, {Row: 0, Rank: 3, Score: 15}}},
		{"Suzhou 一: counties and parks are ranked apart, counties first",
			[]RankingInput{
				{Unit: "p", Kind: UnitPark, Values: map[Indicator]float64{IndSigned1b: 1}},
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 10}},
			},
			[]RankedRow{{Row: 1, Rank: 1, Score: 30}, {Row: 0, Rank: 1, Score: 30}}},
		{"DOMAIN Ranking: a negative or non-finite value counts zero",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndContractInvestment: 1e9}},
				{Unit: "b", Kind: UnitCounty, Values: map[Indicator]float64{IndContractInvestment: -1e9, IndFundsArrived: math.NaN()}},
			},
			[]RankedRow{{Row: 0, Rank: 1, Score: 20}, {Row: 1, Rank: 2}}},
		{"the same unit twice keeps the input order",
			[]RankingInput{
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}},
				{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}},
			},
			[]RankedRow{{Row: 0, Rank: 1, Score: 30}, {Row: 1, Rank: 1, Score: 30}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RankRows(rowsOf(tt.inputs), Indicators(), w)
			if !slices.EqualFunc(got, tt.want, func(a, b RankedRow) bool { return a.Row == b.Row && a.Rank == b.Rank && near(a.Score, b.Score) }) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			items := Rank(tt.inputs, w)
			for i, r := range got {
				it, in := items[i], tt.inputs[r.Row]
				if it.Unit != in.Unit || it.Kind != in.Kind || it.Rank != r.Rank || it.Score != r.Score {
					t.Fatalf("row %d: RankRows %+v, Rank %+v", i, r, it)
				}
			}
		})
	}
}

// Indicators with a weight but no column count zero for all, like an
// indicator nobody scored on; columns without a weight count nothing.
func TestRankRowsColumns(t *testing.T) {
	w := map[Indicator]int{IndSigned1b: 60, IndFundsArrived: 40}
	rows := []RankingRow{
		{Unit: "a", Kind: UnitCounty, Values: []float64{2, 9}},
		{Unit: "b", Kind: UnitCounty, Values: []float64{1, 1}},
	}
	got := RankRows(rows, []Indicator{IndSigned1b, IndStartedProjects}, w)
	if got[0].Row != 0 || got[0].Score != 60 || got[1].Score != 30 {
		t.Fatalf("%v", got)
	}
	if s := RankingScore(map[Indicator]float64{IndSigned1b: 1}, map[Indicator]float64{IndSigned1b: 2, IndFundsArrived: 0}, w); s != 30 {
		t.Fatalf("RankingScore %v", s)
	}
}

// Rank keeps the indicators it was given, a copy, and an empty map for none.
func TestRankIndicatorsAreCopies(t *testing.T) {
	in := []RankingInput{{Unit: "a", Kind: UnitCounty, Values: map[Indicator]float64{IndSigned1b: 1}}, {Unit: "b", Kind: UnitCounty}}
	items := Rank(in, DefaultPolicy().RankingWeights)
	if !maps.Equal(items[0].Indicators, in[0].Values) || items[1].Indicators == nil || len(items[1].Indicators) != 0 {
		t.Fatalf("%+v", items)
	}
	items[0].Indicators[IndSigned1b] = 5
	if in[0].Values[IndSigned1b] != 1 {
		t.Fatal("Rank's indicators share the input's map")
	}
}

func BenchmarkRankRows(b *testing.B) {
	rows := make([]RankingRow, 100)
	for i := range rows {
		vals := make([]float64, len(Indicators()))
		for j := range vals {
			vals[j] = float64((i*7 + j*3) % 11)
		}
		kind := UnitCounty
		if i%3 == 0 {
			kind = UnitPark
		}
		rows[i] = RankingRow{Unit: UnitCode(rune('A'+i%26)) + UnitCode(rune('a'+i/26)), Kind: kind, Values: vals}
	}
	w, inds := DefaultPolicy().RankingWeights, Indicators()
	for b.Loop() {
		RankRows(rows, inds, w)
	}
}

// rankByMaps is the ranking rule written plainly over maps, per unit: the
// reference RankRows (and Rank through it) must match bit for bit.
func rankByMaps(inputs []RankingInput, weights map[Indicator]int) []RankingItem {
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
			var s float64
			for _, ind := range slices.Sorted(maps.Keys(weights)) {
				b, v := best[ind], inputs[i].Values[ind]
				if b > 0 && finite(b) && v > 0 && finite(v) {
					s += float64(weights[ind]) * v / b
				}
			}
			scores[j] = round6(s)
		}
		ranks := CompetitionRanks(scores)
		for j, i := range group {
			out[i] = RankingItem{Rank: ranks[j], Unit: inputs[i].Unit, Kind: inputs[i].Kind, Score: scores[j],
				Indicators: inputs[i].Values}
		}
	}
	slices.SortStableFunc(out, func(a, b RankingItem) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Unit, b.Unit))
	})
	return out
}

// randomValue is a value as the read side may count it: mostly small
// counts and amounts, some zero, negative (amendments) or tied, and now and
// then one that is not a number.
func randomValue(r *rand.Rand) float64 {
	switch r.IntN(7) {
	case 6:
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)]
	case 0:
		return 0
	case 1:
		return -float64(r.IntN(5)) * 1e8
	case 2:
		return float64(r.IntN(3))
	}
	return r.Float64() * float64(r.IntN(100)) * 1e8
}

func TestRankMatchesMapRuleOnRandomInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kinds := UnitKinds()
	for n := range 300 {
		weights := map[Indicator]int{}
		for _, ind := range Indicators() {
			if r.IntN(3) > 0 {
				weights[ind] = 1 + r.IntN(40)
			}
		}
		inputs := make([]RankingInput, r.IntN(40))
		for i := range inputs {
			vals := map[Indicator]float64{}
			for _, ind := range Indicators() {
				if r.IntN(2) == 0 {
					vals[ind] = randomValue(r)
				}
			}
			inputs[i] = RankingInput{Unit: UnitCode(rune('a' + r.IntN(20))), Kind: kinds[r.IntN(len(kinds))], Values: vals}
		}
		want, got := rankByMaps(inputs, weights), Rank(inputs, weights)
		if !slices.EqualFunc(want, got, func(a, b RankingItem) bool {
			return a.Unit == b.Unit && a.Kind == b.Kind && a.Rank == b.Rank && math.Float64bits(a.Score) == math.Float64bits(b.Score) &&
				maps.EqualFunc(a.Indicators, b.Indicators, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
		}) {
			t.Fatalf("case %d:\nmaps %+v\nRank %+v", n, want, got)
		}
	}
}

// 比学赶超 (DOMAIN.md "Ranking": change since the previous period): RowChanges
// gives, row by row, what WithChanges gives unit by unit.
func TestRowChanges(t *testing.T) {
	w := map[Indicator]int{IndSigned1b: 100}
	rows := func(vals ...float64) []RankingRow {
		out := make([]RankingRow, len(vals))
		for i, v := range vals {
			out[i] = RankingRow{Unit: UnitCode(string(rune('a' + i))), Kind: UnitCounty, Values: []float64{v}}
		}
		return out
	}
	ptr := func(n int) *int { return &n }
	inds := []Indicator{IndSigned1b}
	for _, tc := range []struct {
		name      string
		cur, prev []RankingRow // nil prev: nothing ranked then
		want      map[UnitCode]*int
	}{
		{"a moved up two, b and c down one", rows(3, 2, 1), rows(1, 3, 2), map[UnitCode]*int{"a": ptr(2), "b": ptr(-1), "c": ptr(-1)}},
		{"ties share a rank, so no change", rows(1, 1), rows(2, 2), map[UnitCode]*int{"a": ptr(0), "b": ptr(0)}},
		{"nothing ranked before: every change null", rows(2, 1), nil, map[UnitCode]*int{"a": nil, "b": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := RankRows(tc.cur, inds, w)
			var prev []RankedRow
			if tc.prev != nil {
				prev = RankRows(tc.prev, inds, w)
			}
			got := RowChanges(cur, prev, len(tc.cur))
			for i, r := range cur {
				u := tc.cur[r.Row].Unit
				if want := tc.want[u]; (want == nil) != (got[i] == nil) || (want != nil && *want != *got[i]) {
					t.Errorf("%s: change %v, want %v", u, deref(got[i]), deref(want))
				}
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
