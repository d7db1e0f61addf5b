package projections

import (
	"slices"
	"testing"
)

func TestIntersect(t *testing.T) {
	cases := []struct {
		name  string
		lists [][]uint32
		from  uint32
		stop  int // fn returns false after this many values (0: never)
		want  []uint32
	}{
		{"no lists", nil, 0, 0, nil},
		{"one list", [][]uint32{{1, 3, 5}}, 0, 0, []uint32{1, 3, 5}},
		{"one list from", [][]uint32{{1, 3, 5}}, 3, 0, []uint32{3, 5}},
		{"two lists", [][]uint32{{2, 4, 6, 8}, {1, 2, 3, 4, 5, 8, 9}}, 0, 0, []uint32{2, 4, 8}},
		{"three lists", [][]uint32{{4, 8}, {2, 4, 6, 8}, {1, 4, 7, 8}}, 0, 0, []uint32{4, 8}},
		{"disjoint", [][]uint32{{1, 3}, {2, 4}}, 0, 0, nil},
		{"other list ends first", [][]uint32{{5, 9}, {1, 5}}, 0, 0, []uint32{5}},
		{"from past everything", [][]uint32{{1, 2}, {1, 2}}, 3, 0, nil},
		{"from between values", [][]uint32{{1, 4, 9}, {1, 4, 9}}, 2, 0, []uint32{4, 9}},
		{"duplicates in the driver once", [][]uint32{{3, 3, 7}, {3, 7}}, 0, 0, []uint32{3, 7}},
		{"stops when fn says so", [][]uint32{{1, 2, 3}, {1, 2, 3}}, 0, 2, []uint32{1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint32
			intersect(tc.lists, tc.from, func(v uint32) bool {
				got = append(got, v)
				return tc.stop == 0 || len(got) < tc.stop
			})
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRuneIndexCandidates(t *testing.T) {
	ix := runeIndex{}
	ix.add(0, "华宁新材料", "")
	ix.add(1, "华新水泥", "华新集团")
	ix.add(2, "宁波港", "")
	lists, ok := ix.candidates([]string{"华宁", "宁"})
	if !ok {
		t.Fatal("华宁: no candidates")
	}
	if len(lists) != 2 {
		t.Fatalf("华宁 宁: %d lists, want one per distinct rune (2)", len(lists))
	}
	if len(lists[0]) > len(lists[1]) {
		t.Errorf("lists not shortest first: %v", lists)
	}
	var got []uint32
	intersect(lists, 0, func(v uint32) bool { got = append(got, v); return true })
	if !slices.Equal(got, []uint32{0}) {
		t.Errorf("华宁 candidates %v, want [0]", got)
	}
	if _, ok := ix.candidates([]string{"钢"}); ok {
		t.Error("a rune that occurs nowhere still gave candidates")
	}
}
