package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PeriodKind is the granularity of a ranking period (晾晒: Changsha 十三
// 周调度、月通报; Jiaxing 2024 二(一)2 定期晾晒).
type PeriodKind string

const (
	PeriodYear    PeriodKind = "year"
	PeriodQuarter PeriodKind = "quarter"
	PeriodMonth   PeriodKind = "month"
	PeriodWeek    PeriodKind = "week" // ISO 8601 week, Monday to Sunday
)

// Period is a half-open interval [From, To) of business time in a zone, named
// like the API's ?period= ("2024", "2024-Q2", "2024-05", "2024-W18"). Counting
// follows occurred_at (DOMAIN.md "Ranking").
type Period struct {
	Kind PeriodKind
	Year int
	// N is the quarter (1–4), month (1–12) or ISO week (1–53); 0 for a year.
	N    int
	From time.Time
	To   time.Time
}

// ParsePeriod reads "2024", "2024-Q2", "2024-05" or "2024-W18" in loc.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	loc = orUTC(loc)
	bad := func() (Period, error) {
		return Period{}, fmt.Errorf("period %q: want YYYY, YYYY-Qn, YYYY-MM or YYYY-Www", s)
	}
	ys, rest, hasRest := strings.Cut(s, "-")
	if len(ys) != 4 {
		return bad()
	}
	year, err := strconv.Atoi(ys)
	if err != nil || year < 1 {
		return bad()
	}
	if !hasRest {
		return YearPeriod(year, loc), nil
	}
	num := func(t string) (int, bool) {
		n, err := strconv.Atoi(t)
		return n, err == nil && t != "" && t[0] != '+' && t[0] != '-'
	}
	switch {
	case strings.HasPrefix(rest, "Q"):
		q, ok := num(rest[1:])
		if !ok || q < 1 || q > 4 || len(rest) != 2 {
			return bad()
		}
		return QuarterPeriod(year, q, loc), nil
	case strings.HasPrefix(rest, "W"):
		w, ok := num(rest[1:])
		if !ok || len(rest) != 3 || w < 1 || w > isoWeeksIn(year) {
			return bad()
		}
		return WeekPeriod(year, w, loc), nil
	default:
		m, ok := num(rest)
		if !ok || len(rest) != 2 || m < 1 || m > 12 {
			return bad()
		}
		return MonthPeriod(year, time.Month(m), loc), nil
	}
}

// YearPeriod is the calendar year in loc.
func YearPeriod(year int, loc *time.Location) Period {
	loc = orUTC(loc)
	return Period{Kind: PeriodYear, Year: year,
		From: time.Date(year, 1, 1, 0, 0, 0, 0, loc), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)}
}

// QuarterPeriod is quarter q (1–4) of year in loc.
func QuarterPeriod(year, q int, loc *time.Location) Period {
	loc = orUTC(loc)
	m := time.Month(3*(q-1) + 1)
	return Period{Kind: PeriodQuarter, Year: year, N: q,
		From: time.Date(year, m, 1, 0, 0, 0, 0, loc), To: time.Date(year, m+3, 1, 0, 0, 0, 0, loc)}
}

// MonthPeriod is a calendar month in loc.
func MonthPeriod(year int, m time.Month, loc *time.Location) Period {
	loc = orUTC(loc)
	return Period{Kind: PeriodMonth, Year: year, N: int(m),
		From: time.Date(year, m, 1, 0, 0, 0, 0, loc), To: time.Date(year, m+1, 1, 0, 0, 0, 0, loc)}
}

// WeekPeriod is ISO week w of ISO year year, Monday 00:00 to Monday 00:00 in loc.
func WeekPeriod(year, w int, loc *time.Location) Period {
	loc = orUTC(loc)
	jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, loc)
	offset := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	mon := time.Date(year, 1, 4-offset+7*(w-1), 0, 0, 0, 0, loc)
	return Period{Kind: PeriodWeek, Year: year, N: w, From: mon,
		To: time.Date(mon.Year(), mon.Month(), mon.Day()+7, 0, 0, 0, 0, loc)}
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func isoWeeksIn(year int) int {
	_, w := time.Date(year, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// Contains reports whether t lies in [From, To).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// Previous is the period of the same kind just before p (for 比学赶超 change).
func (p Period) Previous() Period {
	loc := p.From.Location()
	switch p.Kind {
	case PeriodQuarter:
		if p.N == 1 {
			return QuarterPeriod(p.Year-1, 4, loc)
		}
		return QuarterPeriod(p.Year, p.N-1, loc)
	case PeriodMonth:
		if p.N == 1 {
			return MonthPeriod(p.Year-1, 12, loc)
		}
		return MonthPeriod(p.Year, time.Month(p.N-1), loc)
	case PeriodWeek:
		if p.N == 1 {
			return WeekPeriod(p.Year-1, isoWeeksIn(p.Year-1), loc)
		}
		return WeekPeriod(p.Year, p.N-1, loc)
	}
	return YearPeriod(p.Year-1, loc)
}

// String names the period as the API does.
func (p Period) String() string {
	switch p.Kind {
	case PeriodQuarter:
		return fmt.Sprintf("%04d-Q%d", p.Year, p.N)
	case PeriodMonth:
		return fmt.Sprintf("%04d-%02d", p.Year, p.N)
	case PeriodWeek:
		return fmt.Sprintf("%04d-W%02d", p.Year, p.N)
	}
	return fmt.Sprintf("%04d", p.Year)
}
