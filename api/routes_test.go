package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/docs"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// TestEveryRouteIsMountedAndInTheSpec is the full route check: the server
// with every route mounted and docs/openapi.yaml name exactly the same
// routes, both ways, and they are API.md's.
func TestEveryRouteIsMountedAndInTheSpec(t *testing.T) {
	w := newWorld(t)
	if err := CheckRoutesAgainstSpec(w.srv.Echo(), w.srv.Spec()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range w.srv.Echo().Routes() {
		if r.Method != "echo_route_not_found" {
			got = append(got, r.Method+" "+specPath(r.Path))
		}
	}
	want := slices.Clone(apiRoutes)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(slices.Compact(got), want) {
		t.Fatalf("mounted\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRolesAreTheCommandsTable: the spec's x-roles of every command route are
// the roles the commands layer authorises (commands.RolesFor), and Mount
// refuses a spec that disagrees.
func TestRolesAreTheCommandsTable(t *testing.T) {
	doc := loadSpec(t)
	for _, r := range routes {
		got, ok := SpecRoles(doc, r.method, BasePath+r.path)
		if !ok {
			t.Fatalf("%s %s: no x-roles", r.method, r.path)
		}
		if r.isCommand() {
			var want []string
			for _, role := range commands.RolesFor(r.op) {
				want = append(want, string(role))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: spec %v, commands %v", r.method, r.path, got, want)
			}
		}
	}
	// A spec that lets leaders transfer projects is refused at Mount.
	at := bytes.Index(docs.OpenAPI, []byte("operationId: transferProject"))
	roles := at + bytes.Index(docs.OpenAPI[at:], []byte("x-roles: [centre]"))
	src := slices.Concat(docs.OpenAPI[:roles], []byte("x-roles: [centre, leader]"), docs.OpenAPI[roles+len("x-roles: [centre]"):])
	drifted, err := LoadSpec(src)
	if err == nil {
		err = checkRolesAgainstSpec(drifted)
	}
	if err == nil || !strings.Contains(err.Error(), "transfers") {
		t.Fatalf("a drifted spec was accepted: %v", err)
	}
}

// TestProjectLifecycle walks one project through every project route and
// reads it back through every read route, each answer checked against the
// spec.
func TestProjectLifecycle(t *testing.T) {
	w := newWorld(t)
	post := func(a who, id, fact string, body any) CommandResult {
		t.Helper()
		return w.must(http.StatusOK, a, http.MethodPost, "/api/v1/projects/"+id+"/"+fact, body).result(t)
	}
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代新能源科技股份有限公司"))
	post(asStaff, pid, "negotiations", validNegotiation)
	for _, k := range []string{"feasibility_study", "risk_assessment", "collective_decision"} {
		post(asStaff, pid, "due-process", validDueProcess(k))
	}
	post(asStaff, pid, "signing-filings", validFiling)
	r := post(asCentre, pid, "signing", validSigning)
	if r.Version != 7 {
		t.Fatalf("version after signing %d, want 7", r.Version)
	}
	post(asStaff, pid, "amendments", validAmendment)
	post(asStaff, pid, "registration", validRegistration)
	post(asStaff, pid, "construction-start", validConstruction)
	post(asStaff, pid, "funds", validFunds)
	post(asStaff, pid, "production", validProduction)
	post(asCentre, pid, "corrections", map[string]any{"field": "name", "value": "新能源电池项目（一期）", "reason": "名称更正"})

	var p Project
	w.get(asLeader, "/api/v1/projects/"+pid).into(t, &p)
	if p.Stage != "producing" || p.Name != "新能源电池项目（一期）" || p.Version != 13 || !p.DueProcess.CollectiveDecision ||
		p.ContractInvestment == nil || p.ContractInvestment.Amount != 2_000_000_000 || p.FundsArrived.Amount != 300_000_000 {
		t.Fatalf("project %+v", p)
	}
	var hist List[eventstore.Event]
	w.get(asAuditor, "/api/v1/projects/"+pid+"/history?limit=5").into(t, &hist)
	if len(hist.Items) != 5 || hist.NextCursor == nil || hist.Items[0].Type != "ProjectReported" || hist.Items[0].PrevHash != "" {
		t.Fatalf("history page %+v", hist)
	}
	var rest List[eventstore.Event]
	w.get(asAuditor, "/api/v1/projects/"+pid+"/history?limit=50&cursor="+*hist.NextCursor).into(t, &rest)
	if len(rest.Items) != 8 || rest.NextCursor != nil || rest.Items[0].Version != 6 || rest.Items[0].PrevHash != hist.Items[4].Hash {
		t.Fatalf("history rest %+v", rest)
	}
	var list List[ProjectSummary]
	w.get(asOtherStaff, "/api/v1/projects?q=电池&unit=nanhu&tier=1b").into(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != pid {
		t.Fatalf("search %+v", list)
	}
	w.get(asOtherStaff, "/api/v1/lists/started").into(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a producing project is on the started list: %+v", list)
	}
	var rk Ranking
	w.get(asLeader, "/api/v1/rankings?period=2024&kind=county").into(t, &rk)
	if len(rk.Items) != 2 || rk.Items[0].Unit != unitNanhu || rk.Items[0].Indicators["signed_1b"] != 1 {
		t.Fatalf("ranking %+v", rk)
	}
	w.get(asLeader, "/api/v1/rankings?period=2024-W25").into(t, &rk)
	if rk.Kind != nil || len(rk.Items) < 3 {
		t.Fatalf("ranking of every kind %+v", rk)
	}
	for _, target := range []string{"/api/v1/projects?unit=haining", "/api/v1/lists/signed?unit=haining", "/api/v1/supervision/rates?unit=haining"} {
		if p := w.must(http.StatusUnprocessableEntity, asLeader, http.MethodGet, target, nil).problem(t); fieldNames(p)[0] != "unit" {
			t.Fatalf("%s: %+v", target, p)
		}
	}
	for _, target := range []string{"/api/v1/projects?stage=done", "/api/v1/projects?tier=2b", "/api/v1/rankings?period=2024-13",
		"/api/v1/rankings", "/api/v1/projects?limit=501", "/api/v1/projects?cursor=!!", "/api/v1/supervision/rates?year=1999",
		"/api/v1/projects?cursor=" + EncodeCursor("another list's"), "/api/v1/projects/" + pid + "/history?cursor=" + EncodeCursor("x"),
		"/api/v1/projects/" + uuidFor(8) + "/history?cursor=" + *hist.NextCursor} { // another project's history cursor
		w.must(http.StatusUnprocessableEntity, asLeader, http.MethodGet, target, nil)
	}
	var as Assessment
	w.get(asLeader, "/api/v1/assessments/2024").into(t, &as)
	if as.Year != 2024 || as.Published {
		t.Fatalf("assessment %+v", as)
	}
	var rates Rates
	w.get(asLeader, "/api/v1/supervision/rates?year=2024&unit=nanhu").into(t, &rates)
	if len(rates.Items) != 1 || rates.Items[0].Start.Numerator != 1 {
		t.Fatalf("rates %+v", rates)
	}
	var alerts List[Alert]
	w.get(asLeader, "/api/v1/supervision/alerts?unit=nanhu").into(t, &alerts)
	var units List[UnitItemForTest]
	w.get(asStaff, "/api/v1/units").into(t, &units)
	if len(units.Items) != 4 {
		t.Fatalf("units %+v", units)
	}
	pol := w.get(asStaff, "/api/v1/policy")
	if pol.Header().Get("ETag") != `"0"` || !strings.Contains(pol.Body.String(), `"exclusivity_days":30`) {
		t.Fatalf("policy %s %s", pol.Header(), pol.Body)
	}
	w.get(asStaff, "/api/v1/policy?version=0")
	w.must(http.StatusNotFound, asStaff, http.MethodGet, "/api/v1/policy?version=7", nil)
}

// UnitItemForTest is a unit as GET /units answers it.
type UnitItemForTest struct {
	Code, Name, Kind string
}

func TestUnitAndPolicyRoutes(t *testing.T) {
	w := newWorld(t)
	r := w.must(http.StatusCreated, asAdmin, http.MethodPut, "/api/v1/units/haiyan", map[string]any{"name": "海盐县", "kind": "county"}).result(t)
	if r.ID != "haiyan" || r.Version != 5 {
		t.Fatalf("new unit %+v", r)
	}
	before := w.head()
	same := w.must(http.StatusOK, asCentre, http.MethodPut, "/api/v1/units/haiyan", map[string]any{"name": "海盐县", "kind": "county"})
	if same.result(t).Version != 5 || w.head() != before || same.Header().Get("ETag") != `"5"` {
		t.Fatalf("an identical PUT recorded something: %s", same.Body)
	}
	w.must(http.StatusOK, asCentre, http.MethodPut, "/api/v1/units/haiyan", map[string]any{"name": "海盐县（嘉兴）", "kind": "county"})
	w.must(http.StatusForbidden, asLeader, http.MethodPut, "/api/v1/units/haiyan", map[string]any{"name": "x", "kind": "county"})
	p := w.must(http.StatusUnprocessableEntity, asAdmin, http.MethodPut, "/api/v1/units/bad%20code", map[string]any{"name": "x", "kind": "city"}).problem(t)
	if !slices.Equal(fieldNames(p), []string{"code", "kind"}) {
		t.Fatalf("fields %v", fieldNames(p))
	}
	// A founding date: a real date, not in the future; shown on the unit.
	before = w.head()
	for _, bad := range []string{"2024-02-30", "2099-01-01", "1/3/2024"} {
		p := w.must(http.StatusUnprocessableEntity, asAdmin, http.MethodPut, "/api/v1/units/jiashan",
			map[string]any{"name": "嘉善县", "kind": "county", "established_on": bad}).problem(t)
		if !slices.Equal(fieldNames(p), []string{"established_on"}) || w.head() != before {
			t.Fatalf("established_on %q: fields %v, head %s → %s", bad, fieldNames(p), before, w.head())
		}
	}
	w.must(http.StatusCreated, asAdmin, http.MethodPut, "/api/v1/units/jiashan", map[string]any{"name": "嘉善县", "kind": "county", "established_on": "2024-07-01"})
	var units struct {
		Items []map[string]any `json:"items"`
	}
	w.get(asCentre, "/api/v1/units").into(t, &units)
	found := false
	for _, u := range units.Items {
		if u["code"] == "jiashan" {
			found = u["established_on"] == "2024-07-01"
		} else if _, ok := u["established_on"]; ok {
			t.Fatalf("unit %v shows a founding date it was not given", u)
		}
	}
	if !found {
		t.Fatalf("GET /units does not show jiashan established on 2024-07-01: %+v", units.Items)
	}

	// The policy: read it, change one rule, PUT it back (without version).
	var pol map[string]any
	got := w.get(asCentre, "/api/v1/policy")
	got.into(t, &pol)
	delete(pol, "version")
	pol["exclusivity_days"] = 45
	r = w.must(http.StatusCreated, asCentre, http.MethodPut, "/api/v1/policy", pol, "If-Match", got.Header().Get("ETag")).result(t)
	if r.ID != "1" || r.Version != 1 {
		t.Fatalf("adopted %+v", r)
	}
	before = w.head()
	if r := w.must(http.StatusOK, asCentre, http.MethodPut, "/api/v1/policy", pol).result(t); r.Version != 1 || w.head() != before {
		t.Fatalf("an identical policy recorded something: %+v", r)
	}
	pol["exclusivity_days"] = 60
	w.must(http.StatusPreconditionFailed, asCentre, http.MethodPut, "/api/v1/policy", pol, "If-Match", `"0"`)
	if w.head() != before {
		t.Fatal("a stale If-Match appended")
	}
	delete(pol, "ranking_weights")
	delete(pol, "stale_days")
	p = w.must(http.StatusUnprocessableEntity, asCentre, http.MethodPut, "/api/v1/policy", pol).problem(t)
	if !slices.Equal(fieldNames(p), []string{"stale_days", "ranking_weights"}) {
		t.Fatalf("missing rules: %v", p.Errors)
	}
	w.must(http.StatusForbidden, asAdmin, http.MethodPut, "/api/v1/policy", pol)
	w.sync()
	var cur map[string]any
	w.get(asLeader, "/api/v1/policy").into(t, &cur)
	if cur["version"] != float64(1) || cur["exclusivity_days"] != float64(45) {
		t.Fatalf("policy now %v", cur)
	}
	w.get(asLeader, "/api/v1/policy?version=0").into(t, &cur)
	if cur["exclusivity_days"] != float64(30) {
		t.Fatalf("policy 0 %v", cur)
	}
}

func TestSupervisionRoutes(t *testing.T) {
	w := newWorld(t)
	pid := w.report(asStaff, reportOf(unitNanhu, "半导体封测基地", "长电科技"))
	order := map[string]any{"project_id": pid, "matter": "推进签约", "target": "6月底前签约", "lead_leader": "张副市长",
		"responsible_unit": unitNanhu, "requirements": "每周报送进展", "deadline": "2025-01-31"}
	oid := w.must(http.StatusCreated, asCentre, http.MethodPost, "/api/v1/supervision/orders", order).result(t).ID

	w.must(http.StatusForbidden, asStaff, http.MethodPost, "/api/v1/supervision/orders", order)
	progress := map[string]any{"occurred_at": rfc(2025, 1, 15, 10), "summary": "已完成尽调"} // the moment of issue
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/supervision/orders/"+oid+"/progress", progress)
	w.must(http.StatusForbidden, asOtherStaff, http.MethodPost, "/api/v1/supervision/orders/"+oid+"/progress", progress)
	w.must(http.StatusNotFound, asCentre, http.MethodPost, "/api/v1/supervision/orders/"+uuidFor(7)+"/progress", progress)

	var orders List[Order]
	w.get(asLeader, "/api/v1/supervision/orders?status=open").into(t, &orders)
	if len(orders.Items) != 1 || orders.Items[0].ID != oid || len(orders.Items[0].Progress) != 1 || orders.Items[0].Result != nil {
		t.Fatalf("open orders %+v", orders)
	}
	w.clock.Set(time.Date(2025, 2, 3, 10, 0, 0, 0, cst))
	var alerts List[Alert]
	w.get(asLeader, "/api/v1/supervision/alerts?kind=order_overdue").into(t, &alerts)
	if len(alerts.Items) != 1 || alerts.Items[0].OrderID != oid {
		t.Fatalf("overdue alerts %+v", alerts)
	}
	w.get(asLeader, "/api/v1/supervision/orders?status=overdue&unit=nanhu").into(t, &orders)
	if len(orders.Items) != 1 || orders.Items[0].Status != "overdue" {
		t.Fatalf("overdue orders %+v", orders)
	}
	closure := map[string]any{"occurred_at": rfc(2025, 2, 3, 9), "result": "已签约"}
	w.must(http.StatusForbidden, asStaff, http.MethodPost, "/api/v1/supervision/orders/"+oid+"/closure", closure)
	w.must(http.StatusOK, asCentre, http.MethodPost, "/api/v1/supervision/orders/"+oid+"/closure", closure)
	w.must(http.StatusConflict, asCentre, http.MethodPost, "/api/v1/supervision/orders/"+oid+"/closure", closure)
	w.get(asLeader, "/api/v1/supervision/orders?status=closed").into(t, &orders)
	if len(orders.Items) != 1 || orders.Items[0].Result == nil || *orders.Items[0].Result != "已签约" {
		t.Fatalf("closed orders %+v", orders)
	}
	// An order about a project that does not exist names project_id.
	order["project_id"], order["deadline"] = uuidFor(9), "2025-03-31"
	if p := w.must(http.StatusUnprocessableEntity, asCentre, http.MethodPost, "/api/v1/supervision/orders", order).problem(t); fieldNames(p)[0] != "project_id" {
		t.Fatalf("%+v", p.Errors)
	}
	var rates Rates
	w.get(asLeader, "/api/v1/supervision/rates").into(t, &rates)
	if rates.Year != 2025 || len(rates.Items) != 3 {
		t.Fatalf("rates %+v", rates)
	}
}

// uuidFor is a well-formed id that names nothing.
func uuidFor(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// terminated reports a project for nanhu with full due process and ends it
// for a market change, returning its id.
func (w *world) terminated(name string) string {
	w.t.Helper()
	pid := w.report(asStaff, reportOf(unitNanhu, name, name+"有限公司"))
	for _, k := range []string{"feasibility_study", "risk_assessment", "collective_decision"} {
		w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/due-process", validDueProcess(k))
	}
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/termination", map[string]any{
		"occurred_at": rfc(2024, 9, 1, 10), "kind": "negotiation_ended", "cause": "market_change", "explanation": "市场变化，投资方终止洽谈"})
	return pid
}

func TestToleranceRoutesAndTheReadLog(t *testing.T) {
	w := newWorld(t)
	pid := w.terminated("光伏组件项目")
	req := map[string]any{"project_id": pid, "grounds": "市场变化导致洽谈终止，已履行科学论证、风险评估、集体决策"}
	w.must(http.StatusForbidden, asOtherStaff, http.MethodPost, "/api/v1/tolerance/cases", req)
	cid := w.must(http.StatusCreated, asStaff, http.MethodPost, "/api/v1/tolerance/cases", req).result(t).ID
	w.must(http.StatusNotFound, asCentre, http.MethodPost, "/api/v1/tolerance/cases", map[string]any{"project_id": uuidFor(3), "grounds": "x"})

	var c ToleranceCase
	got := w.get(asDiscipline, "/api/v1/tolerance/cases/"+cid)
	got.into(t, &c)
	if c.ProjectID != pid || c.Status != "open" || len(c.Evaluation.Checks) != 4 || got.Header().Get("ETag") != `"1"` {
		t.Fatalf("case %+v", c)
	}
	var cases List[ToleranceCase]
	w.get(asLeader, "/api/v1/tolerance/cases?status=open").into(t, &cases)
	if len(cases.Items) != 1 {
		t.Fatalf("cases %+v", cases)
	}
	decision := map[string]any{"decision": "exempt", "rationale": "符合容错情形"}
	w.must(http.StatusForbidden, asCentre, http.MethodPost, "/api/v1/tolerance/cases/"+cid+"/decision", decision)
	w.must(http.StatusOK, asDiscipline, http.MethodPost, "/api/v1/tolerance/cases/"+cid+"/decision", decision, "If-Match", `"1"`)
	w.must(http.StatusConflict, asDiscipline, http.MethodPost, "/api/v1/tolerance/cases/"+cid+"/decision", decision)
	w.get(asDiscipline, "/api/v1/tolerance/cases/"+cid).into(t, &c)
	if c.Status != "decided" || c.Decision == nil || c.Decision.Decision != "exempt" || c.Decision.By == "" {
		t.Fatalf("decided case %+v", c)
	}
	w.get(asAuditor, "/api/v1/projects/"+pid+"/history")

	// Every read above is in the read-access log, newest first.
	var reads List[ReadAccess]
	w.get(asAuditor, "/api/v1/audit/reads").into(t, &reads)
	var seen []string
	for _, r := range reads.Items {
		seen = append(seen, r.Actor.Role+":"+r.Resource)
	}
	want := []string{"auditor:project_history", "discipline:tolerance_case", "leader:tolerance_case_list", "discipline:tolerance_case"}
	if !slices.Equal(seen, want) {
		t.Fatalf("read log %v, want %v", seen, want)
	}
	if reads.Items[2].ID != "status=open" || reads.Items[0].ID != pid || reads.Items[0].RequestID == "" {
		t.Fatalf("read log items %+v", reads.Items)
	}
	w.get(asAuditor, "/api/v1/audit/reads?resource=tolerance_case&id="+cid).into(t, &reads)
	if len(reads.Items) != 2 {
		t.Fatalf("filtered read log %+v", reads.Items)
	}
	// Paging, one at a time, walks the same entries.
	var paged []string
	cursor := ""
	for i := 0; i < 10; i++ {
		var page List[ReadAccess]
		target := "/api/v1/audit/reads?limit=1"
		if cursor != "" {
			target += "&cursor=" + cursor
		}
		w.must(http.StatusOK, asAuditor, http.MethodGet, target, nil).into(t, &page)
		for _, r := range page.Items {
			paged = append(paged, r.Actor.Role+":"+r.Resource)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if !slices.Equal(paged, seen) {
		t.Fatalf("paged read log %v", paged)
	}
	w.must(http.StatusForbidden, asLeader, http.MethodGet, "/api/v1/audit/reads", nil)
}

// TestAReadThatCannotBeRecordedFails: the read-access log is not optional.
func TestAReadThatCannotBeRecordedFails(t *testing.T) {
	w := newWorld(t)
	pid := w.terminated("风电项目")
	cid := w.must(http.StatusCreated, asCentre, http.MethodPost, "/api/v1/tolerance/cases", map[string]any{"project_id": pid, "grounds": "市场变化"}).result(t).ID
	w.sync()
	w.app.RecordRead = commands.HandlerFunc[commands.RecordRead](func(context.Context, commands.RecordRead) (commands.Result, error) {
		return commands.Result{}, errors.New("disk full")
	})
	for _, target := range []string{"/api/v1/projects/" + pid + "/history", "/api/v1/tolerance/cases", "/api/v1/tolerance/cases/" + cid} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer "+w.token(asAuditor))
		rec := httptest.NewRecorder()
		w.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "disk") {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		if err := w.spec.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(w.logs.String(), "disk full") {
		t.Fatal("the failure is not in the log")
	}
}

func TestAssessmentRoutes(t *testing.T) {
	w := newWorld(t)
	targets := map[string]any{"indicators": map[string]any{"signed_1b": 2, "signed_100m": 3, "contract_investment": 3_000_000_000}}
	w.must(http.StatusCreated, asCentre, http.MethodPut, "/api/v1/targets/2024/nanhu", targets)
	w.must(http.StatusOK, asCentre, http.MethodPut, "/api/v1/targets/2024/nanhu", targets)
	w.must(http.StatusCreated, asCentre, http.MethodPut, "/api/v1/targets/2024/xiuzhou", targets)
	if p := w.must(http.StatusUnprocessableEntity, asCentre, http.MethodPut, "/api/v1/targets/2024/haining", targets).problem(t); fieldNames(p)[0] != "unit" {
		t.Fatalf("unknown unit: %+v", p)
	}
	w.must(http.StatusNotFound, asCentre, http.MethodPut, "/api/v1/targets/1999/nanhu", targets)
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代"))
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/signing", validSigning)

	w.must(http.StatusOK, asCentre, http.MethodPost, "/api/v1/assessments/2024/bonuses", map[string]any{"unit": "nanhu", "points": 3, "reason": "重大项目落地"})
	w.must(http.StatusOK, asCentre, http.MethodPost, "/api/v1/assessments/2024/bonuses", map[string]any{"unit": "xiuzhou", "points": -2.5, "reason": "弄虚作假"})
	var a Assessment
	w.get(asLeader, "/api/v1/assessments/2024?kind=county").into(t, &a)
	if a.Published || len(a.Items) != 2 || a.Kind == nil || *a.Kind != "county" {
		t.Fatalf("assessment %+v", a)
	}
	byUnit := map[string]AssessmentItem{}
	for _, it := range a.Items {
		byUnit[string(it.Unit)] = it
	}
	if byUnit["nanhu"].Bonus != 3 || byUnit["xiuzhou"].Deductions != 2.5 || byUnit["nanhu"].Completion["signed_1b"] != 0.5 {
		t.Fatalf("items %+v", a.Items)
	}
	w.must(http.StatusOK, asCentre, http.MethodPost, "/api/v1/assessments/2024/publication", nil)
	w.must(http.StatusConflict, asCentre, http.MethodPost, "/api/v1/assessments/2024/publication", "{}")
	w.must(http.StatusConflict, asCentre, http.MethodPost, "/api/v1/assessments/2024/bonuses", map[string]any{"unit": "nanhu", "points": 1, "reason": "迟到的加分"})
	w.must(http.StatusUnprocessableEntity, asCentre, http.MethodPost, "/api/v1/assessments/2025/publication", `{"year":2025}`)
	w.get(asLeader, "/api/v1/assessments/2024").into(t, &a)
	if !a.Published || a.PublishedAt == nil || a.Current == nil {
		t.Fatalf("published %+v", a)
	}
	// A correction of the published year is flagged, and both answers say so.
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/corrections",
		map[string]any{"field": "contract_investment", "value": cny(1_600_000_000), "reason": "合同金额录入错误"})
	var p Project
	w.get(asLeader, "/api/v1/projects/"+pid).into(t, &p)
	if len(p.Corrections) != 1 || p.Corrections[0].Field != "contract_investment" || p.Corrections[0].Reason != "合同金额录入错误" ||
		!p.Corrections[0].Flagged || !slices.Equal(p.Corrections[0].FlaggedYears, []int{2024}) {
		t.Fatalf("project corrections %+v", p.Corrections)
	}
	w.get(asLeader, "/api/v1/assessments/2024").into(t, &a)
	if len(a.Corrections) != 1 || a.Corrections[0].ProjectID != pid || a.Corrections[0].Reason != "合同金额录入错误" || len(a.Differences) == 0 {
		t.Fatalf("assessment corrections %+v, differences %+v", a.Corrections, a.Differences)
	}
	w.must(http.StatusNotFound, asLeader, http.MethodGet, "/api/v1/assessments/24", nil)
}

func TestAuditRoutes(t *testing.T) {
	w := newWorld(t)
	w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代"))
	var page List[eventstore.Event]
	w.get(asAuditor, "/api/v1/audit/events?limit=3").into(t, &page)
	if len(page.Items) != 3 || page.NextCursor == nil || *page.NextCursor != page.Items[2].Position.String() {
		t.Fatalf("events %+v", page)
	}
	var rest List[eventstore.Event]
	w.get(asAuditor, "/api/v1/audit/events?after="+*page.NextCursor).into(t, &rest)
	if len(rest.Items) != 2 || rest.NextCursor != nil || rest.Items[0].Position.Compare(page.Items[2].Position) <= 0 {
		t.Fatalf("rest %+v", rest)
	}
	var rep eventstore.Report
	w.get(asAuditor, "/api/v1/audit/verify").into(t, &rep)
	if !rep.OK || rep.EventsChecked != 5 {
		t.Fatalf("verify %+v", rep)
	}
	for _, a := range []who{asLeader, asCentre, asStaff, asDiscipline, asAdmin} {
		w.must(http.StatusForbidden, a, http.MethodGet, "/api/v1/audit/events", nil)
		w.must(http.StatusForbidden, a, http.MethodGet, "/api/v1/audit/verify", nil)
	}
	w.must(http.StatusUnprocessableEntity, asAuditor, http.MethodGet, "/api/v1/audit/events?after=x", nil)
}

// TestTimeTravel asks a project as known at, and as of, a past moment.
func TestTimeTravel(t *testing.T) {
	w := newWorld(t)
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代"))
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/negotiations", validNegotiation)
	w.clock.Set(worldStart.Add(48 * time.Hour))
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/signing", validSigning)
	var p Project
	w.get(asLeader, "/api/v1/projects/"+pid).into(t, &p)
	if p.Stage != "signed" {
		t.Fatalf("now %+v", p)
	}
	// As known a day after the start: the signing was recorded later.
	at := worldStart.Add(24 * time.Hour).Format(time.RFC3339)
	got := w.get(asLeader, "/api/v1/projects/"+pid+"?as_of="+url.QueryEscape(at))
	got.into(t, &p)
	if p.Stage != "negotiating" || p.AsOf == nil || p.AsOf.Basis != "recorded" || got.Header().Get("ETag") != `"2"` {
		t.Fatalf("as known at %s: %+v", at, p)
	}
	// As of June 2024 in business time, as the ledger knows it now.
	w.get(asLeader, "/api/v1/projects/"+pid+"?as_of=2024-06-01&basis=occurred").into(t, &p)
	if p.Stage != "negotiating" || p.AsOf.Basis != "occurred" {
		t.Fatalf("as of 2024-06-01: %+v", p)
	}
	w.get(asLeader, "/api/v1/projects/"+pid+"?as_of=2024-07-01&basis=occurred").into(t, &p)
	if p.Stage != "signed" {
		t.Fatalf("as of 2024-07-01: %+v", p)
	}
	w.must(http.StatusNotFound, asLeader, http.MethodGet, "/api/v1/projects/"+pid+"?as_of=2024-01-01&basis=occurred", nil)
	w.must(http.StatusUnprocessableEntity, asLeader, http.MethodGet, "/api/v1/projects/"+pid+"?basis=occurred", nil)
	var rk Ranking
	w.get(asLeader, "/api/v1/rankings?period=2024-Q2&kind=county&as_of="+url.QueryEscape(at)).into(t, &rk)
	if rk.AsOf == nil || rk.Items[0].Indicators["signed_1b"] != 0 {
		t.Fatalf("ranking as known then %+v", rk)
	}
}

// TestConsistencyHeaders: If-Match, Idempotency-Key, ETag, X-Position and
// min_position on real commands and reads.
func TestConsistencyHeaders(t *testing.T) {
	w := newWorld(t, worldOpts{cfg: func(c *Config) { c.MinPositionWait = 20 * time.Millisecond }})
	body := reportOf(unitNanhu, "新能源电池项目", "宁德时代")
	body["occurred_at"] = rfc(2025, 1, 10, 10) // recent: the report gains 首报首谈 rights
	first := w.must(http.StatusCreated, asStaff, http.MethodPost, "/api/v1/projects", body, "Idempotency-Key", "report-1")
	before := w.head()
	again := w.must(http.StatusCreated, asStaff, http.MethodPost, "/api/v1/projects", body, "Idempotency-Key", "report-1")
	if again.Body.String() != first.Body.String() || w.head() != before {
		t.Fatalf("a retried report appended: %s vs %s", again.Body, first.Body)
	}
	body["name"] = "另一个项目"
	if p := w.must(http.StatusUnprocessableEntity, asStaff, http.MethodPost, "/api/v1/projects", body, "Idempotency-Key", "report-1").problem(t); p.Code != CodeIdempotencyMismatch || w.head() != before {
		t.Fatalf("%+v", p)
	}
	r := first.result(t)
	if first.Header().Get("ETag") != `"1"` || first.Header().Get("X-Position") != r.Position.String() || r.ExclusiveUntil == nil {
		t.Fatalf("headers %v %+v", first.Header(), r)
	}
	// Read your own write.
	var p Project
	got := w.must(http.StatusOK, asLeader, http.MethodGet, "/api/v1/projects/"+r.ID+"?min_position="+r.Position.String(), nil)
	got.into(t, &p)
	if p.ID != r.ID || got.Header().Get("ETag") != `"1"` {
		t.Fatalf("%+v", p)
	}
	funds := "/api/v1/projects/" + r.ID + "/negotiations"
	talks := maps.Clone(validNegotiation)
	talks["occurred_at"] = rfc(2025, 1, 12, 10) // after the report
	w.must(http.StatusPreconditionFailed, asStaff, http.MethodPost, funds, talks, "If-Match", `"4"`)
	if w.head() != before {
		t.Fatal("a stale If-Match appended")
	}
	w.must(http.StatusOK, asStaff, http.MethodPost, funds, talks, "If-Match", `"1"`)
	w.must(http.StatusUnprocessableEntity, asStaff, http.MethodPost, funds, talks, "If-Match", `1`)
	w.must(http.StatusUnprocessableEntity, asLeader, http.MethodGet, "/api/v1/units?min_position=99999999", nil)
}

// laggingUnits is a unit lookup that knows no unit yet, as views that have
// not applied the registration would.
type laggingUnits struct{}

func (laggingUnits) UnitExists(string) bool { return false }

// TestCommandsDoNotTrustLaggingViews: a unit registered a moment ago is
// known to the commands (they read the store) even when Config.Units, a view,
// has not caught up.
func TestCommandsDoNotTrustLaggingViews(t *testing.T) {
	w := newWorld(t, worldOpts{cfg: func(c *Config) { c.Units = laggingUnits{} }})
	w.must(http.StatusCreated, asCentre, http.MethodPut, "/api/v1/units/haiyan", map[string]any{"name": "海盐县", "kind": "county"})
	w.must(http.StatusCreated, asCentre, http.MethodPost, "/api/v1/projects", reportOf("haiyan", "新能源电池项目", "宁德时代"))
}

// TestWrongMethodIs405: a route asked with a method it does not have is
// 405 with Allow (api.md), an unknown path 404; both are problems, and a
// caller without a token is still 401 first.
func TestWrongMethodIs405(t *testing.T) {
	w := newWorld(t)
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代"))
	// These operations are not in the spec, so the world's spec check of
	// every answer does not apply: send them straight to the handler.
	send := func(a who, method, target string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		if a.role != "" {
			req.Header.Set("Authorization", "Bearer "+w.tokenT(t, a))
		}
		rec := httptest.NewRecorder()
		w.srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		method, target, allow string
	}{
		{http.MethodDelete, "/api/v1/projects/" + pid, "GET"},
		{http.MethodPut, "/api/v1/projects", "GET, POST"},
		{http.MethodPatch, "/api/v1/units/nanhu", "PUT"},
		{http.MethodGet, "/api/v1/projects/" + pid + "/negotiations", "POST"},
		{http.MethodPost, "/api/v1/rankings", "GET"},
	} {
		rec := send(asCentre, tc.method, tc.target)
		if p := problemOf(t, rec); rec.Code != http.StatusMethodNotAllowed || p.Code != CodeMethodNotAllowed || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %+v, Allow %q; want 405, Allow %q", tc.method, tc.target, rec.Code, p, rec.Header().Get("Allow"), tc.allow)
		}
	}
	if rec := send(asCentre, http.MethodGet, "/api/v1/no/such/route"); rec.Code != http.StatusNotFound || problemOf(t, rec).Code != CodeNotFound {
		t.Errorf("unknown path: %d %s", rec.Code, rec.Body)
	}
	if rec := send(who{}, http.MethodDelete, "/api/v1/projects/"+pid); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401 first", rec.Code)
	}
}
