package commands_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
)

// shanghai is the configured zone of the tests (a fixed +08:00 zone, so the
// tests do not depend on the machine's tzdata).
var shanghai = time.FixedZone("CST", 8*3600)

// t0 is the tests' "now" unless a test moves the clock.
var t0 = time.Date(2024, 6, 15, 10, 0, 0, 0, shanghai)

// clock is a settable clock shared by a fixture's apps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Units of the fixture.
const (
	unitA      = domain.UnitCode("nanhu")   // 南湖区
	unitB      = domain.UnitCode("xiuzhou") // 秀洲区
	unitPark   = domain.UnitCode("jxedz")   // 嘉兴经开区
	unitCentre = domain.UnitCode("centre")
)

// Actors, one per role (two unit_staff of different units).
var (
	centre     = eventstore.Actor{Subject: "zhang.wei", Role: string(domain.RoleCentre), Unit: string(unitCentre)}
	staffA     = eventstore.Actor{Subject: "li.na", Role: string(domain.RoleUnitStaff), Unit: string(unitA)}
	staffB     = eventstore.Actor{Subject: "wang.fang", Role: string(domain.RoleUnitStaff), Unit: string(unitB)}
	leader     = eventstore.Actor{Subject: "chen.jie", Role: string(domain.RoleLeader)}
	auditor    = eventstore.Actor{Subject: "liu.yang", Role: string(domain.RoleAuditor)}
	discipline = eventstore.Actor{Subject: "zhao.min", Role: string(domain.RoleDiscipline)}
	admin      = eventstore.Actor{Subject: "root", Role: string(domain.RoleAdmin)}
)

func as(a eventstore.Actor) commands.Meta { return commands.Meta{Actor: a} }

// fixture is an App on a real embedded store in a temporary directory.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	path  string
	store *bolt.Store
	clock *clock
	app   *commands.App
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "events.db"), clock: &clock{t: t0}}
	f.open()
	t.Cleanup(func() {
		if f.store != nil {
			if err := f.store.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		}
	})
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	s, err := bolt.Open(f.path)
	if err != nil {
		f.t.Fatalf("open store: %v", err)
	}
	f.store = s
	f.app = f.newApp(s, 0)
}

// reopen closes the store and opens it again with a new App: nothing of the
// previous process survives but the file.
func (f *fixture) reopen() {
	f.t.Helper()
	if err := f.store.Close(); err != nil {
		f.t.Fatalf("close store: %v", err)
	}
	f.store = nil
	f.open()
}

func (f *fixture) newApp(s commands.Store, retries int, opts ...func(*commands.Deps)) *commands.App {
	f.t.Helper()
	d := commands.Deps{Store: s, Clock: f.clock.Now, Location: shanghai, MaxRetries: retries}
	for _, o := range opts {
		o(&d)
	}
	app, err := commands.New(d)
	if err != nil {
		f.t.Fatalf("commands.New: %v", err)
	}
	return app
}

// setup registers the fixture's units.
func (f *fixture) setup() *fixture {
	f.t.Helper()
	for _, u := range []struct {
		code domain.UnitCode
		name string
		kind domain.UnitKind
	}{
		{unitA, "南湖区", domain.UnitCounty},
		{unitB, "秀洲区", domain.UnitCounty},
		{unitPark, "嘉兴经济技术开发区", domain.UnitPark},
		{unitCentre, "嘉兴市投资促进中心", domain.UnitCentre},
	} {
		f.must(f.app.RegisterUnit.Handle(f.ctx, commands.RegisterUnit{Code: u.code, Name: u.name, Kind: u.kind, Meta: as(admin)}))
	}
	return f
}

func (f *fixture) must(r commands.Result, err error) commands.Result {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("unexpected error: %v", err)
	}
	return r
}

func (f *fixture) head() eventstore.Position {
	f.t.Helper()
	p, err := f.store.Head(f.ctx)
	if err != nil {
		f.t.Fatalf("head: %v", err)
	}
	return p
}

// stream reads a stream's events (none when it does not exist).
func (f *fixture) stream(name string) []eventstore.Event {
	f.t.Helper()
	evs, err := f.store.ReadStream(f.ctx, name, 1, eventstore.Forwards, 0)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("read %s: %v", name, err)
	}
	return evs
}

func types(evs []eventstore.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// usccOf builds a valid unified social credit code from a 17-character body.
func usccOf(body string) string {
	c, ok := domain.USCCCheckChar(body)
	if !ok {
		panic("bad uscc body " + body)
	}
	return body + string(c)
}

var (
	usccCATL  = usccOf("91350900MA2XN5DB0")
	usccCo    = usccOf("91330400MA2BXXXX0")
	investorA = domain.Investor{Name: "宁德时代新能源科技股份有限公司", USCC: usccCATL, Origin: "福建",
		Categories: []domain.Category{domain.CategoryChina500}}
)

// report is a valid major report (¥15亿) for unit by actor.
func report(a eventstore.Actor, unit domain.UnitCode, inv domain.Investor, planned domain.Money) commands.ReportProject {
	return commands.ReportProject{
		Name: "新能源电池基地项目", Unit: unit, Investor: inv, IndustryChain: "新能源",
		PlannedInvestment: planned, SourceChannel: domain.ChannelBusinessLed, Referrer: "嘉兴商会",
		LeadOfficial: "王局长", OccurredAt: t0.Add(-24 * time.Hour), Meta: as(a),
	}
}

var major = domain.Yuan(1_500_000_000)

// reported reports a major project of unitA (as staffA) and returns its id.
func (f *fixture) reported(inv domain.Investor) string {
	f.t.Helper()
	return f.must(f.app.ReportProject.Handle(f.ctx, report(staffA, unitA, inv, major))).ID
}

// signed reports and signs a project of unitA and returns its id.
func (f *fixture) signed(inv domain.Investor) string {
	f.t.Helper()
	id := f.reported(inv)
	f.must(f.app.SignContract.Handle(f.ctx, commands.SignContract{ProjectID: id, OccurredAt: t0.Add(-time.Hour),
		ContractInvestment: domain.Yuan(2_000_000_000), Agreement: domain.AgreementFormal, Meta: as(staffA)}))
	return id
}

// terminated reports and terminates a project of unitA and returns its id.
func (f *fixture) terminated(inv domain.Investor) string {
	f.t.Helper()
	id := f.reported(inv)
	f.must(f.app.TerminateProject.Handle(f.ctx, commands.TerminateProject{ProjectID: id, OccurredAt: t0.Add(-time.Hour),
		Kind: domain.TermNegotiationEnded, Cause: domain.CauseMarketChange, Explanation: "市场变化，投资方暂停扩产", Meta: as(staffA)}))
	return id
}

// order issues a supervision order with unitA responsible and returns its id.
func (f *fixture) order() string {
	f.t.Helper()
	return f.must(f.app.IssueSupervisionOrder.Handle(f.ctx, commands.IssueSupervisionOrder{
		Matter: "推进项目签约", Target: "6月底前签约", LeadLeader: "分管副市长", ResponsibleUnit: unitA,
		Requirements: "每周报送进展", Deadline: domain.NewDate(2024, 6, 30), Meta: as(centre)})).ID
}

// investor returns a distinct investor (by name, no code) for test i.
func investor(i int) domain.Investor {
	return domain.Investor{Name: fmt.Sprintf("测试投资有限公司%03d", i)}
}

func ptr[T any](v T) *T { return &v }

// noCache disables the stream cache of an App.
func noCache(d *commands.Deps) { d.CachedStreams = -1 }
