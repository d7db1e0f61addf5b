package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/projections"
)

// shanghai is a fixed +08:00 zone, so the tests do not depend on the
// machine's zone database.
var testZone = time.FixedZone("CST", 8*3600)

// testNow is the end of the tests' datasets: a Tuesday afternoon.
var testNow = time.Date(2026, 6, 30, 16, 0, 0, 0, testZone)

// fixture is a demo loaded into a fresh embedded store whose recorded_at
// follows the demo's clock.
type fixture struct {
	store   *bolt.Store
	clock   *Clock
	summary Summary
}

func openStore(t *testing.T, clock *Clock) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func load(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{clock: &Clock{}}
	f.store = openStore(t, f.clock)
	opts.Clock = f.clock
	if opts.Location == nil {
		opts.Location = testZone
	}
	s, err := Load(context.Background(), f.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.summary = s
	return f
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	after := eventstore.Start
	for {
		evs, err := s.ReadAll(context.Background(), after, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		after = evs[len(evs)-1].Position
	}
}

// TestLoad loads two years and checks that every dashboard query has
// something meaningful to answer, that nothing is dated or recorded after
// Now, and that loading again appends nothing.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	f := load(t, Options{Seed: 7, Now: testNow})
	s := f.summary
	t.Logf("%s", s)
	evs := readAll(t, f.store)
	t.Logf("%d events in the log", len(evs))

	// Every domain event type occurs, but UnitUpdated (no unit is renamed).
	types := map[string]int{}
	roles := map[string]bool{}
	for _, e := range evs {
		types[e.Type]++
		roles[e.Actor.Role] = true
		if e.OccurredAt.After(testNow) || e.RecordedAt.After(testNow) {
			t.Errorf("%s %s v%d dated %s, recorded %s: after Now", e.Type, e.Stream, e.Version, e.OccurredAt, e.RecordedAt)
		}
		if e.CorrelationID != "demo:seed=7:years=2:now="+strconv.FormatInt(testNow.Unix(), 10) {
			t.Fatalf("%s %s: correlation id %q", e.Type, e.Stream, e.CorrelationID)
		}
	}
	for _, et := range domain.EventTypes() {
		if types[et.Name] == 0 && et.Name != domain.TypeUnitUpdated {
			t.Errorf("no %s event", et.Name)
		}
	}
	for _, r := range []domain.Role{domain.RoleAdmin, domain.RoleCentre, domain.RoleUnitStaff, domain.RoleDiscipline} {
		if !roles[string(r)] {
			t.Errorf("no event by a %s", r)
		}
	}
	if got, want := types[commands.TypeIdempotencyRecorded], s.Commands-s.Rejected; got != want {
		t.Errorf("%d idempotency records for %d accepted commands", got, want)
	}
	if types[domain.TypeProjectReported] != s.Projects || types[domain.TypeReportRejected] != s.Rejected {
		t.Errorf("summary says %d projects, %d rejected; the log holds %d, %d", s.Projects, s.Rejected,
			types[domain.TypeProjectReported], types[domain.TypeReportRejected])
	}
	if s.Projects < 300 || s.Transfers < 5 || s.Orders < 15 || s.Cases < 4 {
		t.Errorf("thin dataset: %+v", s)
	}

	// A transferred project that then signed: credit to both units.
	landed := false
	transferred := map[string]bool{}
	for _, e := range evs {
		switch e.Type {
		case domain.TypeProjectTransferred:
			transferred[e.Stream] = true
		case domain.TypeContractSigned:
			landed = landed || transferred[e.Stream]
		}
	}
	if !landed {
		t.Error("no transferred project landed")
	}

	v, err := projections.Replay(ctx, f.store, projections.Options{Location: testZone}, eventstore.Start, nil)
	if err != nil {
		t.Fatal(err)
	}
	alerts := v.AlertCounts(testNow, "")
	t.Logf("alerts: %v", alerts)
	for _, k := range domain.AlertKinds() {
		if alerts[k] == 0 {
			t.Errorf("no %s alert at Now", k)
		}
	}
	for _, st := range domain.Stages() {
		p, err := v.Projects(projections.ProjectFilter{Stage: st, Limit: 1})
		if err != nil || len(p.Items) == 0 {
			t.Errorf("no project in stage %s (%v)", st, err)
		}
	}
	for _, status := range []string{projections.StatusOpen, projections.StatusOverdue, projections.StatusClosed} {
		p, err := v.Orders(projections.OrderQuery{Now: testNow, Status: status, Limit: 1})
		if err != nil || len(p.Items) == 0 {
			t.Errorf("no %s supervision order (%v)", status, err)
		}
	}
	cases, err := v.Cases(projections.CaseQuery{Limit: projections.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[domain.ToleranceDecision]bool{}
	eligible := map[bool]bool{}
	open := 0
	for _, c := range cases.Items {
		eligible[c.Evaluation.Eligible] = true
		if c.Decision == nil {
			open++
			continue
		}
		decisions[c.Decision.Decision] = true
	}
	if open == 0 || !decisions[domain.DecisionExempt] || !decisions[domain.DecisionRejected] || !eligible[true] || !eligible[false] {
		t.Errorf("tolerance cases lack variety: %d open, decisions %v, eligible %v", open, decisions, eligible)
	}

	first, second := testNow.Year()-1, testNow.Year()
	for _, year := range []int{first, second} {
		if n := len(v.Targets(year, "")); n != len(unitSpecs) {
			t.Errorf("%d: targets for %d units, want %d", year, n, len(unitSpecs))
		}
		r, err := v.Ranking(projections.RankingQuery{Period: strconv.Itoa(year)})
		if err != nil {
			t.Fatal(err)
		}
		scored := 0
		for _, it := range r.Items {
			if it.Score > 0 {
				scored++
			}
		}
		if scored < len(unitSpecs)-1 {
			t.Errorf("%d ranking: %d of %d units scored", year, scored, len(r.Items))
		}
	}
	a, err := v.Assessment(projections.AssessmentQuery{Year: first})
	if err != nil {
		t.Fatal(err)
	}
	ratings := map[domain.Rating]bool{}
	for _, it := range a.Items {
		ratings[it.Rating] = true
		t.Logf("%d %-10s score %6.2f %-9s completion %.2f flags %v", first, it.Unit, it.Score, it.Rating, it.Completion["overall"], it.Flags)
	}
	if !a.Published || len(ratings) < 2 {
		t.Errorf("%d assessment: published %v, ratings %v", first, a.Published, ratings)
	}
	a, err = v.Assessment(projections.AssessmentQuery{Year: second})
	if err != nil || a.Published || len(a.Items) == 0 {
		t.Errorf("%d assessment: published %v, %d items (%v)", second, a.Published, len(a.Items), err)
	}
	for _, it := range a.Items {
		t.Logf("%d %-10s score %6.2f %-9s completion %.2f flags %v", second, it.Unit, it.Score, it.Rating, it.Completion["overall"], it.Flags)
	}

	// Loading again — even on another day — appends nothing.
	head, _ := f.store.Head(ctx)
	again, err := Load(ctx, f.store, Options{Seed: 7, Now: testNow.Add(72 * time.Hour), Location: testZone, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := f.store.Head(ctx); after != head {
		t.Errorf("second load moved the head from %s to %s", head, after)
	}
	if !again.Resumed || again.Events != 0 || again.Replayed != again.Commands-again.Rejected || !again.Now.Equal(testNow) {
		t.Errorf("second load: %+v", again)
	}
	// Another seed is another dataset: refused.
	if _, err := Load(ctx, f.store, Options{Seed: 8, Now: testNow, Location: testZone}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("seed 8 over seed 7: %v, want ErrNotEmpty", err)
	}
}

// failingStore fails every append after the first n, as a store that goes
// away in the middle of a load.
type failingStore struct {
	*bolt.Store
	left atomic.Int64
}

var errGone = errors.New("store went away")

func (s *failingStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, error) {
	if s.left.Add(-1) < 0 {
		return eventstore.AppendResult{}, errGone
	}
	return s.Store.Append(ctx, stream, exp, evs)
}

// TestLoadIsDeterministicAndResumes loads the same seed twice into fresh
// stores, the second time interrupted half-way and then loaded again, and
// compares the stores stream by stream: same events, ids, data, actors,
// business and record times, hashes. Only the global interleaving of a
// batch's concurrent commands may differ, and with it the positions an
// idempotency record repeats.
func TestLoadIsDeterministicAndResumes(t *testing.T) {
	ctx := context.Background()
	opts := Options{Seed: 3, Now: testNow, Years: 1, Location: testZone}
	a := load(t, opts)

	clock := &Clock{}
	st := openStore(t, clock)
	fs := &failingStore{Store: st}
	fs.left.Store(int64(a.summary.Commands))
	o := opts
	o.Clock = clock
	if _, err := Load(ctx, fs, o); !errors.Is(err, errGone) {
		t.Fatalf("interrupted load: %v, want %v", err, errGone)
	}
	resumed, err := Load(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Resumed || resumed.Replayed == 0 || resumed.Events == 0 {
		t.Errorf("resumed load: %+v", resumed)
	}
	t.Logf("first load: %d commands in %s; resumed: %d replayed, %d events appended",
		a.summary.Commands, a.summary.Took, resumed.Replayed, resumed.Events)

	want, got := byStream(t, readAll(t, a.store)), byStream(t, readAll(t, st))
	if len(want) != len(got) {
		t.Errorf("%d streams, want %d", len(got), len(want))
	}
	for name, ws := range want {
		gs := got[name]
		if len(gs) != len(ws) {
			t.Errorf("%s: %d events, want %d", name, len(gs), len(ws))
			continue
		}
		for i := range ws {
			if d := diff(ws[i], gs[i]); d != "" {
				t.Errorf("%s v%d: %s", name, ws[i].Version, d)
				break
			}
		}
	}

	// Another seed is another dataset.
	g1, g2 := newGen(mustResolve(t, opts)), newGen(mustResolve(t, Options{Seed: 4, Now: testNow, Years: 1, Location: testZone}))
	g1.build()
	g2.build()
	if slices.EqualFunc(g1.steps, g2.steps, func(x, y step) bool { return x.key == y.key && x.at.Equal(y.at) }) {
		t.Error("seeds 3 and 4 plan the same steps")
	}
}

func mustResolve(t *testing.T, o Options) resolved {
	t.Helper()
	r, err := resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func byStream(t *testing.T, evs []eventstore.Event) map[string][]eventstore.Event {
	out := map[string][]eventstore.Event{}
	for _, e := range evs {
		if e.Type == commands.TypeIdempotencyRecorded {
			var rec commands.IdempotencyRecord
			if err := json.Unmarshal(e.Data, &rec); err != nil {
				t.Fatal(err)
			}
			rec.Result.Position = eventstore.Position{}
			e.Data, _ = json.Marshal(rec)
			e.Hash, e.PrevHash = "", ""
		}
		e.Position = eventstore.Position{}
		out[e.Stream] = append(out[e.Stream], e)
	}
	return out
}

func diff(a, b eventstore.Event) string {
	switch {
	case a.ID != b.ID:
		return fmt.Sprintf("id %s, want %s", b.ID, a.ID)
	case a.Type != b.Type:
		return fmt.Sprintf("type %s, want %s", b.Type, a.Type)
	case string(a.Data) != string(b.Data):
		return fmt.Sprintf("data %s, want %s", b.Data, a.Data)
	case !a.OccurredAt.Equal(b.OccurredAt) || !a.RecordedAt.Equal(b.RecordedAt):
		return fmt.Sprintf("times %s/%s, want %s/%s", b.OccurredAt, b.RecordedAt, a.OccurredAt, a.RecordedAt)
	case a.Actor != b.Actor || a.CommandID != b.CommandID || a.CorrelationID != b.CorrelationID || a.CausationID != b.CausationID:
		return fmt.Sprintf("envelope %+v, want %+v", b, a)
	case a.Hash != b.Hash || a.PrevHash != b.PrevHash:
		return fmt.Sprintf("hash %s, want %s", b.Hash, a.Hash)
	}
	return ""
}

// TestLoadRefusesAnotherLedger: a store holding anything but the demo is
// left alone.
func TestLoadRefusesAnotherLedger(t *testing.T) {
	ctx := context.Background()
	clock := &Clock{}
	st := openStore(t, clock)
	app, err := commands.New(commands.Deps{Store: st, Clock: time.Now, Location: testZone})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: "nanhu", Name: "南湖区", Kind: domain.UnitCounty,
		Meta: commands.Meta{Actor: adminActor}}); err != nil {
		t.Fatal(err)
	}
	head, _ := st.Head(ctx)
	if _, err := Load(ctx, st, Options{Seed: 1, Now: testNow, Location: testZone, Clock: clock}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("load over a ledger: %v, want ErrNotEmpty", err)
	}
	if after, _ := st.Head(ctx); after != head {
		t.Errorf("the refused load moved the head from %s to %s", head, after)
	}
}

func TestBatchAt(t *testing.T) {
	o := mustResolve(t, Options{Seed: 1, Now: testNow, Location: testZone})
	for at := o.start; at.Before(o.now); at = at.Add(7*time.Hour + 13*time.Minute) {
		b := o.batchAt(at)
		switch wd := b.In(testZone).Weekday(); {
		case b.Before(at):
			t.Fatalf("%s batched at %s, before it", at, b)
		case b.After(o.now):
			t.Fatalf("%s batched at %s, after Now", at, b)
		case b.Sub(at) > 4*24*time.Hour+12*time.Hour:
			t.Fatalf("%s batched at %s, more than four and a half days later", at, b)
		case !b.Equal(o.now) && wd != time.Tuesday && wd != time.Friday:
			t.Fatalf("%s batched on a %s", at, wd)
		}
	}
}

func TestMarker(t *testing.T) {
	o := mustResolve(t, Options{Seed: -12, Now: testNow, Years: 3, Location: testZone})
	seed, years, now, ok := parseMarker(o.marker)
	if !ok || seed != -12 || years != 3 || !now.Equal(testNow) {
		t.Errorf("parseMarker(%q) = %d %d %s %v", o.marker, seed, years, now, ok)
	}
	for _, bad := range []string{"", "demo:seed=x:years=2:now=1", "demo:seed=1:years=2", "ledger-import:abc"} {
		if _, _, _, ok := parseMarker(bad); ok {
			t.Errorf("parseMarker(%q) accepted", bad)
		}
	}
}

// TestLoadWithoutClock: on a store that stamps recorded_at with its own
// clock (PostgreSQL, EventStoreDB), the commands still run in simulated
// time and the load succeeds; recorded_at is the load's real time.
func TestLoadWithoutClock(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	began := time.Now().Add(-time.Second)
	s, err := Load(context.Background(), st, Options{Seed: 5, Now: testNow, Years: 1, Location: testZone})
	if err != nil {
		t.Fatal(err)
	}
	evs := readAll(t, st)
	if len(evs) == 0 || s.Projects == 0 {
		t.Fatalf("nothing loaded: %+v", s)
	}
	for _, e := range evs {
		if e.RecordedAt.Before(began) || e.OccurredAt.After(testNow) {
			t.Fatalf("%s %s: occurred %s, recorded %s", e.Type, e.Stream, e.OccurredAt, e.RecordedAt)
		}
	}
}
