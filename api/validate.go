package api

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// UnitLookup answers whether a unit code is registered. The read side
// implements it; validation uses it to refuse unknown units with 422.
type UnitLookup interface {
	UnitExists(code string) bool
}

// Money as it arrives in a request body: {"amount": 1500000000, "currency":
// "CNY"}, whole yuan or whole dollars. Amount is a pointer so that a missing
// amount is told apart from zero.
type Money struct {
	Amount   *int64 `json:"amount"`
	Currency string `json:"currency"`
}

// Currencies accepted in Money.
const (
	CurrencyCNY = "CNY"
	CurrencyUSD = "USD"
)

// DefaultMaxAmount is the largest amount a request may carry: ¥1000万亿
// (10^15 yuan), well above any single project and far enough below the int64
// range that sums over every project of a city cannot overflow.
const DefaultMaxAmount int64 = 1_000_000_000_000_000

// DefaultClockSkew is how far in the future an occurred_at may lie, for
// callers whose clocks run a little fast (DOMAIN.md: "beyond a small
// clock-skew allowance"; the policy's default is 300 s).
const DefaultClockSkew = 5 * time.Minute

// ValidationConfig holds what field checks need from the server.
type ValidationConfig struct {
	// Now is the clock for "not in the future"; default time.Now.
	Now func() time.Time
	// Location is the zone a date means midnight in; default Asia/Shanghai.
	Location *time.Location
	// ClockSkew is the future allowance for occurred_at; default 5 min.
	ClockSkew time.Duration
	// MaxAmount bounds Money amounts; default DefaultMaxAmount.
	MaxAmount int64
	// Units, when set, makes Unit refuse codes that are not registered.
	Units UnitLookup
}

func (cfg ValidationConfig) withDefaults() ValidationConfig {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = defaultLocation()
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.MaxAmount <= 0 {
		cfg.MaxAmount = DefaultMaxAmount
	}
	return cfg
}

// defaultLocation is Asia/Shanghai (UTC+8, no daylight saving since 1991), or
// a fixed +08:00 zone where the zone database is missing, which gives the
// same dates.
func defaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Validator collects the field errors of one request so the client learns
// about all of them at once. Each check takes the field's path as the client
// spelt it and returns the parsed value (the zero value when invalid); Err
// reports what was collected.
//
//	v := s.Validator()
//	name := v.Required("name", body.Name)
//	at := v.Time("occurred_at", body.OccurredAt, true)
//	amount, cur, _ := v.Money("planned_investment", body.PlannedInvestment, true)
//	if err := v.Err(); err != nil { return err }
type Validator struct {
	cfg  ValidationConfig
	now  time.Time
	errs []FieldError
}

// NewValidator makes a validator; the clock is read once, so every check of
// a request judges against the same instant.
func NewValidator(cfg ValidationConfig) *Validator {
	cfg = cfg.withDefaults()
	return &Validator{cfg: cfg, now: cfg.Now()}
}

// Add records a field error.
func (v *Validator) Add(field, rule, message string) {
	v.errs = append(v.errs, FieldError{Field: field, Rule: rule, Message: message})
}

// Addf records a field error with a formatted message.
func (v *Validator) Addf(field, rule, format string, args ...any) {
	v.Add(field, rule, fmt.Sprintf(format, args...))
}

// Merge adds the field errors of err when it is a *ValidationError and
// reports whether it was one.
func (v *Validator) Merge(err error) bool {
	ve, ok := err.(*ValidationError)
	if ok {
		v.errs = append(v.errs, ve.Errors...)
	}
	return ok
}

// OK reports whether no error was recorded.
func (v *Validator) OK() bool { return len(v.errs) == 0 }

// Err is nil or a *ValidationError listing every recorded field error.
func (v *Validator) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: slices.Clone(v.errs)}
}

// Now is the instant the validator judges "the future" against.
func (v *Validator) Now() time.Time { return v.now }

// Location is the zone dates are read in.
func (v *Validator) Location() *time.Location { return v.cfg.Location }

// Text limits, generous for Chinese prose.
const (
	MaxNameLength    = 200
	MaxTextLength    = 500
	MaxSummaryLength = 10000
)

// Required is Text(field, s, true, MaxNameLength): a present, trimmed,
// printable string.
func (v *Validator) Required(field, s string) string {
	return v.Text(field, s, true, MaxNameLength)
}

// Text checks free text: trimmed, present when required, at most max runes,
// no control characters except newline, carriage return and tab. It returns
// the trimmed text.
func (v *Validator) Text(field, s string, required bool, max int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "required", "is required")
		}
		return ""
	}
	if !utf8.ValidString(s) {
		v.Add(field, "encoding", "is not valid UTF-8")
		return ""
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.Addf(field, "too_long", "has %d characters, more than the %d allowed", n, max)
		return ""
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			v.Add(field, "control_character", "contains a control character")
			return ""
		}
	}
	return s
}

// OneOf checks that s (trimmed) is one of allowed; an empty s is an error
// only when required.
func (v *Validator) OneOf(field, s string, required bool, allowed ...string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Addf(field, "required", "is required (one of %s)", strings.Join(allowed, ", "))
		}
		return ""
	}
	if !slices.Contains(allowed, s) {
		v.Addf(field, "unknown", "must be one of %s", strings.Join(allowed, ", "))
		return ""
	}
	return s
}

// EachOneOf checks every element of a list, naming each bad one by index
// (investor.categories[1]), and refuses duplicates.
func (v *Validator) EachOneOf(field string, values []string, allowed ...string) []string {
	out := make([]string, 0, len(values))
	seen := map[string]bool{}
	for i, s := range values {
		p := field + "[" + strconv.Itoa(i) + "]"
		s = v.OneOf(p, s, true, allowed...)
		if s == "" {
			continue
		}
		if seen[s] {
			v.Add(p, "duplicate", "appears more than once")
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// Time parses an RFC 3339 time that is not in the future beyond the clock
// skew (occurred_at: a fact happens before it is recorded).
func (v *Validator) Time(field, s string, required bool) (time.Time, bool) {
	t, ok := v.AnyTime(field, s, required)
	if !ok || t.IsZero() {
		return t, ok
	}
	if t.After(v.now.Add(v.cfg.ClockSkew)) {
		v.Add(field, "future", "lies in the future")
		return time.Time{}, false
	}
	return t, true
}

// AnyTime parses an RFC 3339 time, future allowed.
func (v *Validator) AnyTime(field, s string, required bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "required", "is required (an RFC 3339 time)")
			return time.Time{}, false
		}
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "format", "must be an RFC 3339 time, e.g. 2024-05-01T09:30:00+08:00")
		return time.Time{}, false
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		v.Add(field, "range", "must be between the years 1900 and 9999")
		return time.Time{}, false
	}
	return t, true
}

// Date parses a YYYY-MM-DD calendar date that exists (no 2023-02-29) and
// returns its midnight in the server's zone. Future dates are allowed
// (deadlines, planned signings, committed dates).
func (v *Validator) Date(field, s string, required bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "required", "is required (a date YYYY-MM-DD)")
			return time.Time{}, false
		}
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(time.DateOnly, s, v.cfg.Location)
	if err != nil || len(s) != len(time.DateOnly) {
		v.Add(field, "format", "must be an existing date YYYY-MM-DD")
		return time.Time{}, false
	}
	if t.Year() < 1900 {
		v.Add(field, "range", "must be in the year 1900 or later")
		return time.Time{}, false
	}
	return t, true
}

// PastDate is Date for a day that has begun (a fact's date).
func (v *Validator) PastDate(field, s string, required bool) (time.Time, bool) {
	t, ok := v.Date(field, s, required)
	if !ok || t.IsZero() {
		return t, ok
	}
	if t.After(v.now.Add(v.cfg.ClockSkew)) {
		v.Add(field, "future", "lies in the future")
		return time.Time{}, false
	}
	return t, true
}

// Money checks an amount: present when required, whole, 0 ≤ amount ≤ the
// maximum, currency CNY or USD. Errors name field.amount and field.currency.
func (v *Validator) Money(field string, m *Money, required bool) (amount int64, currency string, ok bool) {
	return v.money(field, m, required, false)
}

// PositiveMoney is Money refusing zero (a funds arrival of nothing).
func (v *Validator) PositiveMoney(field string, m *Money, required bool) (amount int64, currency string, ok bool) {
	return v.money(field, m, required, true)
}

func (v *Validator) money(field string, m *Money, required, positive bool) (int64, string, bool) {
	if m == nil {
		if required {
			v.Add(field, "required", `is required ({"amount": integer, "currency": "CNY" or "USD"})`)
			return 0, "", false
		}
		return 0, "", true
	}
	ok := true
	var amount int64
	switch {
	case m.Amount == nil:
		v.Add(field+".amount", "required", "is required (whole yuan or dollars)")
		ok = false
	case *m.Amount < 0:
		v.Add(field+".amount", "range", "must not be negative")
		ok = false
	case positive && *m.Amount == 0:
		v.Add(field+".amount", "range", "must be positive")
		ok = false
	case *m.Amount > v.cfg.MaxAmount:
		v.Addf(field+".amount", "range", "must be at most %d", v.cfg.MaxAmount)
		ok = false
	default:
		amount = *m.Amount
	}
	cur := v.OneOf(field+".currency", m.Currency, true, CurrencyCNY, CurrencyUSD)
	if cur == "" {
		ok = false
	}
	if !ok {
		return 0, "", false
	}
	return amount, cur, true
}

var unitCodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// Unit checks a unit code's syntax (1–32 ASCII letters, digits, '-', '_',
// starting with a letter or digit) and, when the server knows its units,
// that it is registered.
func (v *Validator) Unit(field, code string, required bool) string {
	code = strings.TrimSpace(code)
	if code == "" {
		if required {
			v.Add(field, "required", "is required (a unit code)")
		}
		return ""
	}
	if !unitCodePattern.MatchString(code) {
		v.Add(field, "format", "must be 1–32 ASCII letters, digits, '-' or '_', starting with a letter or digit")
		return ""
	}
	if v.cfg.Units != nil && !v.cfg.Units.UnitExists(code) {
		v.Addf(field, "unknown", "unit %q is not registered", code)
		return ""
	}
	return code
}

// UnitSyntax checks a unit code's syntax only (a PUT that registers it).
func (v *Validator) UnitSyntax(field, code string) string {
	code = strings.TrimSpace(code)
	if !unitCodePattern.MatchString(code) {
		v.Add(field, "format", "must be 1–32 ASCII letters, digits, '-' or '_', starting with a letter or digit")
		return ""
	}
	return code
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// UUID checks an id in canonical 8-4-4-4-12 form and returns it lower-cased.
func (v *Validator) UUID(field, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "required", "is required (an id)")
		}
		return ""
	}
	if !uuidPattern.MatchString(s) {
		v.Add(field, "format", "must be an id (UUID)")
		return ""
	}
	return strings.ToLower(s)
}

var sha256Pattern = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// SHA256 checks a hex SHA-256 digest and returns it lower-cased.
func (v *Validator) SHA256(field, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "required", "is required (64 hexadecimal digits)")
		}
		return ""
	}
	if !sha256Pattern.MatchString(s) {
		v.Add(field, "format", "must be a SHA-256 digest: 64 hexadecimal digits")
		return ""
	}
	return strings.ToLower(s)
}

// usccPattern is the unified social credit code (GB 32100-2015): 18
// characters of digits and upper-case letters without I, O, S, V, Z.
var usccPattern = regexp.MustCompile(`^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$`)

// USCC checks a unified social credit code's form (统一社会信用代码).
func (v *Validator) USCC(field, s string, required bool) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		if required {
			v.Add(field, "required", "is required (an 18-character unified social credit code)")
		}
		return ""
	}
	if !usccPattern.MatchString(s) {
		v.Add(field, "format", "must be an 18-character unified social credit code")
		return ""
	}
	return s
}

// IntRange checks min ≤ n ≤ max.
func (v *Validator) IntRange(field string, n, min, max int64) bool {
	if n < min || n > max {
		v.Addf(field, "range", "must be between %d and %d", min, max)
		return false
	}
	return true
}

// Year parses a year from a path or query value (2000–2100).
func (v *Validator) Year(field, s string) int {
	y, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || y < 2000 || y > 2100 {
		v.Add(field, "format", "must be a year between 2000 and 2100")
		return 0
	}
	return y
}
