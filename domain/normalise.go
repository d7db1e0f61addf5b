package domain

import (
	"slices"
	"strings"
	"unicode"
)

// NormaliseName folds an investor or industry-chain name to the form used to
// recognise "the same investor" for 首报首谈 (Jiaxing 2024 二(一)3), so that
// trivial spelling differences cannot dodge another unit's exclusive window.
// With the standard library only, it:
//
//   - maps full-width ASCII forms (Ａ-Ｚ, ａ-ｚ, ０-９, （）, ＆ …, U+FF01–U+FF5E)
//     to their ASCII counterparts, and the ideographic space U+3000 to a space;
//   - lower-cases letters (Latin "BYD" and "byd" match);
//   - removes every space, every punctuation mark (Unicode category P: ASCII and
//     Chinese brackets （）【】《》「」, 、。，·—- and so on) and invisible
//     format characters (zero-width spaces, BOM);
//   - keeps Chinese characters, letters, digits and symbols as they are.
//
// It does not convert traditional to simplified characters and does not strip
// legal-form words (有限公司, 集团): those distinguish real companies, and the
// unified social credit code is the reliable identity when it is known.
func NormaliseName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// usccCharset is the alphabet of GB 32100-2015 unified social credit codes
// (digits and capitals without I, O, S, V, Z).
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormaliseUSCC upper-cases a unified social credit code and removes spaces,
// hyphens and full-width forms; it does not validate.
func NormaliseUSCC(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '\uFF01' && r <= '\uFF5E' {
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || r == '-' || r == '\u3000' {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// ValidUSCC reports whether s (already normalised) is an 18-character unified
// social credit code whose check character is right (GB 32100-2015).
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	c, ok := USCCCheckChar(s[:17])
	return ok && s[17] == c
}

// USCCCheckChar computes the 18th (check) character for the first 17 characters
// of a unified social credit code; ok is false if a character is outside the
// code's alphabet. Useful to build valid codes for tests and demo data.
func USCCCheckChar(first17 string) (c byte, ok bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccCharset, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	check := 31 - sum%31
	if check == 31 {
		check = 0
	}
	return usccCharset[check], true
}

// ExclusivityKeyOf is the primary key of a report's exclusivity claim, the
// one ProjectReported.ExclusivityKey records: the investor's unified social
// credit code when given, else its normalised name, with the normalised
// industry chain (Jiaxing 2024 二(一)3; DOMAIN.md: "same uscc, or same
// normalised name when no code, in the same industry chain").
//
// One key is not enough to judge a report: a report with the code and one
// without must still meet. ExclusivityKeysOf lists every key a report claims
// and is judged under; SameInvestor says when two investors are the same.
func ExclusivityKeyOf(inv Investor, chain string) string {
	if u := NormaliseUSCC(inv.USCC); u != "" {
		return usccKey(u, chain)
	}
	return nameKey(inv.Name, chain)
}

// ExclusivityKeysOf is every key under which a report of inv in chain is
// judged and, when it earns first-negotiation rights, claims them: always
// its name key ("name:<normalised name>|chain:<chain>"), and its uscc key
// ("uscc:<USCC>|chain:<chain>") when a code is given. The keys are sorted,
// which is the order the commands layer appends the claims in, so that two
// reports contending for the same streams meet them in the same order.
//
// Why both: DOMAIN.md judges "same uscc, or same normalised name when no
// code". A holder who reported with a code is found by a competitor with the
// same code under the uscc key, and by a competitor without a code under the
// name key; a holder who reported without a code is found by any competitor
// under the name key. So a claim with a code is recorded under both keys, a
// claim without one under its name key, and a competing report reads the
// streams of all its keys; SameInvestor then decides which of the claims
// found there are the same investor (two different valid codes under one
// name are two companies).
func ExclusivityKeysOf(inv Investor, chain string) []string {
	keys := []string{nameKey(inv.Name, chain)}
	if u := NormaliseUSCC(inv.USCC); u != "" {
		keys = append(keys, usccKey(u, chain))
	}
	slices.Sort(keys)
	return keys
}

func nameKey(name, chain string) string {
	return "name:" + NormaliseName(name) + "|chain:" + NormaliseName(chain)
}

func usccKey(normalisedUSCC, chain string) string {
	return "uscc:" + normalisedUSCC + "|chain:" + NormaliseName(chain)
}

// SameInvestor reports whether a and b are the same investor for 首报首谈
// (Jiaxing 2024 二(一)3; DOMAIN.md "same uscc, or same normalised name when no
// code"): when both give a unified social credit code, the codes decide —
// the same code under two spellings of the name is one company, and two
// different codes under the same name are two companies; when either gives
// none, the normalised names decide. A name that normalises to nothing
// matches nothing.
func SameInvestor(a, b Investor) bool {
	ua, ub := NormaliseUSCC(a.USCC), NormaliseUSCC(b.USCC)
	if ua != "" && ub != "" {
		return ua == ub
	}
	na := NormaliseName(a.Name)
	return na != "" && na == NormaliseName(b.Name)
}
