package projections

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The projects view: every project's state, folded by the domain's own
// Project aggregate (one source of truth for the lifecycle), plus the
// indexes that answer filtered lists and the four lists.

type projectEntry struct {
	// The fields every event touches come first, so that they share the
	// first cache lines of the entry.
	seq uint32
	// armed: the alert kinds that can open with the facts known; read it
	// (and since, and supervisionState.armed) only under Views.rlock,
	// which arms what a replay left pending.
	armed        uint16
	startSeen    bool
	version      uint64
	pos          eventstore.Position
	recordedAt   time.Time
	lastProgress time.Time
	// since is, per armed kind, the earliest moment it can open (Unix ns).
	since [numArmed]int64
	// landing is p.LandingUnit(), kept where the apply path reads it.
	landing domain.UnitCode
	// Ranking: the landing unit last looked up, and the units' indexes.
	rkLanding domain.UnitCode
	rkUnit    uint16
	rkFirst   uint16
	// Supervision: cumulative funds arrived and the contract's funds
	// schedule, cumulative, for arming funds_behind; covered counts the
	// leading milestones the funds cover at every rate, over coveredRates
	// rates, and next is the milestone after them (armFunds).
	funds        money
	covered      uint32
	coveredRates uint32
	schedule     []milestone
	next         milestone
	// Stage and owner as last indexed (reindex compares them every event).
	stage domain.Stage
	unit  domain.UnitCode
	// state caches the project's answer (without alerts) until the project
	// changes: lists build dozens of them per page. Readers fill it under
	// the read lock; the apply path clears it under the write lock.
	state atomic.Pointer[ProjectState]
	id    string
	p     domain.Project

	// Other indexed keys, as last indexed.
	chain   string
	tier    string
	usd100m bool
	cats    []domain.Category
	// Names as recorded, and as last indexed for search (normalised; the
	// search index owns these two, under its own lock).
	name, investor string
	nameN, invN    string

	// Supervision.
	filedRecorded  []time.Time // recorded_at of signing filings
	signingBreach  *breach     // signing_not_filed
	lateRecords    []breach    // late_record, one per late event
	conflicts      []conflict  // exclusivity_conflict
	orderClosedRec time.Time   // recorded_at of the last closure of an order about it
	transferRec    time.Time   // recorded_at of the last transfer
	exclusiveUntil time.Time
	orders         []uint32 // seqs of orders about the project

	// Tolerance: the events the evaluation weighs, in log order, and the
	// cases about the project.
	evidence []evidenceRec
	cases    []uint32

	// Corrections of its details, in log order (flagged at query time).
	corrections []*correctionRec
}

// entrySlab is at most how many entries are allocated together: projects
// reported about the same time are busy about the same time, and entries
// side by side share pages (and TLB entries) as the log visits them.
const entrySlab = 256

type projectsState struct {
	// slab is what is left of the entries allocated together.
	slab  []projectEntry
	byID  map[string]*projectEntry
	byKey map[uuid.UUID]*projectEntry // the same entries, for the apply path
	bySeq []*projectEntry
	all   bitset
	stage keyedBitsets
	unit  keyedBitsets
	chain keyedBitsets
	tier  keyedBitsets
	cat   keyedBitsets
	usd   bitset
	// search is built lazily by name searches, not by the apply path.
	search searchIndex
	// renamed lists projects whose names changed after they were first
	// seen; appended under the views' write lock only.
	renamed []uint32
	// touched keeps resolve's reads from being optimised away.
	touched uint32
}

// searchIndex is the rune index over project and investor names. The
// apply path never touches it: a search first catches it up with the
// projects seen since the last search (and the renamed ones), under its
// own mutex, while holding the views' read lock — so the index costs
// nothing to rebuilds and each search pays only for what is new.
type searchIndex struct {
	mu      sync.Mutex
	runes   runeIndex
	upTo    uint32
	renamed int
}

func (ps *projectsState) catchUpSearch() {
	si := &ps.search
	if si.runes == nil {
		si.runes = runeIndex{}
	}
	index := func(en *projectEntry) {
		nameN, invN := normalizeSearch(en.name), normalizeSearch(en.investor)
		if nameN != en.nameN || invN != en.invN {
			en.nameN, en.invN = nameN, invN
			si.runes.add(en.seq, nameN, invN)
		}
	}
	for ; int(si.upTo) < len(ps.bySeq); si.upTo++ {
		index(ps.bySeq[si.upTo])
	}
	for ; si.renamed < len(ps.renamed); si.renamed++ {
		index(ps.bySeq[ps.renamed[si.renamed]])
	}
}

func newProjectsState() projectsState {
	return projectsState{byID: map[string]*projectEntry{}, byKey: map[uuid.UUID]*projectEntry{}, stage: keyedBitsets{}, unit: keyedBitsets{},
		chain: keyedBitsets{}, tier: keyedBitsets{}, cat: keyedBitsets{}}
}

func (ps *projectsState) create(id string) *projectEntry {
	// The id is cloned: the store's strings may share one allocation per
	// read batch, which a retained substring would keep alive.
	id = strings.Clone(id)
	if len(ps.slab) == 0 {
		// Small at first: time travel builds views of one project per
		// request, and a full slab is a third of a megabyte.
		ps.slab = make([]projectEntry, min(entrySlab, max(8, len(ps.bySeq))))
	}
	en := &ps.slab[0]
	ps.slab = ps.slab[1:]
	// The slab is zeroed memory: only what is not zero is written, so a
	// new entry costs the lines it touches, not all of them.
	en.seq, en.id = uint32(len(ps.bySeq)), id
	// A summary project: no view reads the talks' or due-process records,
	// only their count and kinds, and keeping 50k projects' talks would be
	// most of the fold's allocation.
	en.p.InitSummary()
	ps.byID[id] = en
	if k, err := uuid.Parse(id); err == nil {
		ps.byKey[k] = en
	}
	ps.bySeq = append(ps.bySeq, en)
	ps.all.set(en.seq)
	return en
}

const tierNoneKey = "none"

func tierKey(t domain.Tier) string {
	if t == domain.TierNone {
		return tierNoneKey
	}
	return string(t)
}

// reindex brings the entry's index keys up to date after event e.
func (ps *projectsState) reindex(en *projectEntry, e domain.Event, pol *domain.Policy) {
	if s := en.p.Stage(); s != en.stage {
		ps.stage.remove(string(en.stage), en.seq)
		ps.stage.add(string(s), en.seq)
		en.stage = s
	}
	if u := en.p.Unit(); u != en.unit {
		ps.unit.remove(string(en.unit), en.seq)
		ps.unit.add(string(u), en.seq)
		en.unit = u
	}
	switch x := e.(type) {
	case domain.ProjectReported:
		ps.setDescriptive(en, x.Name, x.Investor.Name, x.IndustryChain, x.Investor.Categories)
		ps.setTier(en, pol)
	case domain.ContractSigned, domain.ContractAmended:
		ps.setTier(en, pol)
	case domain.DetailsCorrected:
		s := en.p.Snapshot()
		ps.setDescriptive(en, s.Name, s.Investor.Name, s.IndustryChain, s.Investor.Categories)
		ps.setTier(en, pol)
	}
}

func (ps *projectsState) setDescriptive(en *projectEntry, name, investor, chain string, cats []domain.Category) {
	if (name != en.name || investor != en.investor) && int(en.seq) < len(ps.bySeq) {
		if en.name != "" || en.investor != "" {
			ps.renamed = append(ps.renamed, en.seq)
		}
		en.name, en.investor = name, investor
	}
	if c := domain.NormaliseName(chain); c != en.chain {
		ps.chain.remove(en.chain, en.seq)
		ps.chain.add(c, en.seq)
		en.chain = c
	}
	if !slices.Equal(cats, en.cats) {
		for _, c := range en.cats {
			ps.cat.remove(string(c), en.seq)
		}
		for _, c := range cats {
			ps.cat.add(string(c), en.seq)
		}
		en.cats = slices.Clone(cats)
	}
}

func (ps *projectsState) setTier(en *projectEntry, pol *domain.Policy) {
	t, usd, err := en.p.TierOf(*pol)
	if err != nil {
		t, usd = domain.TierNone, false
	}
	if k := tierKey(t); k != en.tier {
		ps.tier.remove(en.tier, en.seq)
		ps.tier.add(k, en.seq)
		en.tier = k
	}
	if usd != en.usd100m {
		if usd {
			ps.usd.set(en.seq)
		} else {
			ps.usd.clear(en.seq)
		}
		en.usd100m = usd
	}
}

// retier recomputes every project's tier under a newly adopted policy (the
// USD rate and usd100m_includes_cny can move projects between tiers).
func (ps *projectsState) retier(pol *domain.Policy) {
	for _, en := range ps.bySeq {
		en.state.Store(nil) // the tier shown depends on the current policy
		if en.p.Exists() {
			ps.setTier(en, pol)
		}
	}
}

// foldable strips what no view answers (minutes of meetings, free-text
// reasons) from a project event before it is folded into the in-memory
// project: the fold keeps every fact it needs and the memory of 50k
// projects stays small. The decode workers call it, off the apply path.
// The full text stays in the log (GET /projects/{id}/history).
func foldable(e domain.Event) domain.Event {
	switch x := e.(type) {
	case domain.NegotiationRecorded:
		x.ProjectID, x.Summary, x.Participants = "", "", nil
		return x
	case domain.DueProcessRecorded:
		x.ProjectID, x.Summary, x.Body = "", "", ""
		return x
	case domain.SigningFiled:
		x.ProjectID, x.Venue = "", ""
		return x
	case domain.ContractAmended:
		x.ProjectID, x.Reason = "", ""
		return x
	case domain.ProjectTransferred:
		x.ProjectID, x.Reason = "", ""
		return x
	case domain.FundsArrived:
		x.ProjectID = ""
		return x
	case domain.CompanyRegistered:
		x.ProjectID = ""
		return x
	case domain.ConstructionStarted:
		x.ProjectID = ""
		return x
	case domain.ProductionStarted:
		x.ProjectID = ""
		return x
	}
	return e
}

// resolve looks up the entries of a batch's project events before the
// batch is applied. The entries of 50k projects do not fit in the caches
// and the log visits them in no order, so each first touch is a miss to
// main memory; here the lookups are independent of each other and the
// processor overlaps their misses, where the apply would wait for each in
// turn. Touching the entry's first line and its folded state's brings in
// what every event reads.
func (ps *projectsState) resolve(dec []decoded) {
	// Three passes, so that each one's loads are independent of each other
	// and many misses are in flight at once: the lookups, the entries'
	// first lines, their folded states'.
	for i := range dec {
		d := &dec[i]
		if d.pre.cat == catProject && d.Data != nil {
			d.en = ps.lookup(d)
		}
	}
	var sink uint32
	for i := range dec {
		if en := dec[i].en; en != nil {
			sink += en.seq
		}
	}
	for i := range dec {
		if en := dec[i].en; en != nil {
			sink += uint32(len(en.p.Stage()))
		}
	}
	ps.touched = sink
}

func (ps *projectsState) lookup(d *decoded) *projectEntry {
	if d.pre.keyOK {
		return ps.byKey[d.pre.key]
	}
	return ps.byID[d.pre.id]
}

func (v *Views) applyProject(d *decoded) {
	ps := &v.proj
	en := d.en
	if en == nil {
		// New in this batch (or created by an earlier event of it).
		en = ps.lookup(d)
	}
	if en == nil {
		en = ps.create(d.pre.id)
	}
	v.subj = subjProject | en.seq
	e := d.Data
	occ := e.Occurred()
	pol := v.ref.policyAt(occ)

	before := v.diffBefore(en, e)
	en.p.Apply(e)
	if en.state.Load() != nil {
		// Only when a reader cached an answer: during catch-up nothing is
		// cached, and a store is a write to a line the event may not touch.
		en.state.Store(nil)
	}
	if c, ok := e.(domain.DetailsCorrected); ok {
		v.noteCorrection(en, d, c)
	}
	switch e.(type) {
	case domain.ConstructionStarted:
		en.startSeen = true
	case domain.ProjectReported, domain.ContractSigned, domain.ProjectTransferred, domain.DetailsCorrected:
		en.landing = en.p.LandingUnit()
	}
	en.version, en.pos, en.recordedAt = d.Version, d.Position, d.RecordedAt
	if _, fix := e.(domain.DetailsCorrected); !fix && occ.After(en.lastProgress) {
		en.lastProgress = occ // domain.ProjectSnapshot.LastProgressAt, for the stale rule
	}
	v.applied[vProj]++
	ps.reindex(en, e, v.ref.current)

	if before != nil {
		v.rankDiff(en, d, before, v.diffAfter(en))
	} else {
		v.rankProjectEvent(en, d, e, pol)
	}
	v.supProjectEvent(en, d, e, occ, pol)
	v.tolProjectEvent(en, d, e)
	if v.touch != nil {
		v.touch.Projects[en.id] = struct{}{}
	}
}

// ---- queries ----

// DueProcessFlags says which due-process records exist (Jiaxing 2024 三(四)).
type DueProcessFlags struct {
	FeasibilityStudy   bool `json:"feasibility_study"`
	RiskAssessment     bool `json:"risk_assessment"`
	CollectiveDecision bool `json:"collective_decision"`
}

// ProjectState is a project as GET /projects/{id} answers it (API.md
// "Shapes outside clients read": Project).
type ProjectState struct {
	ID                 string              `json:"id"`
	Name               string              `json:"name"`
	Stage              domain.Stage        `json:"stage"`
	Unit               domain.UnitCode     `json:"unit"`
	FirstUnit          domain.UnitCode     `json:"first_unit"`
	Investor           domain.Investor     `json:"investor"`
	IndustryChain      string              `json:"industry_chain"`
	PlannedInvestment  domain.Money        `json:"planned_investment"`
	ContractInvestment *domain.Money       `json:"contract_investment"`
	Tier               *domain.Tier        `json:"tier"`
	USD100m            bool                `json:"usd100m"`
	Major              bool                `json:"major"`
	SourceChannel      string              `json:"source_channel,omitempty"`
	ExclusiveUntil     *time.Time          `json:"exclusive_until"`
	ReportedAt         *domain.Date        `json:"reported_at"`
	SignedAt           *domain.Date        `json:"signed_at"`
	RegisteredAt       *domain.Date        `json:"registered_at"`
	StartedAt          *domain.Date        `json:"started_at"`
	ProducingAt        *domain.Date        `json:"producing_at"`
	TerminatedAt       *domain.Date        `json:"terminated_at"`
	FundsArrived       domain.Money        `json:"funds_arrived"`
	DueProcess         DueProcessFlags     `json:"due_process"`
	Termination        *TerminationInfo    `json:"termination,omitempty"`
	Alerts             []string            `json:"alerts"`
	Version            uint64              `json:"version"`
	Position           eventstore.Position `json:"position"`
	// Seq orders projects as they were first seen (the list order).
	Seq uint32 `json:"-"`
	// Corrections are the corrections of its details in log order, each
	// with the published years it is flagged for (omitted when none).
	Corrections []CorrectionNote `json:"corrections,omitempty"`
}

// TerminationInfo is how a terminated project ended.
type TerminationInfo struct {
	Kind  domain.TerminationKind  `json:"kind"`
	Cause domain.TerminationCause `json:"cause"`
}

// ProjectSummary is a list item: the project without its alerts.
type ProjectSummary = ProjectState

// Project answers GET /projects/{id}: the project's state with the kinds
// of its alerts open at now.
func (v *Views) Project(id string, now time.Time) (ProjectState, eventstore.Position, bool) {
	v.rlock()
	defer v.mu.RUnlock()
	en := v.proj.byID[id]
	if en == nil || !en.p.Exists() {
		return ProjectState{}, v.pos, false
	}
	st := v.projectState(en)
	st.Alerts = v.projectAlertKinds(en, now)
	return st, v.pos, true
}

func datePtr(t time.Time, loc *time.Location) *domain.Date {
	if t.IsZero() {
		return nil
	}
	d := domain.DateOf(t, loc)
	return &d
}

// projectState is the project's answer without alerts. The cached value
// is never modified once stored (its pointers point at values no one
// changes); callers get a copy whose slices they may keep.
func (v *Views) projectState(en *projectEntry) ProjectState {
	if st := en.state.Load(); st != nil {
		c := *st
		c.Investor.Categories = slices.Clone(st.Investor.Categories)
		c.Alerts = []string{}
		c.Corrections = v.correctionNotes(en)
		return c
	}
	st := v.buildProjectState(en)
	en.state.Store(&st)
	c := st
	c.Investor.Categories = slices.Clone(st.Investor.Categories)
	// Not cached: a publication in another stream can flag a correction
	// without the project changing.
	c.Corrections = v.correctionNotes(en)
	return c
}

func (v *Views) buildProjectState(en *projectEntry) ProjectState {
	s := en.p.Snapshot()
	pol := *v.ref.current
	st := ProjectState{
		ID: s.ID, Name: s.Name, Stage: s.Stage, Unit: s.Unit, FirstUnit: s.FirstUnit, Investor: s.Investor,
		IndustryChain: s.IndustryChain, PlannedInvestment: s.PlannedInvestment, ContractInvestment: s.ContractInvestment,
		Major: s.Major, SourceChannel: string(s.SourceChannel), ExclusiveUntil: s.ExclusiveUntil,
		ReportedAt: datePtr(s.ReportedAt, v.loc), SignedAt: datePtr(s.SignedAt, v.loc), RegisteredAt: datePtr(s.RegisteredAt, v.loc),
		StartedAt: datePtr(s.StartedAt, v.loc), ProducingAt: datePtr(s.ProducingAt, v.loc), TerminatedAt: datePtr(s.TerminatedAt, v.loc),
		Version: en.version, Position: en.pos, Alerts: []string{}, Seq: en.seq,
	}
	if st.Investor.Categories == nil {
		st.Investor.Categories = []domain.Category{}
	}
	if t, usd, err := en.p.TierOf(pol); err == nil {
		st.USD100m = usd
		if t != domain.TierNone {
			st.Tier = &t
		}
	}
	if f, err := en.p.FundsArrivedTotal(time.Time{}, pol); err == nil {
		st.FundsArrived = f
	} else {
		st.FundsArrived = domain.Yuan(0)
	}
	st.DueProcess = DueProcessFlags(en.p.DueProcess())
	if s.Termination != nil {
		st.Termination = &TerminationInfo{Kind: s.Termination.Kind, Cause: s.Termination.Cause}
	}
	return st
}

// ProjectFilter selects projects (GET /projects). Empty fields do not
// filter.
type ProjectFilter struct {
	Stage domain.Stage
	// Unit is the current owner.
	Unit domain.UnitCode
	// Chain matches the industry chain, ignoring case, spaces, punctuation
	// and full-width forms.
	Chain string
	// Tier is the highest tier ("100m", "1b", "5b", "10b", "none"); a
	// trailing "+" ("1b+") means that tier or higher; "usd100m" keeps
	// projects above US$1亿.
	Tier     string
	Category domain.Category
	// Q matches substrings of the project's or the investor's name,
	// Chinese included, case-insensitive for Latin letters, full-width
	// forms folded. Several words must all match.
	Q      string
	Limit  int
	Cursor string
}

// ProjectPage is a page of projects, in the order they were reported.
type ProjectPage struct {
	Position   eventstore.Position `json:"-"`
	Items      []ProjectSummary    `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// Projects answers GET /projects.
func (v *Views) Projects(f ProjectFilter) (ProjectPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return ProjectPage{}, err
	}
	if f.Stage != "" && !f.Stage.Valid() {
		return ProjectPage{}, queryError("unknown stage " + string(f.Stage))
	}
	if f.Category != "" && !f.Category.Valid() {
		return ProjectPage{}, queryError("unknown category " + string(f.Category))
	}
	var from uint64
	tag := cursorTag("p", string(f.Stage), string(f.Unit), f.Chain, f.Tier, string(f.Category), f.Q)
	if f.Cursor != "" {
		if from, err = decodeCursor(f.Cursor, tag); err != nil {
			return ProjectPage{}, err
		}
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	cand, err := v.proj.candidates(f)
	if err != nil {
		return ProjectPage{}, err
	}
	page := ProjectPage{Position: v.pos, Items: []ProjectSummary{}}
	terms := searchTerms(f.Q)
	if len(terms) > 0 {
		v.proj.search.mu.Lock()
		defer v.proj.search.mu.Unlock()
		v.proj.catchUpSearch()
	}
	var last uint32
	v.proj.walk(cand, terms, uint32(from), func(en *projectEntry) bool {
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(tag, uint64(last)+1)
			return false
		}
		page.Items = append(page.Items, v.projectState(en))
		last = en.seq
		return true
	})
	return page, nil
}

// ListName names one of the four lists (Jiaxing 2024 二(一)1: 在谈、签约、
// 注册(备案)、开工).
type ListName string

const (
	ListNegotiating ListName = "negotiating"
	ListSigned      ListName = "signed"
	ListRegistered  ListName = "registered"
	ListStarted     ListName = "started"
)

// Lists are the four lists in order.
func Lists() []ListName { return []ListName{ListNegotiating, ListSigned, ListRegistered, ListStarted} }

// List answers GET /lists/{name}?unit=: the projects currently in that
// stage.
func (v *Views) List(name ListName, unit domain.UnitCode, limit int, cursor string) (ProjectPage, error) {
	if !slices.Contains(Lists(), name) {
		return ProjectPage{}, queryError("unknown list " + string(name) + " (want negotiating, signed, registered or started)")
	}
	return v.Projects(ProjectFilter{Stage: domain.Stage(name), Unit: unit, Limit: limit, Cursor: cursor})
}

// ListCounts is the size of each of the four lists (for one unit, or all).
func (v *Views) ListCounts(unit domain.UnitCode) map[ListName]int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[ListName]int{}
	for _, l := range Lists() {
		cand, _ := v.proj.candidates(ProjectFilter{Stage: domain.Stage(l), Unit: unit})
		out[l] = cand.count()
	}
	return out
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// candidates ANDs the bitsets the filter names; nil means "all projects".
func (ps *projectsState) candidates(f ProjectFilter) (bitset, error) {
	var cand bitset
	first := true
	and := func(b bitset) {
		if first {
			cand = slices.Clone(b)
			if cand == nil {
				cand = bitset{}
			}
			first = false
			return
		}
		cand = andInto(cand, cand, b)
	}
	get := func(k keyedBitsets, key string) bitset {
		if b := k[key]; b != nil {
			return *b
		}
		return bitset{}
	}
	if f.Stage != "" {
		and(get(ps.stage, string(f.Stage)))
	}
	if f.Unit != "" {
		and(get(ps.unit, string(f.Unit)))
	}
	if f.Chain != "" {
		and(get(ps.chain, domain.NormaliseName(f.Chain)))
	}
	if f.Category != "" {
		and(get(ps.cat, string(f.Category)))
	}
	if f.Tier != "" {
		switch t := f.Tier; {
		case t == "usd100m":
			and(ps.usd)
		case strings.HasSuffix(t, "+"):
			base := domain.Tier(strings.TrimSuffix(t, "+"))
			if !base.Valid() {
				return nil, queryError("unknown tier " + t)
			}
			var union bitset
			for _, x := range domain.Tiers() {
				if x.Threshold() >= base.Threshold() {
					union = orInto(union, get(ps.tier, string(x)))
				}
			}
			and(union)
		case t == tierNoneKey || domain.Tier(t).Valid():
			and(get(ps.tier, t))
		default:
			return nil, queryError("unknown tier " + t + " (want 100m, 1b, 5b, 10b, none, usd100m, or a tier followed by +)")
		}
	}
	if first {
		return ps.all, nil
	}
	return cand, nil
}

func orInto(dst, b bitset) bitset {
	if len(b) > len(dst) {
		dst = slices.Grow(dst, len(b)-len(dst))[:len(b)]
	}
	for i := range b {
		dst[i] |= b[i]
	}
	return dst
}

// walk calls fn for each candidate at or after seq from, in seq order,
// matching every search term, until fn returns false.
func (ps *projectsState) walk(cand bitset, terms []string, from uint32, fn func(*projectEntry) bool) {
	matches := func(en *projectEntry) bool {
		if !en.p.Exists() {
			return false
		}
		for _, t := range terms {
			if !strings.Contains(en.nameN, t) && !strings.Contains(en.invN, t) {
				return false
			}
		}
		return true
	}
	if len(terms) > 0 {
		lists, ok := ps.search.runes.candidates(terms)
		if !ok {
			return
		}
		intersect(lists, from, func(seq uint32) bool {
			if !cand.has(seq) {
				return true
			}
			en := ps.bySeq[seq]
			return !matches(en) || fn(en)
		})
		return
	}
	for seq, ok := cand.next(from); ok; seq, ok = cand.next(seq + 1) {
		if en := ps.bySeq[seq]; matches(en) && !fn(en) {
			return
		}
	}
}
