package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/projections"
)

// The handler tests run the real thing: the embedded store (bolt) in a
// temporary directory, the real commands, the real projections runner
// tailing the store, and the server with every route mounted. Every answer
// a test receives is checked against docs/openapi.yaml.

// cst is the tests' zone (a fixed +08:00, independent of the machine's
// zone database).
var cst = time.FixedZone("CST", 8*3600)

// worldStart is "now" when a world starts: mid-January 2025, so 2024 is a
// closed year an assessment can be published for.
var worldStart = time.Date(2025, 1, 15, 10, 0, 0, 0, cst)

// settableClock is the one clock of a world: tokens, validation, commands
// and the store's recorded_at all read it.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Units of every world.
const (
	unitNanhu   = "nanhu"   // 南湖区, county
	unitXiuzhou = "xiuzhou" // 秀洲区, county
	unitPark    = "jxedz"   // 嘉兴经开区, park
	unitCentre  = "centre"  // 市投促中心
)

type world struct {
	t      testing.TB
	clock  *settableClock
	store  *bolt.Store
	log    EventLog // what the server reads; tests may wrap store
	app    *commands.App
	runner *projections.Runner
	srv    *Server
	spec   *SpecValidator
	logs   *syncBuffer
}

type worldOpts struct {
	cfg  func(*Config)
	deps func(*Deps)
}

func newWorld(t testing.TB, opts ...worldOpts) *world {
	t.Helper()
	clock := &settableClock{t: worldStart}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	app, err := commands.New(commands.Deps{Store: store, Clock: clock.Now, Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := projections.NewRunner(projections.Config{Store: store, Options: projections.Options{Location: cst}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- runner.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("runner: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	logs := &syncBuffer{}
	cfg := Config{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Secret: testSecret, Now: clock.Now, Location: cst,
		Positioner: runner, Readiness: runner, Head: store,
	}
	deps := Deps{Commands: app, Views: runner.Views(), Past: runner, Log: store}
	for _, o := range opts {
		if o.cfg != nil {
			o.cfg(&cfg)
		}
		if o.deps != nil {
			o.deps(&deps)
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Mount(srv, deps); err != nil {
		t.Fatal(err)
	}
	sv, err := NewSpecValidator(srv.Spec())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, clock: clock, store: store, log: deps.Log, app: app, runner: runner, srv: srv, spec: sv, logs: logs}
	w.seedUnits()
	return w
}

func (w *world) ctx() context.Context { return context.Background() }

// seedUnits registers the units through the commands (not HTTP: the
// fixture, not the subject of the tests).
func (w *world) seedUnits() {
	w.t.Helper()
	admin := commands.Meta{Actor: eventstore.Actor{Subject: "seed", Role: RoleAdmin}}
	for _, u := range []commands.RegisterUnit{
		{Code: unitNanhu, Name: "南湖区", Kind: domain.UnitCounty},
		{Code: unitXiuzhou, Name: "秀洲区", Kind: domain.UnitCounty},
		{Code: unitPark, Name: "嘉兴经开区", Kind: domain.UnitPark},
		{Code: unitCentre, Name: "市投促中心", Kind: domain.UnitCentre},
	} {
		u.Meta = admin
		if _, err := w.app.RegisterUnit.Handle(w.ctx(), u); err != nil {
			w.t.Fatal(err)
		}
	}
	w.sync()
}

// head is the store's last position.
func (w *world) head() eventstore.Position {
	w.t.Helper()
	h, err := w.store.Head(w.ctx())
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// sync waits until the views have applied everything in the store.
func (w *world) sync() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx(), 30*time.Second)
	defer cancel()
	if err := w.runner.WaitFor(ctx, w.head()); err != nil {
		w.t.Fatal(err)
	}
}

// who is a caller: a role and, for unit_staff, a unit.
type who struct {
	role, unit string
}

var (
	asCentre     = who{RoleCentre, unitCentre}
	asStaff      = who{RoleUnitStaff, unitNanhu}
	asOtherStaff = who{RoleUnitStaff, unitXiuzhou}
	asLeader     = who{RoleLeader, ""}
	asAuditor    = who{RoleAuditor, ""}
	asDiscipline = who{RoleDiscipline, ""}
	asAdmin      = who{RoleAdmin, ""}
)

func (w *world) token(a who) string {
	w.t.Helper()
	return w.tokenT(w.t, a)
}

func (w *world) tokenT(t testing.TB, a who) string {
	t.Helper()
	subject := "t-" + a.role
	if a.unit != "" {
		subject += "-" + a.unit
	}
	tok, err := MintToken(testSecret, subject, a.role, a.unit, time.Hour, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer is a recorded response.
type answer struct {
	*httptest.ResponseRecorder
	req *http.Request
}

// problem decodes a problem answer.
func (a answer) problem(t testing.TB) *Problem {
	t.Helper()
	return problemOf(t, a.ResponseRecorder)
}

// into decodes a JSON answer.
func (a answer) into(t testing.TB, dst any) {
	t.Helper()
	if err := json.Unmarshal(a.Body.Bytes(), dst); err != nil {
		t.Fatalf("%s %s → %d: %v\n%s", a.req.Method, a.req.URL, a.Code, err, a.Body)
	}
}

// result decodes a command answer.
func (a answer) result(t testing.TB) CommandResult {
	t.Helper()
	var r CommandResult
	a.into(t, &r)
	return r
}

// call sends one request as a (zero who: no token) and checks the answer
// against the spec. body is JSON text, or any value to marshal.
func (w *world) call(a who, method, target string, body any, headers ...string) answer {
	w.t.Helper()
	return w.callT(w.t, a, method, target, body, headers...)
}

// callT is call reporting to t (a fuzz target's, a subtest's).
func (w *world) callT(t testing.TB, a who, method, target string, body any, headers ...string) answer {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, target, rd)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.role != "" {
		req.Header.Set("Authorization", "Bearer "+w.tokenT(t, a))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("%s %s → %d (a server fault): %s\nlogs: %s", method, target, rec.Code, rec.Body, w.logs)
	}
	if err := w.spec.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("the answer does not match the spec: %v\n%s", err, truncate(rec.Body.String(), 2000))
	}
	return answer{ResponseRecorder: rec, req: req}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// must sends a request and fails the test unless it answers want.
func (w *world) must(want int, a who, method, target string, body any, headers ...string) answer {
	w.t.Helper()
	ans := w.call(a, method, target, body, headers...)
	if ans.Code != want {
		w.t.Fatalf("%s %s → %d, want %d: %s", method, target, ans.Code, want, ans.Body)
	}
	return ans
}

// get reads after waiting for the views to include every write so far.
func (w *world) get(a who, target string) answer {
	w.t.Helper()
	w.sync()
	return w.must(http.StatusOK, a, http.MethodGet, target, nil)
}

// ---- bodies ----

// rfc is a time in the tests' zone, RFC 3339.
func rfc(y int, m time.Month, d, h int) string {
	return time.Date(y, m, d, h, 0, 0, 0, cst).Format(time.RFC3339)
}

func cny(amount int64) map[string]any { return map[string]any{"amount": amount, "currency": "CNY"} }

// reportBody is a valid report of a major project (¥15亿) by unit.
func reportOf(unit, name, investor string) map[string]any {
	return map[string]any{
		"name": name, "unit": unit,
		"investor":           map[string]any{"name": investor, "origin": "浙江", "categories": []string{"china_500"}},
		"industry_chain":     "新能源",
		"planned_investment": cny(1_500_000_000),
		"source_channel":     "business_led",
		"occurred_at":        rfc(2024, 5, 6, 10),
	}
}

// report reports a project over HTTP and returns its id.
func (w *world) report(a who, body map[string]any) string {
	w.t.Helper()
	return w.must(http.StatusCreated, a, http.MethodPost, "/api/v1/projects", body).result(w.t).ID
}

// Valid command bodies, one per project fact.
var (
	validNegotiation = map[string]any{"occurred_at": rfc(2024, 5, 10, 15), "leader_level": "principal",
		"participants": []string{"王书记", "投资方董事长"}, "summary": "首次洽谈，达成初步意向"}
	validDueProcess = func(kind string) map[string]any {
		return map[string]any{"kind": kind, "occurred_at": rfc(2024, 5, 20, 9), "body": "市政府常务会议",
			"summary": "论证通过", "document_ref": "嘉政纪〔2024〕12号",
			"document_sha256": strings.Repeat("ab", 32)}
	}
	validFiling = map[string]any{"planned_date": "2024-06-18", "contract_investment": cny(1_800_000_000),
		"venue": "全球招商大会"}
	validSigning = map[string]any{"occurred_at": rfc(2024, 6, 18, 10), "contract_investment": cny(1_800_000_000),
		"agreement": "formal", "commitments": map[string]any{"register_by": "2024-09-30", "start_by": "2024-12-31",
			"funds": []any{map[string]any{"by": "2024-12-31", "amount": cny(300_000_000)}}}}
	validAmendment    = map[string]any{"occurred_at": rfc(2024, 7, 1, 10), "contract_investment": cny(2_000_000_000), "reason": "增资扩产"}
	validRegistration = map[string]any{"occurred_at": rfc(2024, 7, 10, 10), "company_uscc": "91330402MA2JD4XK5W",
		"registered_capital": cny(500_000_000)}
	validConstruction = map[string]any{"occurred_at": rfc(2024, 8, 1, 9), "permit_no": "330402202408010101"}
	validFunds        = map[string]any{"occurred_at": rfc(2024, 8, 15, 10), "amount": cny(300_000_000), "source": "domestic"}
	validProduction   = map[string]any{"occurred_at": rfc(2024, 12, 1, 9)}
)
