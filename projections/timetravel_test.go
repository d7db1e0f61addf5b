package projections

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// fakeClock is the store's clock: the test sets it to each event's
// recorded_at before appending, so a generated ledger is recorded exactly
// as generated.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// liveStore opens an embedded store and a running Runner over it.
func liveStore(t *testing.T, clock *fakeClock) (*bolt.Store, *Runner) {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.WithClock(clock.now), bolt.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r, err := NewRunner(Config{Store: s, Options: Options{Location: synth.Zone}, Batch: 64})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("runner: %v", err)
		}
	})
	return s, r
}

// appendLike appends a recorded event again through the store, stamped at
// its original recorded_at.
func appendLike(t *testing.T, s eventstore.Store, clock *fakeClock, e eventstore.Event) eventstore.Position {
	t.Helper()
	clock.set(e.RecordedAt)
	res, err := s.Append(context.Background(), e.Stream, eventstore.Any(), []eventstore.NewEvent{{ID: e.ID, Type: e.Type, Data: e.Data,
		OccurredAt: e.OccurredAt, Actor: e.Actor, CommandID: e.CommandID, CorrelationID: e.CorrelationID}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// answers is everything a dashboard asks, at one moment.
type answers map[string]string

func capture(t *testing.T, v *Views, now time.Time, projects []string) answers {
	t.Helper()
	a := answers{}
	put := func(name string, x any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		a[name] = string(b)
	}
	year := domain.DateOf(now, v.Location()).Year
	for _, p := range []string{"2021", "2022-Q3", "2022-07", "2022-W27", "2023"} {
		for _, k := range []domain.UnitKind{domain.UnitCounty, domain.UnitPark, ""} {
			r, err := v.Ranking(RankingQuery{Period: p, Kind: k})
			put("ranking "+p+" "+string(k), r, err)
		}
	}
	for y := 2020; y <= year; y++ {
		r, err := v.Assessment(AssessmentQuery{Year: y})
		put("assessment "+string(rune('0'+y%10)), r, err)
		rt, err := v.Rates(y, "", now)
		put("rates "+string(rune('0'+y%10)), rt, err)
	}
	al, err := v.Alerts(AlertQuery{Now: now, Limit: MaxLimit})
	put("alerts", al, err)
	put("alert counts", v.AlertCounts(now, ""), nil)
	or, err := v.Orders(OrderQuery{Now: now, Limit: MaxLimit})
	put("orders", or, err)
	cs, err := v.Cases(CaseQuery{Limit: MaxLimit})
	put("cases", cs, err)
	for _, l := range Lists() {
		p, err := v.List(l, "", MaxLimit, "")
		put("list "+string(l), p, err)
	}
	from, to := v.ThisMonth(now)
	ch, err := v.Changes(ChangeQuery{From: from, To: to, Limit: MaxLimit})
	put("changes", ch, err)
	put("units", v.Units(), nil)
	put("policy", v.Policy(), nil)
	for _, id := range projects {
		p, pos, ok := v.Project(id, now)
		put("project "+id, struct {
			P   ProjectState
			Pos eventstore.Position
			OK  bool
		}{p, pos, ok}, nil)
	}
	return a
}

func diffAnswers(t *testing.T, label string, want, got answers) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%s: %s differs:\n live:   %.400s\n replay: %.400s", label, k, w, g)
		}
	}
}

// The honest test of time travel: a ledger appended through the embedded
// store while the runner follows it live; the live answers captured at
// several moments; then the same questions asked "as known at" each moment
// must give identical answers, and so must the ranking's and the
// assessment's own as-of answers.
func TestTimeTravelMatchesLiveAnswers(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 2500, Units: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	s, r := liveStore(t, clock)
	ctx := context.Background()

	var projects []string
	for _, e := range log.Events {
		if e.Type == domain.TypeProjectReported && len(projects) < 12 {
			projects = append(projects, streamID(e.Stream))
		}
	}
	type moment struct {
		at      time.Time
		answers answers
		rank    RankingResult
		asm     AssessmentResult
	}
	var moments []moment
	cuts := map[int]bool{len(log.Events) / 5: true, len(log.Events) / 2: true, 3 * len(log.Events) / 4: true, len(log.Events) - 1: true}
	for i, e := range log.Events {
		pos := appendLike(t, s, clock, e)
		if !cuts[i] {
			continue
		}
		if i+1 < len(log.Events) && !log.Events[i+1].RecordedAt.After(e.RecordedAt) {
			cuts[i+1] = true // the moment must fall between two recordings
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := r.WaitFor(wctx, pos); err != nil {
			t.Fatal(err)
		}
		cancel()
		at := e.RecordedAt
		v := r.Views()
		m := moment{at: at, answers: capture(t, v, at, projects)}
		m.rank, _ = v.Ranking(RankingQuery{Period: "2022", Kind: domain.UnitCounty})
		m.asm, _ = v.Assessment(AssessmentQuery{Year: 2022})
		moments = append(moments, m)
	}
	if len(moments) < 3 {
		t.Fatalf("only %d moments captured", len(moments))
	}
	live := r.Views()
	for _, m := range moments {
		label := "as known at " + m.at.Format(time.RFC3339Nano)
		past, err := r.AsKnownAt(ctx, m.at)
		if err != nil {
			t.Fatal(err)
		}
		diffAnswers(t, label, m.answers, capture(t, past, m.at, projects))

		// The ranking and the assessment answer as-of themselves, from the
		// live views, without a replay.
		fast, err := live.Ranking(RankingQuery{Period: "2022", Kind: domain.UnitCounty, AsOf: m.at})
		if err != nil {
			t.Fatal(err)
		}
		fast.AsOf, fast.Basis = nil, ""
		diffAnswers(t, label+" (ranking as_of)", answers{"r": mustJSON(t, m.rank)}, answers{"r": mustJSON(t, fast)})
		fa, err := live.Assessment(AssessmentQuery{Year: 2022, AsOf: m.at})
		if err != nil {
			t.Fatal(err)
		}
		fa.AsOf, fa.Basis = nil, ""
		diffAnswers(t, label+" (assessment as_of)", answers{"a": mustJSON(t, m.asm)}, answers{"a": mustJSON(t, fa)})

		for _, id := range projects[:4] {
			want, _, wok := past.Project(id, m.at)
			got, ok, err := r.ProjectAt(ctx, id, m.at, BasisRecorded)
			if err != nil {
				t.Fatal(err)
			}
			if wok != ok || mustJSON(t, want) != mustJSON(t, got) {
				t.Errorf("%s: ProjectAt(%s) = %s, want %s", label, id, mustJSON(t, got), mustJSON(t, want))
			}
		}
	}

	// As of a business time: the ranking's own answer equals a replay of
	// every event that occurred by then.
	at := time.Date(2022, 9, 15, 0, 0, 0, 0, synth.Zone)
	past, err := r.AsOf(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2022", "2022-Q3", "2021"} {
		want, _ := past.Ranking(RankingQuery{Period: p})
		got, _ := live.Ranking(RankingQuery{Period: p, AsOf: at, Basis: BasisOccurred})
		got.AsOf, got.Basis = nil, ""
		if mustJSON(t, want) != mustJSON(t, got) {
			t.Errorf("ranking %s as of %s (occurred): fast %s\nreplay %s", p, at, mustJSON(t, got), mustJSON(t, want))
		}
	}
	// And the live views reconcile with a fresh replay.
	rec, err := r.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.OK {
		t.Errorf("reconciliation failed: %+v", rec)
	}
}

func mustJSON(t *testing.T, x any) string {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Readers query every view while the runner applies (run with -race), and
// WaitFor lets a reader see its own write.
func TestRunnerConcurrentReadsAndWaitFor(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 1500, Units: 6, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	s, r := liveStore(t, clock)
	if err := r.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	now := synth.Config{StartYear: 2020, Years: 5}.End()
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				v := r.Views()
				_, _ = v.Ranking(RankingQuery{Period: "2021"})
				_, _ = v.Alerts(AlertQuery{Now: now})
				_, _ = v.Projects(ProjectFilter{Q: "项目"})
				_, _ = v.Assessment(AssessmentQuery{Year: 2021})
				_, _ = v.Cases(CaseQuery{})
				_, _ = v.Rates(2021, "", now)
				_ = v.Digests()
			}
		}()
	}
	for i, e := range log.Events {
		pos := appendLike(t, s, clock, e)
		if i%97 == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := r.WaitFor(ctx, pos); err != nil {
				t.Fatal(err)
			}
			cancel()
			if r.Position().Compare(pos) < 0 {
				t.Fatalf("WaitFor returned before %s (at %s)", pos, r.Position())
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if !r.Ready() {
		t.Error("not ready")
	}
	// A bounded wait for a position that never comes times out.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	far := eventstore.Position{Commit: 1 << 40, Prepare: 1 << 40}
	if err := r.WaitFor(ctx, far); err == nil {
		t.Error("WaitFor a future position returned nil")
	}
	if r.Events() != uint64(len(log.Events)) {
		t.Errorf("events %d, want %d", r.Events(), len(log.Events))
	}
}

// TestProjectAtIncludesOrdersAndConflicts: a project's state as known now
// has the alerts the live views show, those other streams decide included:
// an overdue order about it, a breach its closed order cleared, and a
// rival report rejected under its exclusivity.
func TestProjectAtIncludesOrdersAndConflicts(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	held := l.report(1, "A", yuan(15), day("2024-05-01"), withInvestor("比亚迪股份有限公司", ""))
	key := domain.ExclusivityKeyOf(domain.Investor{Name: "比亚迪股份有限公司"}, "新能源汽车")
	l.add(domain.ExclusivityStream(key), domain.ReportRejected{Key: key, ProjectID: pid(99), Unit: "B", Name: "比亚迪整车项目",
		Investor: domain.Investor{Name: "比亚迪股份有限公司"}, IndustryChain: "新能源汽车", PlannedInvestment: yuan(15),
		OccurredAt: day("2024-05-03"), HolderUnit: "A", HolderProject: held, Until: day("2024-05-31")})
	ordered := l.report(2, "A", yuan(5), day("2024-05-01"))
	open, closed := "00000000-0000-4000-9000-000000000001", "00000000-0000-4000-9000-000000000002"
	l.add(domain.SupervisionStream(open), domain.SupervisionOrderIssued{OrderID: open, ProjectID: ordered, Matter: "督办", Target: "按期推进",
		LeadLeader: "张建国", ResponsibleUnit: "A", Requirements: "每周报送", Deadline: domain.MustDate("2024-05-20"), OccurredAt: day("2024-05-05")})
	late := l.report(3, "A", yuan(5), day("2024-05-01"))
	l.at(day("2024-06-01")).negotiate(late, day("2024-05-02")) // recorded 30 days late
	l.add(domain.SupervisionStream(closed), domain.SupervisionOrderIssued{OrderID: closed, ProjectID: late, Matter: "补录说明", Target: "说明原因",
		LeadLeader: "张建国", ResponsibleUnit: "A", Requirements: "书面说明", Deadline: domain.MustDate("2024-06-10"), OccurredAt: day("2024-06-02")})
	l.add(domain.SupervisionStream(closed), domain.SupervisionOrderClosed{OrderID: closed, OccurredAt: day("2024-06-05"), Result: "已说明"})

	clock := &fakeClock{}
	s, r := liveStore(t, clock)
	var last eventstore.Position
	for _, e := range l.evs {
		last = appendLike(t, s, clock, e)
	}
	ctx := context.Background()
	if err := r.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	now := day("2024-06-06")
	for _, tc := range []struct {
		name, id string
		want     []string
	}{
		{"a rival report rejected under its exclusivity", held, []string{domain.AlertExclusivityConflict}},
		{"an order about it past its deadline", ordered, []string{domain.AlertOrderOverdue}},
		{"a late record its closed order cleared", late, nil},
	} {
		live, _, ok := r.Views().Project(tc.id, now)
		past, pok, err := r.ProjectAt(ctx, tc.id, now, BasisRecorded)
		if err != nil || !ok || !pok {
			t.Fatalf("%s: %v %v %v", tc.name, ok, pok, err)
		}
		has := func(alerts []string) bool {
			for _, k := range tc.want {
				if !slices.Contains(alerts, k) {
					return false
				}
			}
			return len(tc.want) > 0 || !slices.Contains(alerts, domain.AlertLateRecord)
		}
		if !slices.Equal(live.Alerts, past.Alerts) || !has(past.Alerts) {
			t.Errorf("%s: as known now %v, live %v; want both to hold %v", tc.name, past.Alerts, live.Alerts, tc.want)
		}
	}
}
