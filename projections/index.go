package projections

import (
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The projects view answers filtered, paginated lists in well under a
// millisecond at 50k projects without scanning them: every filterable value
// (stage, unit, chain, tier, category) has a bitset over project sequence
// numbers, a query ANDs the bitsets it names and walks the set bits from
// its cursor. Name search uses per-rune posting lists (Chinese has no word
// boundaries, and a substring is what users type): the rarest rune of the
// query picks the candidates, and each candidate's names are checked.

// bitset is a growable set of small integers.
type bitset []uint64

func (b *bitset) set(i uint32) {
	w := int(i >> 6)
	if w >= len(*b) {
		*b = slices.Grow(*b, w+1-len(*b))[:w+1]
	}
	(*b)[w] |= 1 << (i & 63)
}

func (b bitset) clear(i uint32) {
	if w := int(i >> 6); w < len(b) {
		b[w] &^= 1 << (i & 63)
	}
}

func (b bitset) has(i uint32) bool {
	w := int(i >> 6)
	return w < len(b) && b[w]&(1<<(i&63)) != 0
}

// and returns dst = a ∧ b, reusing dst's storage.
func andInto(dst, a, b bitset) bitset {
	n := min(len(a), len(b))
	dst = slices.Grow(dst[:0], n)[:n]
	for i := range n {
		dst[i] = a[i] & b[i]
	}
	return dst
}

// next returns the smallest member ≥ from, or false.
func (b bitset) next(from uint32) (uint32, bool) {
	w := int(from >> 6)
	if w >= len(b) {
		return 0, false
	}
	word := b[w] &^ (1<<(from&63) - 1)
	for {
		if word != 0 {
			return uint32(w<<6 + bits.TrailingZeros64(word)), true
		}
		w++
		if w >= len(b) {
			return 0, false
		}
		word = b[w]
	}
}

// keyedBitsets is one bitset per value of a filter.
type keyedBitsets map[string]*bitset

func (k keyedBitsets) add(key string, seq uint32) {
	b := k[key]
	if b == nil {
		b = new(bitset)
		k[key] = b
	}
	b.set(seq)
}

func (k keyedBitsets) remove(key string, seq uint32) {
	if b := k[key]; b != nil {
		b.clear(seq)
	}
}

// normalizeSearch folds text for name search: full-width ASCII forms
// (Ａ，１) become ASCII, the ideographic space becomes a space, and Latin
// letters are lower-cased. Chinese characters are kept as they are.
func normalizeSearch(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else if unicode.IsUpper(r) {
			r = unicode.ToLower(r)
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// searchTerms splits a query into normalised terms; every term must match.
func searchTerms(q string) []string {
	return strings.Fields(normalizeSearch(q))
}

// runeIndex maps each rune to the ascending sequence numbers of the
// projects whose normalised names contain it. Entries are never removed (a
// corrected name leaves a stale entry the final substring check rejects),
// so the lists stay append-mostly.
type runeIndex map[rune][]uint32

func (ix runeIndex) add(seq uint32, texts ...string) {
	// insert ignores duplicates; seen only saves repeated work on names
	// that repeat characters.
	var seen [64]rune
	n := 0
	for _, t := range texts {
		for _, r := range t {
			if r == ' ' || slices.Contains(seen[:n], r) {
				continue
			}
			if n < len(seen) {
				seen[n] = r
				n++
			}
			ix.insert(r, seq)
		}
	}
}

func (ix runeIndex) insert(r rune, seq uint32) {
	l := ix[r]
	if k := len(l); k == 0 || l[k-1] < seq {
		ix[r] = append(l, seq)
		return
	}
	i, found := slices.BinarySearch(l, seq)
	if !found {
		ix[r] = slices.Insert(l, i, seq)
	}
}

// candidates returns the posting lists of the distinct runes of the terms,
// shortest first, or false when some rune occurs nowhere (nothing can
// match). A project matches only if it is in every list: Chinese names
// share common characters (华, 新, 科…), so the rarest rune alone can leave
// thousands of names to check where the intersection leaves a handful.
func (ix runeIndex) candidates(terms []string) ([][]uint32, bool) {
	var lists [][]uint32
	var seen []rune
	for _, t := range terms {
		for _, r := range t {
			if slices.Contains(seen, r) {
				continue
			}
			seen = append(seen, r)
			l := ix[r]
			if len(l) == 0 {
				return nil, false
			}
			lists = append(lists, l)
		}
	}
	slices.SortFunc(lists, func(a, b []uint32) int { return len(a) - len(b) })
	return lists, len(lists) > 0
}

// intersect calls fn, in ascending order, for each value at or after from
// that is in every list (each ascending), until fn returns false. The
// shortest list drives; the others are searched forward from where the
// last search ended, so a walk costs the driver's length times a binary
// search, and stops as soon as fn has what it wants.
func intersect(lists [][]uint32, from uint32, fn func(uint32) bool) {
	if len(lists) == 0 {
		return
	}
	drive := lists[0]
	at := make([]int, len(lists))
	i, _ := slices.BinarySearch(drive, from)
next:
	for ; i < len(drive); i++ {
		seq := drive[i]
		if i > 0 && drive[i-1] == seq {
			continue
		}
		for k := 1; k < len(lists); k++ {
			l := lists[k]
			j, found := slices.BinarySearch(l[at[k]:], seq)
			at[k] += j
			if at[k] == len(l) {
				return // no later value can be in this list
			}
			if !found {
				continue next
			}
		}
		if !fn(seq) {
			return
		}
	}
}
