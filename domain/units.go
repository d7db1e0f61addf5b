package domain

import (
	"maps"
	"slices"
	"time"
)

// Units is the state of the units stream: every registered unit.
type Units struct {
	byCode map[UnitCode]Unit
}

// Apply folds one event; other events are ignored.
func (u *Units) Apply(e Event) {
	switch e := Unwrap(e).(type) {
	case UnitRegistered:
		u.put(Unit{Code: e.Code, Name: e.Name, Kind: e.Kind, EstablishedOn: e.EstablishedOn})
	case UnitUpdated:
		u.put(Unit{Code: e.Code, Name: e.Name, Kind: e.Kind, EstablishedOn: e.EstablishedOn})
	}
}

func (u *Units) put(x Unit) {
	if u.byCode == nil {
		u.byCode = map[UnitCode]Unit{}
	}
	u.byCode[x.Code] = x
}

// Get returns a unit by code.
func (u *Units) Get(code UnitCode) (Unit, bool) {
	x, ok := u.byCode[code]
	return x, ok
}

// All lists the units sorted by kind, then code.
func (u *Units) All() []Unit {
	out := slices.Collect(maps.Values(u.byCode))
	slices.SortFunc(out, func(a, b Unit) int {
		if c := kindOrder(a.Kind) - kindOrder(b.Kind); c != 0 {
			return c
		}
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	})
	return out
}

// Require returns a validation error naming field unless code is a registered
// unit. Commands that name a unit (a report's unit, a transfer's to_unit, a
// target's unit, an order's responsible_unit) call it with the units state.
func (u *Units) Require(field string, code UnitCode) error {
	if err := code.Validate(field); err != nil {
		return ValidationErrors{err.(*ValidationError)}
	}
	if _, ok := u.byCode[code]; !ok {
		return ValidationErrors{{Field: field, Rule: "unknown_unit", Message: "unit " + string(code) + " is not registered"}}
	}
	return nil
}

// RequireHost is Require for a unit that is to take a project over: it must
// also not be the centre, which coordinates transfers rather than receiving
// them (Jiaxing 2024 二(一)3 "经市投促中心协调流转至其他主体洽谈并落户").
func (u *Units) RequireHost(field string, code UnitCode) error {
	if err := u.Require(field, code); err != nil {
		return err
	}
	if u.byCode[code].Kind == UnitCentre {
		return ValidationErrors{{Field: field, Rule: "centre", Message: "the centre coordinates transfers; a project moves to a county, park or department"}}
	}
	return nil
}

// RegisterUnit is PUT /units/{code}.
type RegisterUnit struct {
	Code          UnitCode `json:"-"`
	Name          string   `json:"name"`
	Kind          UnitKind `json:"kind"`
	EstablishedOn Date     `json:"established_on,omitzero"`
}

// Decide registers a unit or, for a known code, updates its name, kind or
// founding date. The name is any non-empty text (Chinese welcome, e.g.
// 南湖区); the kind is one of county, park, department, centre (DOMAIN.md
// "Units, roles, actors"); established_on, when given, is a real date not
// after today (a unit is registered once it exists). A PUT replaces the
// unit: one without established_on clears it. A PUT that changes nothing
// records nothing.
func (u *Units) Decide(cmd RegisterUnit, now time.Time) ([]Event, error) {
	var v validator
	v.addErr("code", cmd.Code.Validate("code"))
	checkText(&v, "name", cmd.Name, true, maxName)
	if cmd.Kind == "" {
		v.add("kind", "required", "is required")
	} else if !cmd.Kind.Valid() {
		v.add("kind", "unknown", "must be county, park, department or centre")
	}
	if d := cmd.EstablishedOn; !d.IsZero() {
		if !d.Valid() {
			v.add("established_on", "format", "must be a real date YYYY-MM-DD")
		} else if d.After(DateOf(now, now.Location())) {
			v.add("established_on", "future", "lies in the future")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	cur, ok := u.byCode[cmd.Code]
	switch {
	case !ok:
		return []Event{UnitRegistered{Code: cmd.Code, Name: cmd.Name, Kind: cmd.Kind, EstablishedOn: cmd.EstablishedOn, OccurredAt: now}}, nil
	case cur.Name == cmd.Name && cur.Kind == cmd.Kind && cur.EstablishedOn == cmd.EstablishedOn:
		return nil, nil
	}
	return []Event{UnitUpdated{Code: cmd.Code, Name: cmd.Name, Kind: cmd.Kind, EstablishedOn: cmd.EstablishedOn, OccurredAt: now}}, nil
}
