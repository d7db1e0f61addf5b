package projections

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Digests are the views' reconciliation digests: which prefix of the log
// each has consumed (the chain of event hashes, equal to a seal's digest
// through the same position) and a SHA-256 of a canonical encoding of its
// state. `zhaoshang verify` prints them; Reconcile compares them with a
// fresh replay.
func (v *Views) Digests() []Digest {
	v.rlock()
	defer v.mu.RUnlock()
	out := make([]Digest, 0, numViews)
	for i, name := range ViewNames() {
		h := newStateHasher()
		v.hashState(i, h)
		out = append(out, Digest{View: name, Position: v.pos, Events: v.events, Applied: v.applied[i], Log: v.chain.String(), State: h.sum()})
	}
	return out
}

func (h *stateHasher) json(x any) {
	b, err := json.Marshal(x)
	if err != nil {
		// Every value hashed here marshals; a failure would make two
		// different states hash alike, so make it visible instead.
		b = []byte("unmarshalable: " + err.Error())
	}
	h.bytes(b)
}

func (h *stateHasher) f64(x float64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
	h.bytes(b[:])
}

func (h *stateHasher) i64(x int64) { h.str(strconv.FormatInt(x, 10)) }

func (v *Views) hashState(view int, h *stateHasher) {
	switch view {
	case vRef:
		h.json(v.ref.units.All())
		for _, pv := range v.ref.versions {
			h.json(policyItem(pv))
		}
		for _, y := range slices.Sorted(maps.Keys(v.ref.targets)) {
			t := v.ref.targets[y]
			for _, u := range t.Units() {
				h.i64(int64(y))
				h.str(string(u))
				h.json(t.Of(u))
			}
		}
	case vProj:
		for _, en := range v.proj.bySeq {
			if !en.p.Exists() {
				h.str(en.id)
				continue
			}
			h.json(v.projectState(en))
		}
	case vRank:
		rs := &v.rank
		for i := range rs.recs.Len() {
			r := rs.recs.At(i)
			h.str(r.pos.String())
			h.i64(r.evOcc)
			h.i64(r.evRec)
			h.i64(int64(r.day))
			h.str(string(rs.units[r.unit].code))
			if r.first != noUnit {
				h.str(string(rs.units[r.first].code))
			}
			for _, x := range rs.deltas.Run(int(r.off), int(r.n)) {
				h.i64(int64(x.ind))
				h.f64(x.v)
			}
		}
	case vSup:
		for _, en := range v.proj.bySeq {
			h.str(en.id)
			h.i64(int64(en.armed))
			for k := range numArmed {
				if en.armed&(1<<k) != 0 {
					h.i64(en.since[k])
				}
			}
			if b := en.signingBreach; b != nil {
				h.str(b.pos.String() + b.detail + strconv.FormatBool(en.breachCleared(b)))
			}
			for i := range en.lateRecords {
				b := &en.lateRecords[i]
				h.str(b.pos.String() + b.detail + strconv.FormatBool(en.breachCleared(b)))
			}
			for i := range en.conflicts {
				c := &en.conflicts[i]
				h.str(c.pos.String() + c.detail + strconv.FormatBool(en.conflictCleared(c)))
			}
		}
		for _, o := range v.sup.orders {
			is, _ := o.o.Issued()
			h.json(is)
			h.json(o.o.Progress())
			c, _ := o.o.Closure()
			h.json(c)
			h.str(o.pos.String())
		}
	case vAsm:
		for _, y := range slices.Sorted(maps.Keys(v.asm.points)) {
			for _, p := range v.asm.points[y] {
				h.str(fmt.Sprintf("%d|%s|%v|%v", p.year, p.unit, p.points, p.deductions))
			}
		}
		for _, y := range slices.Sorted(maps.Keys(v.asm.published)) {
			py := v.asm.published[y]
			h.i64(int64(y))
			h.i64(int64(py.policy))
			h.str(py.position.String())
			h.json(py.results)
		}
	case vTol:
		for _, c := range v.tol.bySeq {
			h.json(c.item())
		}
	}
}

// Reconciliation compares running views with a fresh replay of the same
// prefix of the log.
type Reconciliation struct {
	OK       bool                 `json:"ok"`
	Position eventstore.Position  `json:"position"`
	Views    []ViewReconciliation `json:"views"`
}

// ViewReconciliation is one view's comparison.
type ViewReconciliation struct {
	View    string `json:"view"`
	Equal   bool   `json:"equal"`
	Running Digest `json:"running"`
	Replay  Digest `json:"replay"`
}

// Reconcile replays events 1..N from the store, where N is the position
// the views are at, into fresh views and compares every digest. Run it
// while the runner is stopped, or on a Runner (which replays to the
// position it captured).
func Reconcile(ctx context.Context, s eventstore.Store, running *Views, opts Options) (Reconciliation, error) {
	got := running.Digests()
	through := got[0].Position
	if through.IsZero() {
		empty := NewViews(opts).Digests()
		return compareDigests(through, got, empty), nil
	}
	fresh, err := Replay(ctx, s, opts, through, nil)
	if err != nil {
		return Reconciliation{}, err
	}
	return compareDigests(through, got, fresh.Digests()), nil
}

// Reconcile compares the runner's views with a fresh replay of the log up
// to the position they are at. The running digests are taken first, under
// the views' read lock, at one position; the replay then stops at exactly
// that position, so views that keep moving meanwhile do not matter.
func (r *Runner) Reconcile(ctx context.Context) (Reconciliation, error) {
	return Reconcile(ctx, r.cfg.Store, r.views, r.cfg.Options)
}

func compareDigests(pos eventstore.Position, a, b []Digest) Reconciliation {
	rec := Reconciliation{OK: true, Position: pos}
	for i := range a {
		eq := a[i].Log == b[i].Log && a[i].State == b[i].State && a[i].Events == b[i].Events
		rec.OK = rec.OK && eq
		rec.Views = append(rec.Views, ViewReconciliation{View: a[i].View, Equal: eq, Running: a[i], Replay: b[i]})
	}
	return rec
}
