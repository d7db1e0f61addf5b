package domain

import (
	"fmt"
	"time"
)

// Date is a civil date (YYYY-MM-DD) without a zone. API.md: "a date means 00:00
// in the server's configured time zone", so conversions to instants take the
// zone as an argument; the domain never assumes one. JSON: "2024-05-01".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, normalising overflow (Feb 30 → Mar 1/2) like time.Date.
func NewDate(year int, month time.Month, day int) Date {
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// ParseDate reads YYYY-MM-DD strictly (no overflow, no time part).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// MustDate is ParseDate for constants in tests and examples; it panics on a bad date.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf is the civil date of instant t in loc (nil loc means t's own location).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc != nil {
		t = t.In(loc)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a real day of years 1–9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	return NewDate(d.Year, d.Month, d.Day) == d
}

// Start is 00:00 of d in loc (nil means UTC).
func (d Date) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// End is 00:00 of the next day in loc: the first instant after d.
func (d Date) End(loc *time.Location) time.Time { return d.AddDays(1).Start(loc) }

// AddDays returns d shifted by n calendar days.
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is later than o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Compare returns -1, 0 or +1.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	}
	return cmpInt(d.Day, o.Day)
}

// DaysUntil is the number of calendar days from d to o (negative if o is earlier).
func (d Date) DaysUntil(o Date) int {
	return int(o.Start(time.UTC).Sub(d.Start(time.UTC)).Hours() / 24)
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes YYYY-MM-DD ("" for the zero date).
func (d Date) MarshalText() ([]byte, error) {
	if !d.IsZero() && !d.Valid() {
		return nil, fmt.Errorf("invalid date %d-%d-%d", d.Year, d.Month, d.Day)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads YYYY-MM-DD; "" leaves the zero date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// days is n whole days as a duration. Policy day counts (exclusivity_days,
// late_record_days, stale_days) are measured in 24-hour days between instants;
// the zone matters only where a rule names a calendar date.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
