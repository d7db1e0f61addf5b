package projections

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Options configures the views.
type Options struct {
	// Location is the zone of civil dates (API.md: a date means 00:00 in the
	// server's zone). Nil means Asia/Shanghai.
	Location *time.Location
}

// Shanghai is Asia/Shanghai, loaded from the system's zone database, or
// the fixed +08:00 it has kept since 1991 when no database is installed.
func Shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Shanghai", 8*3600)
}

func (o *Options) defaults() error {
	if o.Location == nil {
		o.Location = Shanghai()
	}
	return nil
}

// Errors of queries. Both are client mistakes (400), never server faults.
var (
	// ErrInvalidCursor: a cursor that this version of the views did not
	// issue, or issued for another list.
	ErrInvalidCursor = errors.New("projections: invalid cursor")
	// ErrInvalidQuery: a malformed query argument (period, kind, status…).
	ErrInvalidQuery = errors.New("projections: invalid query")
)

// View names, stable: they appear in digests, metrics and docs/views.md.
const (
	ViewReference   = "reference" // units, policy versions, targets
	ViewProjects    = "projects"
	ViewRanking     = "ranking"
	ViewSupervision = "supervision"
	ViewAssessment  = "assessment"
	ViewTolerance   = "tolerance"
)

// ViewNames lists the views in the order they are fed.
func ViewNames() []string {
	return []string{ViewReference, ViewProjects, ViewRanking, ViewSupervision, ViewAssessment, ViewTolerance}
}

const (
	vRef = iota
	vProj
	vRank
	vSup
	vAsm
	vTol
	numViews
)

// Views is every read model, kept in memory and fed in log order. One
// RWMutex guards them all: the runner applies each batch to every view
// under the write lock, so a query that crosses views (a project with its
// alerts, an assessment from the ranking's counts) always sees a single
// position, and queries run concurrently with each other under the read
// lock. Batches are small (Config.Batch) so a writer never holds readers
// back for long.
type Views struct {
	mu  sync.RWMutex
	loc *time.Location

	pos     eventstore.Position
	events  uint64
	applied [numViews]uint64
	chain   logChain

	ref  reference
	proj projectsState
	rank rankingState
	sup  supervisionState
	asm  assessmentState
	tol  toleranceState
	tl   timeline
	// subj is the subject (project, order, case) the event being applied
	// belongs to, for the timeline.
	subj  uint32
	touch *Touched
	obs   []Observer
	memo  memo
	// bulk defers arming alerts to the end of a replay (setBulk); when it
	// is off, each batch leaves the views armed.
	bulk bool
}

// NewViews returns empty views.
func NewViews(opts Options) *Views {
	_ = opts.defaults()
	v := &Views{loc: opts.Location}
	v.ref = newReference()
	v.proj = newProjectsState()
	v.rank = newRankingState()
	v.sup = newSupervisionState()
	v.asm = newAssessmentState()
	v.tol = newToleranceState()
	return v
}

// rlock takes the read lock on views whose alerts are armed: during a
// replay (setBulk) arming waits for the end, and a reader arriving before
// then arms what is pending under the write lock first.
func (v *Views) rlock() {
	v.mu.RLock()
	for v.sup.nDirty > 0 {
		v.mu.RUnlock()
		v.mu.Lock()
		v.settleArming()
		v.mu.Unlock()
		v.mu.RLock()
	}
}

// setBulk turns bulk feeding on or off: on, the alerts of the projects a
// batch changes are armed when the replay ends rather than after each
// batch, once per project instead of once per batch that touches it;
// turning it off arms what is pending.
func (v *Views) setBulk(on bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.bulk = on
	if !on {
		v.settleArming()
	}
}

// Location is the zone of the views' civil dates.
func (v *Views) Location() *time.Location { return v.loc }

// Position is the position of the last event applied (Start when none).
func (v *Views) Position() eventstore.Position {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.pos
}

// Events is how many events have been applied.
func (v *Views) Events() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.events
}

// Touched says what one batch changed, for observers that mirror the views
// elsewhere (the PostgreSQL read model): the keys whose rows to rewrite.
type Touched struct {
	Projects map[string]struct{}
	Orders   map[string]struct{}
	Cases    map[string]struct{}
	// Days are the business days (in the views' zone) whose ranking counts
	// changed.
	Days map[domain.Date]struct{}
	// Years are assessment years whose inputs changed other than through
	// Days (targets, bonuses, deductions, publications).
	Years map[int]struct{}
	// Reference is set when units or the policy changed: every ranking and
	// assessment may change.
	Reference bool
}

func newTouched() *Touched {
	return &Touched{Projects: map[string]struct{}{}, Orders: map[string]struct{}{}, Cases: map[string]struct{}{},
		Days: map[domain.Date]struct{}{}, Years: map[int]struct{}{}}
}

// Empty reports whether nothing was touched.
func (t *Touched) Empty() bool {
	return len(t.Projects) == 0 && len(t.Orders) == 0 && len(t.Cases) == 0 && len(t.Days) == 0 && len(t.Years) == 0 && !t.Reference
}

// Merge adds o into t.
func (t *Touched) Merge(o *Touched) {
	for k := range o.Projects {
		t.Projects[k] = struct{}{}
	}
	for k := range o.Orders {
		t.Orders[k] = struct{}{}
	}
	for k := range o.Cases {
		t.Cases[k] = struct{}{}
	}
	for k := range o.Days {
		t.Days[k] = struct{}{}
	}
	for k := range o.Years {
		t.Years[k] = struct{}{}
	}
	t.Reference = t.Reference || o.Reference
}

// Observer is told, after each applied batch and still under the views'
// write lock, what the batch touched and the position it reached. It must
// return quickly (record the keys, do the work elsewhere).
type Observer interface {
	Observe(t *Touched, through eventstore.Position)
}

// Observe registers an observer. Register before the runner starts.
func (v *Views) Observe(o Observer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.obs = append(v.obs, o)
	if v.touch == nil {
		v.touch = newTouched()
	}
}

// apply feeds a batch, in order, to every view.
func (v *Views) apply(dec []decoded, hashes [][32]byte) { v.applyFiltered(dec, hashes, nil) }

// applyFiltered is apply for the events keep accepts (nil keeps all);
// time travel feeds only the events recorded (or occurred) by a moment.
func (v *Views) applyFiltered(dec []decoded, hashes [][32]byte, keep func(*eventstore.Event) bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.proj.resolve(dec)
	for i := range dec {
		d := &dec[i]
		if keep != nil && !keep(d.Event) {
			continue
		}
		v.applyOne(d)
		v.chain.add(&hashes[i])
		v.pos = d.Position
		v.events++
	}
	if !v.bulk {
		v.settleArming()
	}
	if len(v.obs) > 0 && !v.touch.Empty() {
		for _, o := range v.obs {
			o.Observe(v.touch, v.pos)
		}
		v.touch = newTouched()
	}
}

func (v *Views) applyOne(d *decoded) {
	v.subj = 0
	defer func() { v.tl.add(d, v.subj) }()
	if d.Data == nil {
		return
	}
	switch e := d.Data.(type) {
	case domain.UnitRegistered, domain.UnitUpdated, domain.PolicyAdopted, domain.AnnualTargetsSet:
		if v.ref.apply(d) {
			v.applied[vRef]++
			if v.touch != nil {
				if t, ok := e.(domain.AnnualTargetsSet); ok {
					v.touch.Years[t.Year] = struct{}{}
				} else {
					v.touch.Reference = true
				}
			}
			if pa, ok := e.(domain.PolicyAdopted); ok {
				v.proj.retier(v.ref.current)
				if v.ref.widenArming(&pa.Policy) {
					v.rearmDeadlines()
				}
			}
			if u, ok := e.(domain.UnitRegistered); ok {
				v.rank.unitIndex(u.Code)
			}
			if t, ok := e.(domain.AnnualTargetsSet); ok {
				v.trackTargets(d, t)
			}
		}
	case domain.ReportRejected:
		v.supConflict(d, e)
	case domain.ExclusivityClaimed:
		// The claim's window is on the project's ProjectReported too; the
		// claim stream matters to the views only for its rejections.
	case domain.SupervisionOrderIssued, domain.SupervisionProgressReported, domain.SupervisionOrderClosed:
		v.applyOrder(d)
	case domain.ToleranceRequested, domain.ToleranceDecided:
		v.applyCase(d)
	case domain.BonusAwarded, domain.DeductionRecorded, domain.AssessmentPublished:
		v.applyAssessment(d)
	default:
		if d.pre.cat == catProject {
			v.applyProject(d)
		}
	}
}

// streamID is the id part of "category-<id>".
func streamID(stream string) string {
	_, id, _ := strings.Cut(stream, "-")
	return id
}

// dateOf is the civil date of t in the views' zone.
func (v *Views) dateOf(t time.Time) domain.Date { return domain.DateOf(t, v.loc) }

// farFuture is a "now" after every deadline: predicates asked at it tell
// whether an alert can ever open with the facts known.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
