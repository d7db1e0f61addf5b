package domain

import (
	"maps"
	"math"
	"slices"
	"time"
)

// AnnualTargets is the state of one targets-<year> stream: each unit's targets
// for the year, the last AnnualTargetsSet per unit winning.
type AnnualTargets struct {
	year   int
	byUnit map[UnitCode]map[Indicator]float64
}

// Apply folds one event; other events are ignored.
func (t *AnnualTargets) Apply(e Event) {
	if s, ok := Unwrap(e).(AnnualTargetsSet); ok {
		t.year = s.Year
		if t.byUnit == nil {
			t.byUnit = map[UnitCode]map[Indicator]float64{}
		}
		t.byUnit[s.Unit] = maps.Clone(s.Indicators)
	}
}

// Year is the stream's year (0 when empty).
func (t *AnnualTargets) Year() int { return t.year }

// Of returns a unit's targets (nil when none were set).
func (t *AnnualTargets) Of(unit UnitCode) map[Indicator]float64 { return maps.Clone(t.byUnit[unit]) }

// Units lists the units with targets, sorted.
func (t *AnnualTargets) Units() []UnitCode { return slices.Sorted(maps.Keys(t.byUnit)) }

// SetTargets is PUT /targets/{year}/{unit}.
type SetTargets struct {
	Year       int                   `json:"-"`
	Unit       UnitCode              `json:"-"`
	Indicators map[Indicator]float64 `json:"indicators"`
}

// maxTarget bounds a target: ¥1000万亿 is beyond any city.
const maxTarget = 1e16

// Decide sets a unit's targets for the year (Jiaxing 2024 一(二) numeric
// targets by tier; Suzhou 一 per-county targets). Every indicator must be a
// known one and its value a positive whole number (a count of projects, or
// whole yuan for contract_investment, funds_arrived, out_of_province_funds).
// Setting the same targets again records nothing.
func (t *AnnualTargets) Decide(cmd SetTargets, now time.Time) ([]Event, error) {
	var v validator
	checkYear(&v, "year", cmd.Year)
	if t.year != 0 && cmd.Year != t.year {
		v.add("year", "stream_mismatch", "the stream holds year %d", t.year)
	}
	v.addErr("unit", cmd.Unit.Validate("unit"))
	if len(cmd.Indicators) == 0 {
		v.add("indicators", "required", "must name at least one indicator")
	}
	for _, ind := range slices.Sorted(maps.Keys(cmd.Indicators)) {
		f := "indicators." + string(ind)
		x := cmd.Indicators[ind]
		switch {
		case !ind.Valid():
			v.add(f, "unknown", "is not a known indicator")
		case !finite(x) || x <= 0:
			v.add(f, "positive", "must be a positive number")
		case x != math.Trunc(x):
			v.add(f, "whole", "must be a whole number (a count, or whole yuan)")
		case x > maxTarget:
			v.add(f, "too_large", "is out of range")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if cur, ok := t.byUnit[cmd.Unit]; ok && maps.Equal(cur, cmd.Indicators) {
		return nil, nil
	}
	return []Event{AnnualTargetsSet{Year: cmd.Year, Unit: cmd.Unit, Indicators: maps.Clone(cmd.Indicators),
		OccurredAt: now}}, nil
}
