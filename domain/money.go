package domain

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Currency of an amount. The ledger knows yuan and US dollars only (DOMAIN.md
// "Money and tiers"; Jiaxing 2024 一(二) counts both 亿元 and 亿美元 projects).
type Currency string

const (
	CNY Currency = "CNY"
	USD Currency = "USD"
)

// Valid reports whether c is CNY or USD.
func (c Currency) Valid() bool { return c == CNY || c == USD }

// Money is a whole amount of yuan or US dollars. Never a float: sums of many
// projects must be exact and reproducible.
type Money struct {
	Amount   int64    `json:"amount"`
	Currency Currency `json:"currency"`
}

// Yuan returns a CNY amount.
func Yuan(amount int64) Money { return Money{Amount: amount, Currency: CNY} }

// Dollars returns a USD amount.
func Dollars(amount int64) Money { return Money{Amount: amount, Currency: USD} }

// IsZero reports whether m is the zero value (no amount, no currency).
func (m Money) IsZero() bool { return m.Amount == 0 && m.Currency == "" }

func (m Money) String() string {
	switch m.Currency {
	case CNY:
		return "¥" + strconv.FormatInt(m.Amount, 10)
	case USD:
		return "US$" + strconv.FormatInt(m.Amount, 10)
	}
	return strconv.FormatInt(m.Amount, 10) + " " + string(m.Currency)
}

// Add returns m + o. Both must have the same currency; a sum outside int64 is
// ErrOverflow rather than a silent wrap.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	s := m.Amount + o.Amount
	if (o.Amount > 0 && s < m.Amount) || (o.Amount < 0 && s > m.Amount) {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrOverflow, m, o)
	}
	return Money{Amount: s, Currency: m.Currency}, nil
}

// Sub returns m − o with the same rules as Add.
func (m Money) Sub(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s - %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	d := m.Amount - o.Amount
	if (o.Amount < 0 && d < m.Amount) || (o.Amount > 0 && d > m.Amount) {
		return Money{}, fmt.Errorf("%w: %s - %s", ErrOverflow, m, o)
	}
	return Money{Amount: d, Currency: m.Currency}, nil
}

// Cmp compares two amounts of the same currency (-1, 0, +1).
func (m Money) Cmp(o Money) (int, error) {
	if m.Currency != o.Currency {
		return 0, fmt.Errorf("%w: %s vs %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	switch {
	case m.Amount < o.Amount:
		return -1, nil
	case m.Amount > o.Amount:
		return 1, nil
	}
	return 0, nil
}

// ToCNY converts to yuan at rate (CNY per USD). CNY passes through. The product
// is computed in 128 bits and rounded half away from zero to a whole yuan.
func (m Money) ToCNY(rate Rate) (Money, error) {
	switch m.Currency {
	case CNY:
		return m, nil
	case USD:
		v, err := rate.mul(m.Amount)
		if err != nil {
			return Money{}, err
		}
		return Yuan(v), nil
	}
	return Money{}, fmt.Errorf("%w: unknown currency %q", ErrCurrencyMismatch, m.Currency)
}

// validate checks currency and sign; field is the JSON field ("planned_investment").
func (m Money) validate(v *validator, field string, positive bool) {
	if m.Currency == "" {
		v.add(field+".currency", "required", "is required")
	} else if !m.Currency.Valid() {
		v.add(field+".currency", "unknown", "must be CNY or USD")
	}
	if positive && m.Amount <= 0 {
		v.add(field+".amount", "positive", "must be a positive whole amount")
	}
	if !positive && m.Amount < 0 {
		v.add(field+".amount", "non_negative", "must not be negative")
	}
}

// SumCNY adds amounts of any currency in yuan at rate.
func SumCNY(rate Rate, ms ...Money) (Money, error) {
	total := Yuan(0)
	for _, m := range ms {
		c, err := m.ToCNY(rate)
		if err != nil {
			return Money{}, err
		}
		if total, err = total.Add(c); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// RateScale is the fixed-point scale of Rate: a rate is stored in millionths.
const RateScale = 1_000_000

// Rate is an exchange rate in yuan per US dollar, fixed-point in millionths
// (7.1 is 7_100_000), so conversions are exact integer arithmetic. In JSON it is
// a plain decimal number ("usd_cny_rate": 7.1) read digit by digit, never
// through a float.
type Rate int64

// ParseRate reads a decimal such as "7.1" or "7.0851" (at most 6 decimals).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty rate")
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || strings.ContainsAny(intPart, "+-") || len(frac) > 6 {
		return 0, fmt.Errorf("rate %q: want a positive decimal with at most 6 decimals", s)
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("rate %q: %w", s, err)
	}
	var f int64
	if frac != "" {
		for len(frac) < 6 {
			frac += "0"
		}
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || strings.ContainsAny(frac, "+-") {
			return 0, fmt.Errorf("rate %q: bad decimals", s)
		}
	}
	if whole > math.MaxInt64/RateScale-1 {
		return 0, fmt.Errorf("rate %q: too large", s)
	}
	return Rate(whole*RateScale + f), nil
}

// String prints the rate as a decimal without trailing zeros ("7.1").
func (r Rate) String() string {
	whole, frac := int64(r)/RateScale, int64(r)%RateScale
	if frac < 0 {
		frac = -frac
	}
	if frac == 0 {
		return strconv.FormatInt(whole, 10)
	}
	fs := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	return strconv.FormatInt(whole, 10) + "." + fs
}

// MarshalJSON writes the rate as a JSON number.
func (r Rate) MarshalJSON() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalJSON accepts a JSON number or a string holding one.
func (r *Rate) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	s = strings.Trim(s, `"`)
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// mul returns amount × r rounded half away from zero, or ErrOverflow.
func (r Rate) mul(amount int64) (int64, error) {
	if r < 0 {
		return 0, fmt.Errorf("%w: negative rate", ErrOverflow)
	}
	neg := amount < 0
	a := uint64(amount)
	if neg {
		a = uint64(-amount) // -MinInt64 wraps to itself, which as uint64 is 2^63: correct
	}
	hi, lo := bits.Mul64(a, uint64(r))
	if hi >= RateScale {
		return 0, fmt.Errorf("%w: %d × %s", ErrOverflow, amount, r)
	}
	q, rem := bits.Div64(hi, lo, RateScale)
	if rem*2 >= RateScale {
		q++
	}
	if q > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %d × %s", ErrOverflow, amount, r)
	}
	if neg {
		return -int64(q), nil
	}
	return int64(q), nil
}

// Tier is the investment class of a project (Suzhou 一 亿元以上 / 10亿元以上;
// Jiaxing 2024 一(二) 10亿元、50亿元、100亿元以上).
type Tier string

const (
	TierNone Tier = ""
	Tier100m Tier = "100m" // ≥ ¥1亿
	Tier1b   Tier = "1b"   // ≥ ¥10亿
	Tier5b   Tier = "5b"   // ≥ ¥50亿
	Tier10b  Tier = "10b"  // ≥ ¥100亿
)

// Tier thresholds in yuan, and the 超亿美元 threshold in dollars. They are fixed
// by the documents' wording (DOMAIN.md "Money and tiers"), not by the policy.
const (
	Threshold100m    int64 = 100_000_000
	Threshold1b      int64 = 1_000_000_000
	Threshold5b      int64 = 5_000_000_000
	Threshold10b     int64 = 10_000_000_000
	ThresholdUSD100m int64 = 100_000_000
)

// Tiers lists the CNY tiers from lowest to highest.
func Tiers() []Tier { return []Tier{Tier100m, Tier1b, Tier5b, Tier10b} }

// Valid reports whether t is a known tier (TierNone is not).
func (t Tier) Valid() bool { return t == Tier100m || t == Tier1b || t == Tier5b || t == Tier10b }

// Threshold is the tier's lower bound in yuan.
func (t Tier) Threshold() int64 {
	switch t {
	case Tier100m:
		return Threshold100m
	case Tier1b:
		return Threshold1b
	case Tier5b:
		return Threshold5b
	case Tier10b:
		return Threshold10b
	}
	return 0
}

// Indicator is the signed_<tier> indicator the tier counts toward.
func (t Tier) Indicator() Indicator {
	switch t {
	case Tier100m:
		return IndSigned100m
	case Tier1b:
		return IndSigned1b
	case Tier5b:
		return IndSigned5b
	case Tier10b:
		return IndSigned10b
	}
	return ""
}

// Classification is how an investment amount counts.
type Classification struct {
	CNY     Money // the amount in yuan at the policy rate
	Tier    Tier  // highest CNY tier reached, or TierNone
	USD100m bool  // 总投资超亿美元
	Major   bool  // 首报首谈 / 重大签约 threshold (Jiaxing 2024 二(一)3)
}

// Reached lists every tier the amount reaches (a ¥60亿 project is in 100m, 1b
// and 5b): the documents' targets read "10亿元以上 80个, 其中50亿元以上 15个".
func (c Classification) Reached() []Tier {
	var out []Tier
	for _, t := range Tiers() {
		if c.CNY.Amount >= t.Threshold() {
			out = append(out, t)
		}
	}
	return out
}

// Classify classifies an amount under a policy: CNY tiers on the amount
// converted at usd_cny_rate; usd100m for a USD amount of at least US$1亿, and
// for a CNY amount only when the policy's usd100m_includes_cny says so
// (DOMAIN.md "Money and tiers"); major when at least the policy's thresholds
// (Jiaxing 2024 二(一)3: 总投资超亿美元和10亿元以上).
func Classify(m Money, pol Policy) (Classification, error) {
	cny, err := m.ToCNY(pol.USDCNYRate)
	if err != nil {
		return Classification{}, err
	}
	c := Classification{CNY: cny}
	for _, t := range Tiers() {
		if cny.Amount >= t.Threshold() {
			c.Tier = t
		}
	}
	switch m.Currency {
	case USD:
		c.USD100m = m.Amount >= ThresholdUSD100m
		c.Major = m.Amount >= pol.MajorThresholdUSD || cny.Amount >= pol.MajorThresholdCNY
	case CNY:
		if pol.USD100mIncludesCNY {
			limit, err := pol.USDCNYRate.mul(ThresholdUSD100m)
			if err != nil {
				return Classification{}, err
			}
			c.USD100m = m.Amount >= limit
		}
		c.Major = m.Amount >= pol.MajorThresholdCNY
		if pol.USD100mIncludesCNY && !c.Major {
			limit, err := pol.USDCNYRate.mul(pol.MajorThresholdUSD)
			if err != nil {
				return Classification{}, err
			}
			c.Major = m.Amount >= limit
		}
	}
	return c, nil
}

// IsMajor reports whether the amount is a major project under the policy
// (Jiaxing 2024 二(一)3); an unconvertible amount is not major.
func IsMajor(m Money, pol Policy) bool {
	c, err := Classify(m, pol)
	return err == nil && c.Major
}
