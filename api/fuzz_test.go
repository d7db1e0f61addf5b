package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzCommandBodies sends arbitrary bodies to every command route of a live
// server on the embedded store and asserts that a client's bytes never make
// a server fault (5xx) and that every answer is one the spec describes. The
// seed corpus is a valid body for each route, plus a few near misses.
//
//	go test -run '^$' -fuzz FuzzCommandBodies -fuzztime 60s ./api/
func FuzzCommandBodies(f *testing.F) {
	w := newWorld(f)
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代"))
	sid := w.report(asStaff, reportOf(unitNanhu, "半导体封测基地", "长电科技"))
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+sid+"/signing", validSigning)
	oid := w.must(http.StatusCreated, asCentre, http.MethodPost, "/api/v1/supervision/orders", map[string]any{
		"project_id": pid, "matter": "推进签约", "target": "签约", "lead_leader": "张副市长", "responsible_unit": unitNanhu,
		"requirements": "每周报送", "deadline": "2025-03-31"}).result(f).ID
	tid := w.terminated("光伏组件项目")
	cid := w.must(http.StatusCreated, asStaff, http.MethodPost, "/api/v1/tolerance/cases", map[string]any{
		"project_id": tid, "grounds": "市场变化"}).result(f).ID

	type target struct {
		method, path string
		as           who
		seed         any
	}
	project := func(fact string, id string, seed any) target {
		return target{http.MethodPost, "/api/v1/projects/" + id + "/" + fact, asStaff, seed}
	}
	targets := []target{
		{http.MethodPut, "/api/v1/units/haiyan", asAdmin, map[string]any{"name": "海盐县", "kind": "county"}},
		{http.MethodPut, "/api/v1/targets/2024/nanhu", asCentre, map[string]any{"indicators": map[string]any{"signed_1b": 3}}},
		{http.MethodPost, "/api/v1/projects", asStaff, reportOf(unitNanhu, "光伏组件项目", "隆基绿能")},
		project("negotiations", pid, validNegotiation),
		project("due-process", pid, validDueProcess("feasibility_study")),
		project("signing-filings", pid, validFiling),
		project("signing", pid, validSigning),
		project("amendments", sid, validAmendment),
		{http.MethodPost, "/api/v1/projects/" + pid + "/transfers", asCentre, map[string]any{"to_unit": unitXiuzhou, "reason": "流转",
			"occurred_at": rfc(2025, 1, 3, 10)}},
		project("registration", sid, validRegistration),
		project("construction-start", sid, validConstruction),
		project("funds", sid, validFunds),
		project("production", sid, validProduction),
		project("termination", pid, map[string]any{"occurred_at": rfc(2025, 1, 2, 10), "kind": "withdrawn", "cause": "other", "explanation": "撤回"}),
		project("corrections", sid, map[string]any{"field": "planned_investment", "value": cny(1_600_000_000), "reason": "更正"}),
		{http.MethodPost, "/api/v1/supervision/orders", asCentre, map[string]any{"matter": "m", "target": "t", "lead_leader": "l",
			"responsible_unit": unitNanhu, "requirements": "r", "deadline": "2025-03-31"}},
		{http.MethodPost, "/api/v1/supervision/orders/" + oid + "/progress", asStaff, map[string]any{"occurred_at": rfc(2025, 1, 15, 9), "summary": "进展"}},
		{http.MethodPost, "/api/v1/supervision/orders/" + oid + "/closure", asCentre, map[string]any{"occurred_at": rfc(2025, 1, 15, 9), "result": "办结"}},
		{http.MethodPost, "/api/v1/assessments/2024/bonuses", asCentre, map[string]any{"unit": unitNanhu, "points": 2, "reason": "加分"}},
		{http.MethodPost, "/api/v1/assessments/2023/publication", asCentre, map[string]any{}},
		{http.MethodPost, "/api/v1/tolerance/cases", asStaff, map[string]any{"project_id": tid, "grounds": "市场变化"}},
		{http.MethodPost, "/api/v1/tolerance/cases/" + cid + "/decision", asDiscipline, map[string]any{"decision": "exempt", "rationale": "符合"}},
		{http.MethodPut, "/api/v1/policy", asCentre, nil},
	}
	var pol map[string]any
	w.get(asCentre, "/api/v1/policy").into(f, &pol)
	delete(pol, "version")
	pol["stale_days"] = 20
	targets[len(targets)-1].seed = pol

	for i, tg := range targets {
		b, err := json.Marshal(tg.seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
		// Near misses: a fraction, a type change, an unknown member, a cut.
		s := string(b)
		f.Add(uint8(i), []byte(strings.Replace(s, "0,", ".5,", 1)))
		f.Add(uint8(i), []byte(strings.Replace(s, `"`, `1`, 3)))
		f.Add(uint8(i), []byte(strings.TrimSuffix(s, "}")+`,"extra":{"a":[null,true,-0,1e999]}}`))
		f.Add(uint8(i), b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		tg := targets[int(route)%len(targets)]
		ans := w.callT(t, tg.as, tg.method, tg.path, body)
		if ans.Code >= 500 {
			t.Fatalf("%s %s with %q → %d: %s", tg.method, tg.path, body, ans.Code, ans.Body)
		}
		if ans.Code >= 400 {
			if ct := ans.Header().Get("Content-Type"); ct != MediaTypeProblem {
				t.Fatalf("%s %s → %d as %q", tg.method, tg.path, ans.Code, ct)
			}
		}
	})
}
