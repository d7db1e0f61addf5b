package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The authorisation matrix: every role × every route, the expected status.
//
// The expectations are written here from DOMAIN.md's role table and API.md's
// role column, independently of the code's tables (commands' permissions,
// the spec's x-roles), so a wrong table there fails this test:
//
//   - unit_staff (one unit): report projects for its unit; record any
//     lifecycle fact on projects its unit owns; request tolerance for them;
//     report progress on orders its unit is responsible for (API.md).
//   - centre: everything unit_staff may, for every unit; transfer projects;
//     issue and close orders; targets, policy, units; publish assessments;
//     award bonus points.
//   - leader: read. auditor: read, including raw events, chain verification
//     and the read-access log. discipline: read; decide tolerance cases.
//   - admin: manage units.
//
// Every cell runs against fresh state in which the request is valid, so an
// allowed role gets the command's success (200 or 201) and a refused one
// 403 — and a refused command appends nothing.

// matrixCaller is a column of the matrix.
type matrixCaller struct {
	label string
	who   who
}

var matrixCallers = []matrixCaller{
	{"unit_staff(own unit)", asStaff},
	{"unit_staff(other unit)", asOtherStaff},
	{"centre", asCentre},
	{"leader", asLeader},
	{"auditor", asAuditor},
	{"discipline", asDiscipline},
	{"admin", asAdmin},
}

const (
	ownStaff   = "unit_staff(own unit)"
	otherStaff = "unit_staff(other unit)"
)

// allowed lists who may call each route (DOMAIN.md, API.md).
var allowed = func() map[string][]string {
	everyone := []string{ownStaff, otherStaff, "centre", "leader", "auditor", "discipline", "admin"}
	projectFact := []string{ownStaff, "centre"}
	m := map[string][]string{
		"PUT /api/v1/units/{code}":                      {"admin", "centre"},
		"PUT /api/v1/policy":                            {"centre"},
		"PUT /api/v1/targets/{year}/{unit}":             {"centre"},
		"POST /api/v1/projects":                         projectFact,
		"POST /api/v1/projects/{id}/transfers":          {"centre"},
		"POST /api/v1/supervision/orders":               {"centre"},
		"POST /api/v1/supervision/orders/{id}/progress": {ownStaff, "centre"},
		"POST /api/v1/supervision/orders/{id}/closure":  {"centre"},
		"POST /api/v1/assessments/{year}/bonuses":       {"centre"},
		"POST /api/v1/assessments/{year}/publication":   {"centre"},
		"POST /api/v1/tolerance/cases":                  projectFact,
		"POST /api/v1/tolerance/cases/{id}/decision":    {"discipline"},
		"GET /api/v1/audit/events":                      {"auditor"},
		"GET /api/v1/audit/verify":                      {"auditor"},
		"GET /api/v1/audit/reads":                       {"auditor"},
	}
	for _, fact := range []string{"negotiations", "due-process", "signing-filings", "signing", "amendments",
		"registration", "construction-start", "funds", "production", "termination", "corrections"} {
		m["POST /api/v1/projects/{id}/"+fact] = projectFact
	}
	for _, r := range []string{"units", "policy", "projects", "projects/{id}", "projects/{id}/history", "lists/{list}",
		"rankings", "supervision/alerts", "supervision/orders", "supervision/rates", "assessments/{year}",
		"tolerance/cases", "tolerance/cases/{id}"} {
		m["GET /api/v1/"+r] = everyone
	}
	return m
}()

// matrixCell builds a fresh valid request for a route.
type matrixCell func(w *world, n int) (path string, body any)

func matrixCells(t *testing.T) map[string]matrixCell {
	centre := commands.Meta{Actor: eventstore.Actor{Subject: "matrix-setup", Role: RoleCentre, Unit: unitCentre}}
	// project reports a fresh nanhu project through the commands, signed
	// when asked.
	project := func(w *world, n int, signed bool) string {
		t.Helper()
		r, err := w.app.ReportProject.Handle(w.ctx(), commands.ReportProject{
			Name: fmt.Sprintf("矩阵项目%d", n), Unit: unitNanhu,
			Investor:          domain.Investor{Name: fmt.Sprintf("投资方%d", n)},
			IndustryChain:     "新能源",
			PlannedInvestment: domain.Yuan(200_000_000), OccurredAt: time.Date(2024, 5, 1, 9, 0, 0, 0, cst), Meta: centre})
		if err != nil {
			t.Fatal(err)
		}
		if signed {
			if _, err := w.app.SignContract.Handle(w.ctx(), commands.SignContract{ProjectID: r.ID,
				OccurredAt: time.Date(2024, 6, 1, 9, 0, 0, 0, cst), ContractInvestment: domain.Yuan(200_000_000),
				Agreement: domain.AgreementFormal, Meta: centre}); err != nil {
				t.Fatal(err)
			}
		}
		return r.ID
	}
	order := func(w *world) string {
		t.Helper()
		r, err := w.app.IssueSupervisionOrder.Handle(w.ctx(), commands.IssueSupervisionOrder{Matter: "推进", Target: "签约",
			LeadLeader: "张副市长", ResponsibleUnit: unitNanhu, Requirements: "每周报送", Deadline: domain.NewDate(2025, 3, 1), Meta: centre})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	terminated := func(w *world, n int) string {
		t.Helper()
		id := project(w, n, false)
		if _, err := w.app.TerminateProject.Handle(w.ctx(), commands.TerminateProject{ProjectID: id,
			OccurredAt: worldStart.AddDate(0, 0, -3), Kind: domain.TermNegotiationEnded, Cause: domain.CauseMarketChange,
			Explanation: "市场变化", Meta: centre}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	toleranceCase := func(w *world, n int) string {
		t.Helper()
		r, err := w.app.RequestTolerance.Handle(w.ctx(), commands.RequestTolerance{ProjectID: terminated(w, n), Grounds: "市场变化", Meta: centre})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	policy := func(n int) map[string]any {
		var m map[string]any
		pol := domain.DefaultPolicy()
		pol.ExclusivityDays = 30 + n
		b, _ := json.Marshal(pol)
		_ = json.Unmarshal(b, &m)
		delete(m, "version")
		return m
	}
	fact := func(name string, signed bool, body any) matrixCell {
		return func(w *world, n int) (string, any) {
			return "/api/v1/projects/" + project(w, n, signed) + "/" + name, body
		}
	}
	cells := map[string]matrixCell{
		"PUT /api/v1/units/{code}": func(_ *world, n int) (string, any) {
			return fmt.Sprintf("/api/v1/units/new%d", n), map[string]any{"name": "新单位", "kind": "park"}
		},
		"PUT /api/v1/policy": func(_ *world, n int) (string, any) { return "/api/v1/policy", policy(n) },
		"PUT /api/v1/targets/{year}/{unit}": func(_ *world, n int) (string, any) {
			return "/api/v1/targets/2024/nanhu", map[string]any{"indicators": map[string]any{"signed_1b": n + 1}}
		},
		"POST /api/v1/projects": func(_ *world, n int) (string, any) {
			return "/api/v1/projects", reportOf(unitNanhu, fmt.Sprintf("新报项目%d", n), fmt.Sprintf("新投资方%d", n))
		},
		"POST /api/v1/projects/{id}/negotiations":       fact("negotiations", false, validNegotiation),
		"POST /api/v1/projects/{id}/due-process":        fact("due-process", false, validDueProcess("risk_assessment")),
		"POST /api/v1/projects/{id}/signing-filings":    fact("signing-filings", false, validFiling),
		"POST /api/v1/projects/{id}/signing":            fact("signing", false, validSigning),
		"POST /api/v1/projects/{id}/amendments":         fact("amendments", true, validAmendment),
		"POST /api/v1/projects/{id}/registration":       fact("registration", true, validRegistration),
		"POST /api/v1/projects/{id}/construction-start": fact("construction-start", true, validConstruction),
		"POST /api/v1/projects/{id}/funds":              fact("funds", true, validFunds),
		"POST /api/v1/projects/{id}/production":         fact("production", true, validProduction),
		"POST /api/v1/projects/{id}/termination": fact("termination", false, map[string]any{"occurred_at": rfc(2025, 1, 2, 10),
			"kind": "withdrawn", "cause": "investor_decision", "explanation": "投资方撤回"}),
		"POST /api/v1/projects/{id}/corrections": fact("corrections", false, map[string]any{"field": "name", "value": "更正后的名称", "reason": "笔误"}),
		"POST /api/v1/projects/{id}/transfers": fact("transfers", false, map[string]any{"to_unit": unitXiuzhou, "reason": "项目流转",
			"occurred_at": rfc(2025, 1, 3, 10)}),
		"POST /api/v1/supervision/orders": func(_ *world, _ int) (string, any) {
			return "/api/v1/supervision/orders", map[string]any{"matter": "推进签约", "target": "签约", "lead_leader": "张副市长",
				"responsible_unit": unitNanhu, "requirements": "每周报送", "deadline": "2025-03-31"}
		},
		"POST /api/v1/supervision/orders/{id}/progress": func(w *world, _ int) (string, any) {
			return "/api/v1/supervision/orders/" + order(w) + "/progress", map[string]any{"occurred_at": rfc(2025, 1, 15, 10), "summary": "进展顺利"}
		},
		"POST /api/v1/supervision/orders/{id}/closure": func(w *world, _ int) (string, any) {
			return "/api/v1/supervision/orders/" + order(w) + "/closure", map[string]any{"occurred_at": rfc(2025, 1, 15, 10), "result": "已办结"}
		},
		"POST /api/v1/assessments/{year}/bonuses": func(_ *world, _ int) (string, any) {
			return "/api/v1/assessments/2024/bonuses", map[string]any{"unit": unitNanhu, "points": 1.5, "reason": "重大项目"}
		},
		"POST /api/v1/assessments/{year}/publication": func(_ *world, n int) (string, any) {
			return fmt.Sprintf("/api/v1/assessments/%d/publication", 2000+n%24), nil
		},
		"POST /api/v1/tolerance/cases": func(w *world, n int) (string, any) {
			return "/api/v1/tolerance/cases", map[string]any{"project_id": terminated(w, n), "grounds": "市场变化导致洽谈终止"}
		},
		"POST /api/v1/tolerance/cases/{id}/decision": func(w *world, n int) (string, any) {
			return "/api/v1/tolerance/cases/" + toleranceCase(w, n) + "/decision", map[string]any{"decision": "reduced", "rationale": "部分符合"}
		},
	}
	reads := map[string]func(w *world, n int) string{
		"GET /api/v1/units":                 func(*world, int) string { return "/api/v1/units" },
		"GET /api/v1/policy":                func(*world, int) string { return "/api/v1/policy" },
		"GET /api/v1/projects":              func(*world, int) string { return "/api/v1/projects?stage=reported" },
		"GET /api/v1/projects/{id}":         func(w *world, n int) string { return "/api/v1/projects/" + project(w, n, false) },
		"GET /api/v1/projects/{id}/history": func(w *world, n int) string { return "/api/v1/projects/" + project(w, n, false) + "/history" },
		"GET /api/v1/lists/{list}":          func(*world, int) string { return "/api/v1/lists/signed" },
		"GET /api/v1/rankings":              func(*world, int) string { return "/api/v1/rankings?period=2024-Q4&kind=county" },
		"GET /api/v1/supervision/alerts":    func(*world, int) string { return "/api/v1/supervision/alerts" },
		"GET /api/v1/supervision/orders":    func(*world, int) string { return "/api/v1/supervision/orders" },
		"GET /api/v1/supervision/rates":     func(*world, int) string { return "/api/v1/supervision/rates?year=2024" },
		"GET /api/v1/assessments/{year}":    func(*world, int) string { return "/api/v1/assessments/2024" },
		"GET /api/v1/tolerance/cases":       func(*world, int) string { return "/api/v1/tolerance/cases" },
		"GET /api/v1/tolerance/cases/{id}":  func(w *world, n int) string { return "/api/v1/tolerance/cases/" + toleranceCase(w, n) },
		"GET /api/v1/audit/events":          func(*world, int) string { return "/api/v1/audit/events?limit=5" },
		"GET /api/v1/audit/verify":          func(*world, int) string { return "/api/v1/audit/verify" },
		"GET /api/v1/audit/reads":           func(*world, int) string { return "/api/v1/audit/reads" },
	}
	for k, f := range reads {
		cells[k] = func(w *world, n int) (string, any) { return f(w, n), nil }
	}
	return cells
}

func TestAuthorisationMatrix(t *testing.T) {
	w := newWorld(t)
	cells := matrixCells(t)
	n := 0
	for _, route := range apiRoutes {
		method, path, _ := strings.Cut(route, " ")
		if !strings.HasPrefix(path, BasePath) {
			continue
		}
		build, ok := cells[route]
		if !ok {
			t.Fatalf("%s: no cell", route)
		}
		admitted, ok := allowed[route]
		if !ok {
			t.Fatalf("%s: no expectation", route)
		}
		for _, c := range matrixCallers {
			n++
			target, body := build(w, n)
			w.sync()
			want := http.StatusForbidden
			for _, a := range admitted {
				if a == c.label {
					want = http.StatusOK
				}
			}
			before := w.head()
			ans := w.call(c.who, method, target, body)
			got := ans.Code
			if got == http.StatusCreated {
				got = http.StatusOK // a command that created its resource succeeded
			}
			if got != want {
				t.Errorf("%-50s %-24s %d, want %d: %s", route, c.label, ans.Code, want, truncate(ans.Body.String(), 300))
				continue
			}
			if want == http.StatusForbidden {
				if p := ans.problem(t); p.Code != CodeForbidden {
					t.Errorf("%s %s: code %s", route, c.label, p.Code)
				}
				if after := w.head(); after != before {
					t.Errorf("%s %s: a refused command appended (%s → %s)", route, c.label, before, after)
				}
			}
		}
		// Without a token every route is 401.
		target, body := build(w, n)
		if ans := w.call(who{}, method, target, body); ans.Code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", route, ans.Code)
		}
	}
}
