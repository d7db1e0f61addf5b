package projections

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// reference holds the small, slowly changing facts every other view reads:
// the units, every adopted policy version and the annual targets. It folds
// them with the domain's own aggregates.

type policyVersion struct {
	policy     *domain.Policy
	occurredAt time.Time
	recordedAt time.Time
	position   eventstore.Position
}

type unitState struct {
	unit       domain.Unit
	since      time.Time // occurred_at of its registration
	recordedAt time.Time
}

type reference struct {
	units    domain.Units
	unitMeta map[domain.UnitCode]unitState
	// unitHist keeps every version of every unit, for rankings as known at
	// a past moment.
	unitHist map[domain.UnitCode][]unitState
	policies domain.Policies
	versions []policyVersion
	targets  map[int]*domain.AnnualTargets
	// byOccurred is versions sorted by occurred_at, for "the policy in force
	// at time t" (usually already in that order).
	byOccurred []policyVersion
	// current is the last adopted version (or the default), kept so the
	// per-event path does not clone it. Policies are never modified once
	// adopted, so pointers to them are shared freely.
	current *domain.Policy
	deflt   *domain.Policy
	// armPol is the default policy with, of every version adopted, the
	// shortest stale, registration and start deadlines and the longest
	// exclusivity warning: what the supervision view arms deadline alerts
	// with (see armStale). Replaced, never modified.
	armPol *domain.Policy
	// rates are the USD→CNY rates of every version, the default's
	// included: funds_behind is armed if it can open under any of them.
	rates []domain.Rate
	// sorted is units.All(), kept between unit events (every ranking and
	// assessment lists the units).
	sorted atomic.Pointer[[]domain.Unit]
}

func newReference() reference {
	return reference{unitMeta: map[domain.UnitCode]unitState{}, unitHist: map[domain.UnitCode][]unitState{},
		targets: map[int]*domain.AnnualTargets{}, current: &defaultPolicy, deflt: &defaultPolicy, armPol: &defaultPolicy,
		rates: []domain.Rate{defaultPolicy.USDCNYRate}}
}

// widenArming folds an adopted version into armPol and rates and reports
// whether it moved any deadline earlier or set a new rate (every project
// must then be re-armed).
func (r *reference) widenArming(pol *domain.Policy) bool {
	newRate := !slices.Contains(r.rates, pol.USDCNYRate)
	if newRate {
		r.rates = append(r.rates, pol.USDCNYRate)
	}
	a := *r.armPol // the maps are shared, never written
	a.StaleDays = min(a.StaleDays, pol.StaleDays)
	a.RegisterWithinDays = min(a.RegisterWithinDays, pol.RegisterWithinDays)
	a.StartWithinDays = min(a.StartWithinDays, pol.StartWithinDays)
	a.ExclusivityWarningDays = max(a.ExclusivityWarningDays, pol.ExclusivityWarningDays)
	o := r.armPol
	if a.StaleDays == o.StaleDays && a.RegisterWithinDays == o.RegisterWithinDays && a.StartWithinDays == o.StartWithinDays &&
		a.ExclusivityWarningDays == o.ExclusivityWarningDays {
		return newRate
	}
	r.armPol = &a
	return true
}

// defaultPolicy is version 0, shared read-only.
var defaultPolicy = domain.DefaultPolicy()

func (r *reference) apply(d *decoded) bool {
	switch e := d.Data.(type) {
	case domain.UnitRegistered:
		r.units.Apply(e)
		r.sorted.Store(nil)
		u := domain.Unit{Code: e.Code, Name: e.Name, Kind: e.Kind, EstablishedOn: e.EstablishedOn}
		r.unitMeta[e.Code] = unitState{unit: u, since: e.OccurredAt, recordedAt: d.RecordedAt}
		r.unitHist[e.Code] = append(r.unitHist[e.Code], unitState{unit: u, since: e.OccurredAt, recordedAt: d.RecordedAt})
	case domain.UnitUpdated:
		r.units.Apply(e)
		r.sorted.Store(nil)
		m := r.unitMeta[e.Code]
		m.unit = domain.Unit{Code: e.Code, Name: e.Name, Kind: e.Kind, EstablishedOn: e.EstablishedOn}
		if m.since.IsZero() {
			m.since, m.recordedAt = e.OccurredAt, d.RecordedAt
		}
		r.unitMeta[e.Code] = m
		r.unitHist[e.Code] = append(r.unitHist[e.Code], unitState{unit: m.unit, since: e.OccurredAt, recordedAt: d.RecordedAt})
	case domain.PolicyAdopted:
		r.policies.Apply(e)
		pol := e.Policy.Clone()
		pv := policyVersion{policy: &pol, occurredAt: e.OccurredAt, recordedAt: d.RecordedAt, position: d.Position}
		r.versions = append(r.versions, pv)
		r.current = pv.policy
		i, _ := slices.BinarySearchFunc(r.byOccurred, pv.occurredAt, func(p policyVersion, t time.Time) int {
			if p.occurredAt.After(t) {
				return 1
			}
			return -1
		})
		r.byOccurred = slices.Insert(r.byOccurred, i, pv)
	case domain.AnnualTargetsSet:
		t := r.targets[e.Year]
		if t == nil {
			t = &domain.AnnualTargets{}
			r.targets[e.Year] = t
		}
		t.Apply(e)
	default:
		return false
	}
	return true
}

// policyAt is the policy in force at business time t: the last version
// adopted (occurred_at) at or before t, or the domain's default (version
// 0) before any adoption. Results for a period use the policy in force at
// its end, so last year's scores are recomputed under last year's rules.
func (r *reference) policyAt(t time.Time) *domain.Policy {
	// Almost always the last version is in force: check it first.
	if n := len(r.byOccurred); n > 0 && !r.byOccurred[n-1].occurredAt.After(t) {
		return r.byOccurred[n-1].policy
	}
	i, _ := slices.BinarySearchFunc(r.byOccurred, t, func(p policyVersion, t time.Time) int {
		if p.occurredAt.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return r.deflt
	}
	return r.byOccurred[i-1].policy
}

// policyForPeriod is the policy in force at the last instant of [from, to).
func (r *reference) policyForPeriod(to time.Time) *domain.Policy {
	return r.policyAt(to.Add(-time.Nanosecond))
}

// policyFor is the policy in force at the end of a period ending at to,
// among the versions known under k.
func (r *reference) policyFor(to time.Time, k known) *domain.Policy {
	if !k.on {
		return r.policyForPeriod(to)
	}
	last := to.Add(-time.Nanosecond)
	for i := len(r.byOccurred) - 1; i >= 0; i-- {
		pv := &r.byOccurred[i]
		if !pv.occurredAt.After(last) && k.keeps(pv.occurredAt, pv.recordedAt) {
			return pv.policy
		}
	}
	return r.deflt
}

// allUnits is units.All(), cached. Callers must not modify it.
func (r *reference) allUnits() []domain.Unit {
	// Filled under the views' read lock by whichever query comes first
	// (two may compute it at once; both results are equal); the apply
	// path, which empties it, holds the write lock.
	if p := r.sorted.Load(); p != nil {
		return *p
	}
	all := r.units.All()
	r.sorted.Store(&all)
	return all
}

// unitsKnown lists the units as known under k (each at its last version
// known), ordered by kind, then code, like domain.Units.All.
func (r *reference) unitsKnown(k known) []domain.Unit {
	if !k.on {
		return r.allUnits()
	}
	var out []domain.Unit
	for _, hist := range r.unitHist {
		for i := len(hist) - 1; i >= 0; i-- {
			if k.keeps(hist[i].since, hist[i].recordedAt) {
				out = append(out, hist[i].unit)
				break
			}
		}
	}
	kinds := domain.UnitKinds()
	slices.SortFunc(out, func(a, b domain.Unit) int {
		ka, kb := slices.Index(kinds, a.Kind), slices.Index(kinds, b.Kind)
		if ka < 0 {
			ka = len(kinds)
		}
		if kb < 0 {
			kb = len(kinds)
		}
		if ka != kb {
			return ka - kb
		}
		return strings.Compare(string(a.Code), string(b.Code))
	})
	return out
}

func (r *reference) targetsOf(year int, unit domain.UnitCode) map[domain.Indicator]float64 {
	if t := r.targets[year]; t != nil {
		return t.Of(unit)
	}
	return nil
}

// ---- queries ----

// UnitItem is a unit as GET /units answers it.
type UnitItem struct {
	Code          domain.UnitCode `json:"code"`
	Name          string          `json:"name"`
	Kind          domain.UnitKind `json:"kind"`
	EstablishedOn *domain.Date    `json:"established_on,omitempty"`
}

func unitItem(u domain.Unit) UnitItem {
	it := UnitItem{Code: u.Code, Name: u.Name, Kind: u.Kind}
	if !u.EstablishedOn.IsZero() {
		d := u.EstablishedOn
		it.EstablishedOn = &d
	}
	return it
}

// UnitsResult lists the registered units.
type UnitsResult struct {
	Position eventstore.Position `json:"position"`
	Items    []UnitItem          `json:"items"`
}

// Units lists the registered units by kind, then code.
func (v *Views) Units() UnitsResult {
	v.mu.RLock()
	defer v.mu.RUnlock()
	all := v.ref.units.All()
	out := UnitsResult{Position: v.pos, Items: make([]UnitItem, len(all))}
	for i, u := range all {
		out.Items[i] = unitItem(u)
	}
	return out
}

// Unit returns one unit.
func (v *Views) Unit(code domain.UnitCode) (UnitItem, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	u, ok := v.ref.units.Get(code)
	return unitItem(u), ok
}

// PolicyItem is one policy version with when it was adopted.
type PolicyItem struct {
	Version    int                 `json:"version"`
	Policy     domain.Policy       `json:"policy"`
	AdoptedAt  *time.Time          `json:"adopted_at"`
	RecordedAt *time.Time          `json:"recorded_at"`
	Position   eventstore.Position `json:"position"`
}

// PolicyResult is the policy view's answer.
type PolicyResult struct {
	Position eventstore.Position `json:"position"`
	Current  PolicyItem          `json:"current"`
}

// Policy returns the current policy (the last adopted, or the default
// version 0).
func (v *Views) Policy() PolicyResult {
	v.mu.RLock()
	defer v.mu.RUnlock()
	res := PolicyResult{Position: v.pos, Current: PolicyItem{Version: 0, Policy: domain.DefaultPolicy()}}
	if n := len(v.ref.versions); n > 0 {
		res.Current = policyItem(v.ref.versions[n-1])
	}
	return res
}

// PolicyVersion returns one version; 0 is the built-in default.
func (v *Views) PolicyVersion(version int) (PolicyItem, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if version == 0 {
		return PolicyItem{Version: 0, Policy: domain.DefaultPolicy()}, true
	}
	for _, pv := range v.ref.versions {
		if pv.policy.Version == version {
			return policyItem(pv), true
		}
	}
	return PolicyItem{}, false
}

// PolicyVersions lists every version, the default first.
func (v *Views) PolicyVersions() []PolicyItem {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []PolicyItem{{Version: 0, Policy: domain.DefaultPolicy()}}
	for _, pv := range v.ref.versions {
		out = append(out, policyItem(pv))
	}
	return out
}

// PolicyAt is the policy in force at business time t.
func (v *Views) PolicyAt(t time.Time) domain.Policy {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.ref.policyAt(t).Clone()
}

func policyItem(pv policyVersion) PolicyItem {
	a, r := pv.occurredAt, pv.recordedAt
	return PolicyItem{Version: pv.policy.Version, Policy: pv.policy.Clone(), AdoptedAt: &a, RecordedAt: &r, Position: pv.position}
}

// TargetsItem is one unit's targets for a year.
type TargetsItem struct {
	Year       int                          `json:"year"`
	Unit       domain.UnitCode              `json:"unit"`
	Indicators map[domain.Indicator]float64 `json:"indicators"`
}

// Targets lists the targets of a year (all units, or one when unit is set).
func (v *Views) Targets(year int, unit domain.UnitCode) []TargetsItem {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t := v.ref.targets[year]
	if t == nil {
		return []TargetsItem{}
	}
	var out []TargetsItem
	for _, u := range t.Units() {
		if unit != "" && u != unit {
			continue
		}
		out = append(out, TargetsItem{Year: year, Unit: u, Indicators: t.Of(u)})
	}
	if out == nil {
		out = []TargetsItem{}
	}
	return out
}
