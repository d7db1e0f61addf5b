package pgread

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/internal/pgtest"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// The reasons of the scenario's corrections: Chinese text with full-width
// and typographic punctuation, a character outside the BMP (𠮷), a tab and
// a backslash, which must all come back from PostgreSQL byte for byte.
const (
	reason22 = "经核查，原合同金额录入有误（少录一位），依据正式合同文本予以更正；涉及2022年度考核。"
	reason24 = "投资方系“世界500强”企业，原录入遗漏该类别；经办人：𠮷田\t附件：材料\\2024-12。"
	reason21 = "补录投资方“中国500强”类别，不影响当年计分。"
)

// scenario is the generated ledger followed by three phases of hand-made
// events, each ending at an index of events:
//
//	A (to endA): a correction of a 2022 signing, after 2022 was published
//	  (flagged at once); a supervision order with a progress report; a
//	  correction of a 2024 signing, 2024 not yet published.
//	B (to endB): a second progress report; a correction of a 2021
//	  signing's categories that moves no count (flagged for 2021, so on
//	  2021's list though no day of 2021 changed); the publication of 2024
//	  frozen at a position before the 2024 correction — which flags it
//	  without touching its project.
//	C (to the end): a policy adoption that changes usd100m of projects
//	  nothing else touches.
type scenario struct {
	events     []eventstore.Event
	endA, endB int
	now        time.Time
	p21, p22   string
	p24        string
	order      string
}

type appender struct {
	t    *testing.T
	evs  []eventstore.Event
	ver  map[string]uint64
	prev map[string]string
	rec  time.Time
}

// add appends e the way a store records it: next position, stream version,
// hash chain, recorded_at never before the previous event's.
func (a *appender) add(stream string, e domain.Event) eventstore.Event {
	a.t.Helper()
	data, err := domain.Encode(e)
	if err != nil {
		a.t.Fatal(err)
	}
	rec := e.Occurred().Add(time.Minute)
	if !rec.After(a.rec) {
		rec = a.rec.Add(time.Second)
	}
	a.rec = rec
	a.ver[stream]++
	ne := eventstore.NewEvent{ID: uuid.New(), Type: e.EventType(), Data: data, OccurredAt: e.Occurred(),
		Actor: eventstore.Actor{Subject: "tester", Role: "centre"}}
	ev := eventstore.Stamp(&ne, stream, a.ver[stream], a.prev[stream], rec)
	n := uint64(len(a.evs) + 1)
	ev.Position = eventstore.Position{Commit: n, Prepare: n}
	a.prev[stream] = ev.Hash
	a.evs = append(a.evs, ev)
	return ev
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	log := generated(t, 3000)
	a := &appender{t: t, evs: slices.Clone(log.Events), ver: map[string]uint64{}, prev: map[string]string{}}
	for _, e := range log.Events {
		a.ver[e.Stream], a.prev[e.Stream] = e.Version, e.Hash
		if e.RecordedAt.After(a.rec) {
			a.rec = e.RecordedAt
		}
	}
	sc := &scenario{now: log.Config.End()}

	// The projects to correct: the first signed in 2022 and in 2024.
	v := projections.NewViews(projections.Options{Location: synth.Zone})
	feed(t, v, log, len(log.Events))
	var p21, p22, p24 projections.ProjectState
	for cursor := ""; ; {
		page, err := v.Projects(projections.ProjectFilter{Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			if p.SignedAt == nil || p.ContractInvestment == nil {
				continue
			}
			if p.SignedAt.Year == 2021 && p21.ID == "" && !slices.Contains(p.Investor.Categories, domain.CategoryChina500) {
				p21 = p
			}
			if p.SignedAt.Year == 2022 && p22.ID == "" {
				p22 = p
			}
			if p.SignedAt.Year == 2024 && p24.ID == "" {
				p24 = p
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if p21.ID == "" || p22.ID == "" || p24.ID == "" {
		t.Fatal("the generated ledger has no signing in 2021, 2022 or 2024")
	}
	if r, err := v.Assessment(projections.AssessmentQuery{Year: 2022}); err != nil || !r.Published {
		t.Fatal("the generated ledger does not publish 2022")
	}
	sc.p21, sc.p22, sc.p24, sc.order = p21.ID, p22.ID, p24.ID, uuid.NewString()
	raw := func(x any) json.RawMessage {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	at := func(h, m int) time.Time { return time.Date(2024, 12, 31, h, m, 0, 0, synth.Zone) }

	// Phase A.
	old := *p22.ContractInvestment
	c22 := a.add(domain.ProjectStream(p22.ID), domain.DetailsCorrected{ProjectID: p22.ID, Field: domain.FieldContractInvestment,
		Value: raw(domain.Money{Amount: old.Amount * 10, Currency: old.Currency}), Previous: raw(old), Reason: reason22,
		OccurredAt: at(12, 0), AffectedYears: []int{2022}})
	a.add(domain.SupervisionStream(sc.order), domain.SupervisionOrderIssued{OrderID: sc.order, ProjectID: p22.ID,
		Matter: "督办：合同金额更正后的资金到位", Target: "项目资金按更正后的合同到位", LeadLeader: "王副市长",
		ResponsibleUnit: p22.Unit, Requirements: "每月报送进展；“双周”约谈", Deadline: domain.MustDate("2025-03-31"), OccurredAt: at(12, 10)})
	a.add(domain.SupervisionStream(sc.order), domain.SupervisionProgressReported{OrderID: sc.order, OccurredAt: at(12, 20),
		Summary: "已约谈企业负责人，明确资金到位时间表"})
	// Progress on p24 today: 40 days on, it is stale (a correction alone
	// would not restart the clock).
	a.add(domain.ProjectStream(p24.ID), domain.NegotiationRecorded{ProjectID: p24.ID, OccurredAt: at(12, 30),
		LeaderLevel: domain.LeaderPrincipal, Summary: "市主要领导约谈，推进二期"})
	cats := append(slices.Clone(p24.Investor.Categories), domain.CategoryFortuneGlobal500)
	a.add(domain.ProjectStream(p24.ID), domain.DetailsCorrected{ProjectID: p24.ID, Field: domain.FieldInvestorCategories,
		Value: raw(cats), Previous: raw(p24.Investor.Categories), Reason: reason24, OccurredAt: at(13, 0), AffectedYears: []int{2024}})
	sc.endA = len(a.evs)

	// Phase B.
	a.add(domain.SupervisionStream(sc.order), domain.SupervisionProgressReported{OrderID: sc.order, OccurredAt: at(14, 0),
		Summary: "企业已提交增资扩产方案（第二稿）"})
	a.add(domain.ProjectStream(p21.ID), domain.DetailsCorrected{ProjectID: p21.ID, Field: domain.FieldInvestorCategories,
		Value: raw(append(slices.Clone(p21.Investor.Categories), domain.CategoryChina500)), Previous: raw(p21.Investor.Categories),
		Reason: reason21, OccurredAt: at(14, 30), AffectedYears: []int{2021}})
	a.add(domain.AssessmentStream(2024), domain.AssessmentPublished{Year: 2024, Position: c22.Position.String(), OccurredAt: at(15, 0)})
	sc.endB = len(a.evs)

	// Phase C.
	pol := v.Policy().Current.Policy.Clone()
	pol.Version++
	pol.USD100mIncludesCNY = !pol.USD100mIncludesCNY
	a.add(domain.StreamPolicy, domain.PolicyAdopted{Policy: pol, OccurredAt: at(16, 0)})
	sc.events = a.evs
	return sc
}

func feedTo(t *testing.T, v *projections.Views, evs []eventstore.Event) {
	t.Helper()
	if err := v.Feed(context.Background(), evs, 2); err != nil {
		t.Fatal(err)
	}
}

// recorder remembers what the batches it observed touched.
type recorder struct {
	mu       sync.Mutex
	projects map[string]bool
}

func (r *recorder) Observe(t *projections.Touched, _ eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range t.Projects {
		r.projects[id] = true
	}
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.projects = map[string]bool{}
}

func (r *recorder) touched(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.projects[id]
}

// Every reader view equals, field for field, what the in-memory views
// answer: after a restart that resumes from a checkpoint (through a
// publication that flags a correction of a project no batch touched, then
// through a policy change that moves usd100m of projects no batch touched,
// then through a refresh with the clock moved on and no event), and after a
// blue/green rebuild of the same views.
func TestTablesMatchViews(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	sc := newScenario(t)

	// First run: everything up to the end of phase A, flushed, then stopped.
	v1 := projections.NewViews(projections.Options{Location: synth.Zone})
	w1 := open(t, url, "zs_read", sc.now)
	w1.Attach(v1)
	feedTo(t, v1, sc.events[:sc.endA])
	if err := w1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w1.Close()

	// Restart: fresh views replay the log; rec sees what the batches after
	// the checkpoint touch.
	v2 := projections.NewViews(projections.Options{Location: synth.Zone})
	// The second writer's clock can move on (see stages).
	var clock atomic.Int64
	clock.Store(sc.now.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).In(synth.Zone) }
	openAt := func(schema string) *Writer {
		w, err := Open(ctx, Config{URL: url, Schema: schema, Now: now, RefreshInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
		return w
	}
	w2 := openAt("zs_read")
	if got, want := w2.Checkpoint(), sc.events[sc.endA-1].Position; got != want {
		t.Fatalf("checkpoint %s, want %s (the end of phase A)", got, want)
	}
	w2.Attach(v2)
	rec := &recorder{projects: map[string]bool{}}
	v2.Observe(rec)
	feedTo(t, v2, sc.events[:sc.endA])
	var usd100m map[string]bool
	var alerts map[string][]string

	stages := []struct {
		name    string
		through int // the events fed
		days    int // how far the writer's clock moves on first
		// after checks what the stage is there to exercise.
		after func(t *testing.T, pool *pgxpool.Pool)
	}{
		{"after a restart, through the publication", sc.endB, 0, func(t *testing.T, pool *pgxpool.Pool) {
			if rec.touched(sc.p24) {
				t.Fatal("phase B touched the 2024 project: the test would not show that a publication rewrites its row")
			}
			// The reasons come back byte for byte, on the project and on
			// the year each correction is flagged for.
			reasons := []struct {
				what, query, project, want string
			}{
				{"2024 correction, flagged by the publication", `SELECT reason FROM zs_read.project_corrections
	WHERE project_id = $1 AND flagged_years = '{2024}' AND flagged`, sc.p24, reason24},
				{"2024's corrections list", `SELECT reason FROM zs_read.assessment_corrections WHERE year = 2024 AND project_id = $1`, sc.p24, reason24},
				{"2022 correction, flagged when recorded", `SELECT reason FROM zs_read.project_corrections
	WHERE project_id = $1 AND flagged_years = '{2022}' AND flagged`, sc.p22, reason22},
				{"2022's corrections list", `SELECT reason FROM zs_read.assessment_corrections WHERE year = 2022 AND project_id = $1`, sc.p22, reason22},
				{"2021's corrections list", `SELECT reason FROM zs_read.assessment_corrections WHERE year = 2021 AND project_id = $1`, sc.p21, reason21},
			}
			for _, rc := range reasons {
				var got string
				if err := pool.QueryRow(ctx, rc.query, rc.project).Scan(&got); err != nil {
					t.Errorf("%s: %v", rc.what, err)
				} else if got != rc.want {
					t.Errorf("%s: reason %q, want %q", rc.what, got, rc.want)
				}
			}
			var progress int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM zs_read.order_progress WHERE order_id = $1`, sc.order).Scan(&progress); err != nil || progress != 2 {
				t.Errorf("order progress: %d rows, %v; want 2", progress, err)
			}
			usd100m = map[string]bool{}
			for _, p := range allProjects(t, v2) {
				usd100m[p.ID] = p.USD100m
			}
		}},
		{"after a restart, through the policy change", len(sc.events), 0, func(t *testing.T, pool *pgxpool.Pool) {
			moved := 0
			for _, p := range allProjects(t, v2) {
				if p.USD100m != usd100m[p.ID] && !rec.touched(p.ID) {
					moved++
				}
			}
			if moved == 0 {
				t.Fatal("the policy change moved no untouched project's usd100m: the test would not show that it rewrites them")
			}
			alerts = map[string][]string{}
			for _, p := range allProjects(t, v2) {
				q, _, _ := v2.Project(p.ID, now())
				alerts[p.ID] = q.Alerts
			}
		}},
		{"after a refresh, the clock 40 days on", len(sc.events), 40, func(t *testing.T, pool *pgxpool.Pool) {
			moved := 0
			for _, p := range allProjects(t, v2) {
				q, _, _ := v2.Project(p.ID, now())
				if !slices.Equal(q.Alerts, alerts[p.ID]) {
					moved++
				}
			}
			if moved == 0 {
				t.Fatal("the clock moved no project's alerts: the test would not show that a refresh rewrites them")
			}
		}},
	}
	for _, st := range stages {
		rec.reset()
		clock.Store(now().AddDate(0, 0, st.days).UnixNano())
		feedTo(t, v2, sc.events[:st.through])
		if err := w2.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		t.Run(st.name, func(t *testing.T) {
			checkTables(t, w2.pool, "zs_read", v2)
			st.after(t, w2.pool)
		})
	}

	// A full dump of the same views into another schema.
	w3 := openAt("zs_expect")
	w3.Attach(v2)
	if err := w3.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("after a rebuild", func(t *testing.T) {
		checkTables(t, w3.pool, "zs_expect", v2)
		sameTables(t, w3.pool, "zs_read", "zs_expect")
	})
}

func allProjects(t *testing.T, v *projections.Views) []projections.ProjectState {
	t.Helper()
	var out []projections.ProjectState
	for cursor := ""; ; {
		page, err := v.Projects(projections.ProjectFilter{Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
}

// tableCheck rebuilds a view's answers from a schema's reader views and
// compares them with the views' own answers.
type tableCheck struct {
	name  string
	check func(t *testing.T, r *reader, v *projections.Views)
}

var tableChecks = []tableCheck{
	{"projects", checkProjects},
	{"orders", checkOrders},
	{"tolerance_cases", checkCases},
	{"alerts", checkAlerts},
	{"rankings", checkRankings},
	{"rates", checkRates},
	{"assessments", checkAssessments},
}

func checkTables(t *testing.T, pool *pgxpool.Pool, schema string, v *projections.Views) {
	t.Helper()
	r := &reader{t: t, pool: pool, schema: quote(schema)}
	var cp string
	r.scanOne(`SELECT position FROM %s.checkpoint`, nil, &cp)
	r.checkpoint = mustPos(t, cp)
	if r.checkpoint != v.Position() {
		t.Fatalf("checkpoint %s, views at %s", r.checkpoint, v.Position())
	}
	for _, tc := range tableChecks {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, &reader{t: t, pool: pool, schema: r.schema, checkpoint: r.checkpoint}, v)
		})
	}
}

type reader struct {
	t          *testing.T
	pool       *pgxpool.Pool
	schema     string
	checkpoint eventstore.Position
}

// each runs query (%s is the schema) and calls row for every row, its
// values scanned into dest.
func (r *reader) each(query string, args []any, row func(), dest ...any) {
	r.t.Helper()
	rows, err := r.pool.Query(context.Background(), fmt.Sprintf(query, r.schema), args...)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			r.t.Fatal(err)
		}
		row()
	}
	if err := rows.Err(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *reader) scanOne(query string, args []any, dest ...any) {
	r.t.Helper()
	if err := r.pool.QueryRow(context.Background(), fmt.Sprintf(query, r.schema), args...).Scan(dest...); err != nil {
		r.t.Fatal(err)
	}
}

// computedAt checks a "computed at" position — rankings, rates and
// unpublished assessments carry the views' position when their row was
// last written — and takes it into want: the row must not be later than
// the checkpoint nor than the answer, and every other field must equal the
// answer of today.
func (r *reader) computedAt(what string, got eventstore.Position, want *eventstore.Position) {
	r.t.Helper()
	if got.Compare(r.checkpoint) > 0 || got.Compare(*want) > 0 {
		r.t.Errorf("%s: computed at %s, after the checkpoint %s or the answer's %s", what, got, r.checkpoint, *want)
	}
	*want = got
}

func mustPos(t *testing.T, s string) eventstore.Position {
	t.Helper()
	p, err := eventstore.ParsePosition(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// canonical is x as JSON decoded again, with every RFC 3339 time in UTC:
// the answer as the API shows it, whatever zone a time was read in.
func canonical(t *testing.T, x any) any {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return tm.UTC().Format(time.RFC3339Nano)
			}
		}
		return v
	}
	return walk(v)
}

// sameAnswer compares the answer rebuilt from the tables with the views'
// answer as the API would show them, naming the fields that differ.
func sameAnswer(t *testing.T, what string, table, views any) {
	t.Helper()
	var diffs []string
	diffJSON(canonical(t, table), canonical(t, views), what, &diffs)
	for i, d := range diffs {
		if i == 5 {
			t.Errorf("%s: %d more differences", what, len(diffs)-i)
			break
		}
		t.Error(d)
	}
}

// diffJSON appends to out a line per path where two decoded JSON values
// differ.
func diffJSON(a, b any, path string, out *[]string) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			keys := map[string]bool{}
			for k := range x {
				keys[k] = true
			}
			for k := range y {
				keys[k] = true
			}
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				diffJSON(x[k], y[k], path+"."+k, out)
			}
			return
		}
	case []any:
		if y, ok := b.([]any); ok && len(x) == len(y) {
			for i := range x {
				diffJSON(x[i], y[i], fmt.Sprintf("%s[%d]", path, i), out)
			}
			return
		}
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		*out = append(*out, fmt.Sprintf("%s: table %s, views %s", path, ja, jb))
	}
}

func dateOf(t *time.Time) *domain.Date {
	if t == nil {
		return nil
	}
	d := domain.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	return &d
}

func intsOf(xs []int32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

func checkProjects(t *testing.T, r *reader, v *projections.Views) {
	corrections := map[string][]projections.CorrectionNote{}
	{
		var id, field, reason, pos string
		var n int32
		var at time.Time
		var affected, flaggedYears []int32
		var flagged bool
		r.each(`SELECT project_id::text, n, field, reason, occurred_at, position, affected_years, flagged_years, flagged
FROM %s.project_corrections ORDER BY project_id, n`, nil, func() {
			if int(n) != len(corrections[id])+1 {
				t.Errorf("project %s: correction n = %d after %d", id, n, len(corrections[id]))
			}
			corrections[id] = append(corrections[id], projections.CorrectionNote{Field: domain.CorrectionField(field), Reason: reason,
				OccurredAt: at, Position: mustPos(t, pos), AffectedYears: intsOf(affected), FlaggedYears: intsOf(flaggedYears), Flagged: flagged})
		}, &id, &n, &field, &reason, &at, &pos, &affected, &flaggedYears, &flagged)
	}
	var (
		p                                               projections.ProjectState
		seq, planned, funds, version                    int64
		stage, unit, firstUnit, plannedCur, pos         string
		cats                                            []string
		contract                                        *int64
		contractCur, tier, termKind, termCause          *string
		exclusive, rep, sig, reg, sta, pro, ter         *time.Time
		alerts                                          []string
		feasibility, risk, collective, usd100m, isMajor bool
	)
	seen, now := 0, alertsAt(t, r)
	r.each(`SELECT id::text, seq, name, stage, unit, first_unit, investor_name, investor_uscc, investor_origin, investor_categories,
	industry_chain, source_channel, planned_amount, planned_currency, contract_amount, contract_currency, tier, usd100m, major,
	exclusive_until, reported_at, signed_at, registered_at, started_at, producing_at, terminated_at, funds_arrived,
	feasibility_study, risk_assessment, collective_decision, termination_kind, termination_cause, alerts, version, position
FROM %s.projects`, nil, func() {
		seen++
		got := projections.ProjectState{ID: p.ID, Name: p.Name, Stage: domain.Stage(stage), Unit: domain.UnitCode(unit),
			FirstUnit: domain.UnitCode(firstUnit), Investor: p.Investor, IndustryChain: p.IndustryChain, SourceChannel: p.SourceChannel,
			PlannedInvestment: domain.Money{Amount: planned, Currency: domain.Currency(plannedCur)}, USD100m: usd100m, Major: isMajor,
			ExclusiveUntil: exclusive, ReportedAt: dateOf(rep), SignedAt: dateOf(sig), RegisteredAt: dateOf(reg), StartedAt: dateOf(sta),
			ProducingAt: dateOf(pro), TerminatedAt: dateOf(ter), FundsArrived: domain.Yuan(funds),
			DueProcess: projections.DueProcessFlags{FeasibilityStudy: feasibility, RiskAssessment: risk, CollectiveDecision: collective},
			Alerts:     alerts, Version: uint64(version), Position: mustPos(t, pos), Seq: uint32(seq), Corrections: corrections[p.ID]}
		got.Investor.Categories = nil
		for _, c := range cats {
			got.Investor.Categories = append(got.Investor.Categories, domain.Category(c))
		}
		if contract != nil {
			got.ContractInvestment = &domain.Money{Amount: *contract, Currency: domain.Currency(*contractCur)}
		}
		if tier != nil {
			x := domain.Tier(*tier)
			got.Tier = &x
		}
		if termKind != nil {
			got.Termination = &projections.TerminationInfo{Kind: domain.TerminationKind(*termKind), Cause: domain.TerminationCause(*termCause)}
		}
		want, _, ok := v.Project(p.ID, now)
		if !ok {
			t.Errorf("project %s is in the table, not in the views", p.ID)
			return
		}
		if got.Seq != want.Seq {
			t.Errorf("project %s: seq %d, views %d", p.ID, got.Seq, want.Seq)
		}
		sameAnswer(t, "project "+p.ID, got, want)
	}, &p.ID, &seq, &p.Name, &stage, &unit, &firstUnit, &p.Investor.Name, &p.Investor.USCC, &p.Investor.Origin, &cats,
		&p.IndustryChain, &p.SourceChannel, &planned, &plannedCur, &contract, &contractCur, &tier, &usd100m, &isMajor,
		&exclusive, &rep, &sig, &reg, &sta, &pro, &ter, &funds, &feasibility, &risk, &collective, &termKind, &termCause,
		&alerts, &version, &pos)
	if n := len(allProjects(t, v)); seen != n {
		t.Errorf("%d projects in the table, %d in the views", seen, n)
	}
	for id := range corrections {
		if _, _, ok := v.Project(id, now); !ok {
			t.Errorf("corrections of %s, which is not a project", id)
		}
	}
}

// alertsAt is the moment the table's alerts were evaluated (one moment:
// the writer's clock is fixed in these tests).
func alertsAt(t *testing.T, r *reader) time.Time {
	t.Helper()
	var n int
	var at *time.Time
	r.scanOne(`SELECT count(DISTINCT evaluated_at), max(evaluated_at) FROM %s.alerts`, nil, &n, &at)
	if n != 1 || at == nil {
		t.Fatalf("alerts evaluated at %d moments", n)
	}
	return *at
}

func checkOrders(t *testing.T, r *reader, v *projections.Views) {
	progress := map[string][]projections.ProgressItem{}
	{
		var id, summary string
		var n int32
		var at time.Time
		r.each(`SELECT order_id::text, n, occurred_at, summary FROM %s.order_progress ORDER BY order_id, n`, nil, func() {
			if int(n) != len(progress[id])+1 {
				t.Errorf("order %s: progress n = %d after %d", id, n, len(progress[id]))
			}
			progress[id] = append(progress[id], projections.ProgressItem{OccurredAt: at, Summary: summary})
		}, &id, &n, &at, &summary)
	}
	var (
		o                  projections.OrderItem
		unit, pos          string
		deadline, evalAt   time.Time
		reports            int32
		version            int64
		closedAt           *time.Time
		ids                []string
		progressRowsByItem = 0
	)
	r.each(`SELECT id::text, coalesce(project_id::text, ''), matter, target, lead_leader, responsible_unit, requirements, deadline,
	issued_at, status, progress_reports, closed_at, result, version, position, evaluated_at FROM %s.orders`, nil, func() {
		got := o
		got.ResponsibleUnit, got.Deadline, got.ClosedAt = domain.UnitCode(unit), *dateOf(&deadline), closedAt
		got.Version, got.Position = uint64(version), mustPos(t, pos)
		got.Progress = progress[o.ID]
		if got.Progress == nil {
			got.Progress = []projections.ProgressItem{}
		}
		if int(reports) != len(got.Progress) {
			t.Errorf("order %s: progress_reports %d, %d progress rows", o.ID, reports, len(got.Progress))
		}
		progressRowsByItem += len(got.Progress)
		ids = append(ids, o.ID)
		want, _, ok := v.Order(o.ID, evalAt)
		if !ok {
			t.Errorf("order %s is in the table, not in the views", o.ID)
			return
		}
		sameAnswer(t, "order "+o.ID, got, want)
	}, &o.ID, &o.ProjectID, &o.Matter, &o.Target, &o.LeadLeader, &unit, &o.Requirements, &deadline, &o.IssuedAt, &o.Status,
		&reports, &closedAt, &o.Result, &version, &pos, &evalAt)
	var all []string
	for cursor := ""; ; {
		page, err := v.Orders(projections.OrderQuery{Now: alertsAt(t, r), Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Items {
			all = append(all, o.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	slices.Sort(ids)
	slices.Sort(all)
	if !slices.Equal(ids, all) {
		t.Errorf("orders in the table %v, in the views %v", ids, all)
	}
	total := 0
	for _, p := range progress {
		total += len(p)
	}
	if total != progressRowsByItem {
		t.Errorf("%d progress rows, %d of them belong to an order", total, progressRowsByItem)
	}
}

func checkCases(t *testing.T, r *reader, v *projections.Views) {
	var (
		c                    projections.CaseItem
		unit, status, evalAt string
		pos                  string
		checks               []byte
		eligible             bool
		version              int64
		decision, rat, by    *string
		decidedAt            *time.Time
		ids                  []string
	)
	r.each(`SELECT id::text, project_id::text, unit, grounds, requested_at, status, eligible, checks, evaluated_at, decision,
	rationale, decided_by, decided_at, version, position FROM %s.tolerance_cases`, nil, func() {
		got := c
		got.Unit, got.Status, got.EvaluatedAt = domain.UnitCode(unit), status, mustPos(t, evalAt)
		got.Evaluation = domain.Evaluation{Eligible: eligible}
		if err := json.Unmarshal(checks, &got.Evaluation.Checks); err != nil {
			t.Fatal(err)
		}
		if decision != nil {
			got.Decision = &projections.CaseDecision{Decision: domain.ToleranceDecision(*decision), Rationale: *rat, By: *by, At: *decidedAt}
		}
		got.Version, got.Position = uint64(version), mustPos(t, pos)
		ids = append(ids, c.ID)
		want, _, ok := v.Case(c.ID)
		if !ok {
			t.Errorf("case %s is in the table, not in the views", c.ID)
			return
		}
		sameAnswer(t, "case "+c.ID, got, want)
	}, &c.ID, &c.ProjectID, &unit, &c.Grounds, &c.RequestedAt, &status, &eligible, &checks, &evalAt, &decision, &rat, &by,
		&decidedAt, &version, &pos)
	var all []string
	for cursor := ""; ; {
		page, err := v.Cases(projections.CaseQuery{Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			all = append(all, c.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	slices.Sort(ids)
	slices.Sort(all)
	if len(all) == 0 || !slices.Equal(ids, all) {
		t.Errorf("cases in the table %v, in the views %v", ids, all)
	}
}

// sortedJSON is each item's canonical JSON, sorted: a multiset to compare.
func sortedJSON[T any](t *testing.T, items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		b, err := json.Marshal(canonical(t, it))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

func checkAlerts(t *testing.T, r *reader, v *projections.Views) {
	now := alertsAt(t, r)
	var got []projections.Alert
	var a projections.Alert
	var unit string
	var evidence *string
	var at time.Time
	r.each(`SELECT kind, coalesce(project_id::text, ''), coalesce(order_id::text, ''), unit, since, detail, evidence, evaluated_at
FROM %s.alerts`, nil, func() {
		x := a
		x.Unit = domain.UnitCode(unit)
		if evidence != nil {
			p := mustPos(t, *evidence)
			x.Evidence = &p
		}
		got = append(got, x)
	}, &a.Kind, &a.ProjectID, &a.OrderID, &unit, &a.Since, &a.Detail, &evidence, &at)
	var want []projections.Alert
	q := projections.AlertQuery{Now: now, Limit: projections.MaxLimit}
	for {
		page, err := v.Alerts(q)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, page.Items...)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if len(want) == 0 {
		t.Fatal("no alert open: the comparison would prove nothing")
	}
	g, w := sortedJSON(t, got), sortedJSON(t, want)
	if !slices.Equal(g, w) {
		t.Errorf("alerts: %d in the table, %d in the views\n table %v\n views %v", len(g), len(w), g, w)
	}
}

func checkRankings(t *testing.T, r *reader, v *projections.Views) {
	got := map[string]*projections.RankingResult{}
	var (
		period, kind, unit, unitName, unitKind, pos string
		from, to                                    time.Time
		rank, polVersion                            int32
		change                                      *int32
		score                                       float64
		indicators                                  []byte
	)
	r.each(`SELECT period, period_kind, period_from, period_to, unit, unit_name, unit_kind, rank, score, indicators, change,
	policy_version, position FROM %s.rankings ORDER BY period, unit`, nil, func() {
		res := got[period]
		p := mustPos(t, pos)
		if res == nil {
			res = &projections.RankingResult{Period: period, From: from, To: to, PolicyVersion: int(polVersion), Position: p}
			got[period] = res
			per, err := domain.ParsePeriod(period, v.Location())
			if err != nil || string(per.Kind) != kind {
				t.Errorf("period %s: kind %s (%v)", period, kind, err)
			}
		}
		if res.PolicyVersion != int(polVersion) || res.Position != p || !res.From.Equal(from) || !res.To.Equal(to) {
			t.Errorf("period %s: rows disagree on the period's policy, position or bounds", period)
		}
		it := projections.RankingItem{Rank: int(rank), Unit: domain.UnitCode(unit), UnitName: unitName, Kind: domain.UnitKind(unitKind), Score: score}
		if err := json.Unmarshal(indicators, &it.Indicators); err != nil {
			t.Fatal(err)
		}
		if change != nil {
			c := int(*change)
			it.Change = &c
		}
		res.Items = append(res.Items, it)
	}, &period, &kind, &from, &to, &unit, &unitName, &unitKind, &rank, &score, &indicators, &change, &polVersion, &pos)
	first, last, ok := v.BusinessSpan()
	if !ok {
		t.Fatal("nothing counted")
	}
	periods := projections.PeriodsCovering(first, last, v.Location())
	if len(got) != len(periods) {
		t.Errorf("%d periods in the table, %d covering the business span", len(got), len(periods))
	}
	for _, per := range periods {
		want, err := v.Ranking(projections.RankingQuery{Period: per.String()})
		if err != nil {
			t.Fatal(err)
		}
		res := got[per.String()]
		if res == nil {
			t.Errorf("period %s is not in the table", per)
			continue
		}
		r.computedAt("ranking "+per.String(), res.Position, &want.Position)
		byUnit := func(a, b projections.RankingItem) int { return strings.Compare(string(a.Unit), string(b.Unit)) }
		slices.SortFunc(res.Items, byUnit)
		slices.SortFunc(want.Items, byUnit)
		sameAnswer(t, "ranking "+per.String(), res, want)
	}
}

func checkRates(t *testing.T, r *reader, v *projections.Views) {
	got := map[int]*projections.RatesResult{}
	var (
		year, met, due, started, signed, polVersion int32
		unit, unitName, pos                         string
		fRate, sRate, mRate                         *float64
		arrived, contracted                         int64
		at                                          time.Time
	)
	r.each(`SELECT year, unit, unit_name, fulfilment_met, fulfilment_due, fulfilment_rate, started, signed, start_rate,
	funds_arrived, contracted, funds_rate, policy_version, position, evaluated_at FROM %s.rates ORDER BY year, unit`, nil, func() {
		res := got[int(year)]
		p := mustPos(t, pos)
		if res == nil {
			res = &projections.RatesResult{Year: int(year), Now: at, PolicyVersion: int(polVersion), Position: p, Items: []projections.RatesItem{}}
			got[int(year)] = res
		}
		if res.PolicyVersion != int(polVersion) || res.Position != p || !res.Now.Equal(at) {
			t.Errorf("rates %d: rows disagree on the policy, position or moment", year)
		}
		res.Items = append(res.Items, projections.RatesItem{Unit: domain.UnitCode(unit), UnitName: unitName, Year: int(year),
			Fulfilment: projections.Ratio{Numerator: int(met), Denominator: int(due), Rate: fRate},
			Start:      projections.Ratio{Numerator: int(started), Denominator: int(signed), Rate: sRate},
			Funds:      projections.MoneyRatio{Numerator: domain.Yuan(arrived), Denominator: domain.Yuan(contracted), Rate: mRate}})
	}, &year, &unit, &unitName, &met, &due, &fRate, &started, &signed, &sRate, &arrived, &contracted, &mRate, &polVersion, &pos, &at)
	years := v.AssessmentYears()
	if len(got) != len(years) {
		t.Errorf("rates of %d years in the table, %d years in the views", len(got), len(years))
	}
	for _, y := range years {
		res := got[y]
		if res == nil {
			t.Errorf("rates of %d are not in the table", y)
			continue
		}
		want, err := v.Rates(y, "", res.Now)
		if err != nil {
			t.Fatal(err)
		}
		r.computedAt(fmt.Sprint("rates ", y), res.Position, &want.Position)
		byUnit := func(a, b projections.RatesItem) int { return strings.Compare(string(a.Unit), string(b.Unit)) }
		slices.SortFunc(want.Items, byUnit)
		sameAnswer(t, fmt.Sprint("rates ", y), res, want)
	}
}

// assessmentItem scans the item columns shared by assessments and
// assessment_current.
type assessmentItem struct {
	unit, unitName, unitKind, rating string
	score, overall, bonus, deduct    float64
	completion                       []byte
	rank                             int32
	flags, reasons                   []string
}

func (a *assessmentItem) dest() []any {
	return []any{&a.unit, &a.unitName, &a.unitKind, &a.score, &a.rating, &a.completion, &a.overall, &a.bonus, &a.deduct, &a.rank, &a.flags, &a.reasons}
}

const assessmentItemCols = `unit, unit_name, unit_kind, score, rating, completion, overall, bonus, deductions, rank, flags, admonish_reasons`

func (a *assessmentItem) item(t *testing.T) projections.AssessmentItem {
	it := projections.AssessmentItem{Unit: domain.UnitCode(a.unit), UnitName: a.unitName, Kind: domain.UnitKind(a.unitKind), Score: a.score,
		Rating: domain.Rating(a.rating), Bonus: a.bonus, Deductions: a.deduct, Rank: int(a.rank), Flags: slices.Clone(a.flags),
		AdmonishReasons: slices.Clone(a.reasons)}
	if err := json.Unmarshal(a.completion, &it.Completion); err != nil {
		t.Fatal(err)
	}
	if it.Completion["overall"] != a.overall {
		t.Errorf("%s: overall %v, completion's %v", a.unit, a.overall, it.Completion["overall"])
	}
	return it
}

func checkAssessments(t *testing.T, r *reader, v *projections.Views) {
	type derived struct {
		score  *float64
		rating *string
		differ bool
	}
	got := map[int]*projections.AssessmentResult{}
	extra := map[int]map[domain.UnitCode]derived{}
	var (
		a                  assessmentItem
		year, polVersion   int32
		published, differs bool
		publishedAt        *time.Time
		pos                string
		curScore           *float64
		curRatingP         *string
	)
	dest := append([]any{&year}, a.dest()...)
	dest = append(dest, &published, &publishedAt, &polVersion, &pos, &curScore, &curRatingP, &differs)
	r.each(`SELECT year, `+assessmentItemCols+`, published, published_at, policy_version, position, current_score, current_rating, differs
FROM %s.assessments ORDER BY year, unit`, nil, func() {
		res := got[int(year)]
		p := mustPos(t, pos)
		if res == nil {
			res = &projections.AssessmentResult{Year: int(year), PolicyVersion: int(polVersion), Position: p, Published: published,
				PublishedAt: publishedAt, Items: []projections.AssessmentItem{}}
			got[int(year)], extra[int(year)] = res, map[domain.UnitCode]derived{}
		}
		if res.PolicyVersion != int(polVersion) || res.Position != p || res.Published != published {
			t.Errorf("assessment %d: rows disagree on the policy, position or publication", year)
		}
		res.Items = append(res.Items, a.item(t))
		extra[int(year)][domain.UnitCode(a.unit)] = derived{curScore, curRatingP, differs}
	}, dest...)
	current := map[int]*projections.AssessmentCurrent{}
	dest = append([]any{&year}, a.dest()...)
	dest = append(dest, &polVersion, &pos)
	r.each(`SELECT year, `+assessmentItemCols+`, policy_version, position FROM %s.assessment_current ORDER BY year, unit`, nil, func() {
		c := current[int(year)]
		if c == nil {
			c = &projections.AssessmentCurrent{PolicyVersion: int(polVersion), Position: mustPos(t, pos)}
			current[int(year)] = c
		}
		c.Items = append(c.Items, a.item(t))
	}, dest...)
	diffs := map[int][]projections.AssessmentDifference{}
	var unit string
	var fields []string
	r.each(`SELECT year, unit, fields FROM %s.assessment_differences ORDER BY year, unit`, nil, func() {
		diffs[int(year)] = append(diffs[int(year)], projections.AssessmentDifference{Unit: domain.UnitCode(unit), Fields: slices.Clone(fields)})
	}, &year, &unit, &fields)
	corrections := map[int][]projections.FlaggedCorrection{}
	var n int32
	var project, field, reason string
	var occurred time.Time
	r.each(`SELECT year, n, project_id::text, field, reason, occurred_at, position FROM %s.assessment_corrections ORDER BY year, n`, nil, func() {
		if int(n) != len(corrections[int(year)])+1 {
			t.Errorf("assessment %d: correction n = %d after %d", year, n, len(corrections[int(year)]))
		}
		corrections[int(year)] = append(corrections[int(year)], projections.FlaggedCorrection{ProjectID: project,
			Field: domain.CorrectionField(field), Reason: reason, OccurredAt: occurred, Position: mustPos(t, pos)})
	}, &year, &n, &project, &field, &reason, &occurred, &pos)

	years := v.AssessmentYears()
	if len(got) != len(years) {
		t.Errorf("assessments of %d years in the table, %d in the views", len(got), len(years))
	}
	flagged := 0
	for _, y := range years {
		res := got[y]
		if res == nil {
			t.Errorf("assessment %d is not in the table", y)
			continue
		}
		want, err := v.Assessment(projections.AssessmentQuery{Year: y})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Published {
			r.computedAt(fmt.Sprint("assessment ", y), res.Position, &want.Position)
			if current[y] != nil || diffs[y] != nil || corrections[y] != nil {
				t.Errorf("assessment %d is not published but has current, differences or corrections rows", y)
			}
		}
		byUnit := func(a, b projections.AssessmentItem) int { return strings.Compare(string(a.Unit), string(b.Unit)) }
		cur := map[domain.UnitCode]*projections.AssessmentItem{}
		if c := current[y]; c != nil {
			res.Current = c
			r.computedAt(fmt.Sprint("assessment ", y, " current"), c.Position, &want.Current.Position)
			for i := range c.Items {
				cur[c.Items[i].Unit] = &c.Items[i]
			}
		}
		pub := map[domain.UnitCode]*projections.AssessmentItem{}
		for i := range res.Items {
			pub[res.Items[i].Unit] = &res.Items[i]
		}
		for _, d := range diffs[y] {
			d.Published, d.Current = pub[d.Unit], cur[d.Unit]
			res.Differences = append(res.Differences, d)
		}
		res.Corrections = corrections[y]
		flagged += len(res.Corrections)
		// The convenience columns agree with the current and difference rows.
		for u, x := range extra[y] {
			c := cur[u]
			if (c == nil) != (x.score == nil) || (c != nil && (*x.score != c.Score || *x.rating != string(c.Rating))) {
				t.Errorf("assessment %d %s: current_score/current_rating disagree with assessment_current", y, u)
			}
			if x.differ != slices.ContainsFunc(res.Differences, func(d projections.AssessmentDifference) bool { return d.Unit == u }) {
				t.Errorf("assessment %d %s: differs disagrees with assessment_differences", y, u)
			}
		}
		slices.SortFunc(want.Items, byUnit)
		if want.Current != nil {
			slices.SortFunc(want.Current.Items, byUnit)
		}
		slices.SortFunc(want.Differences, func(a, b projections.AssessmentDifference) int {
			return strings.Compare(string(a.Unit), string(b.Unit))
		})
		sameAnswer(t, fmt.Sprint("assessment ", y), res, want)
	}
	if flagged == 0 {
		t.Error("no flagged correction in any year: the comparison would prove nothing")
	}
}
