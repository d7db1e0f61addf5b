package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// TestBadInput sends each class of client mistake of the issue to the real
// server and checks the status, the code, the field named, and that nothing
// was appended to the store.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目", "宁德时代"))
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/negotiations", validNegotiation)
	project := "/api/v1/projects/" + pid

	// report returns a valid report with one change made by edit.
	report := func(edit func(m map[string]any)) string {
		m := reportOf(unitNanhu, "光伏组件项目", "隆基绿能")
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	jsonOf := func(m map[string]any, edit func(m map[string]any)) string {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		edit(c)
		b, _ := json.Marshal(c)
		return string(b)
	}
	big := `{"name":"` + strings.Repeat("长", int(DefaultBodyLimit/3+10)) + `"}`

	for _, tc := range []struct {
		name          string
		who           who
		method, path  string
		body          string
		headers       []string
		status        int
		code          string
		field, rule   string
		noContentType bool
	}{
		// Strict decoding.
		{name: "unknown field", path: "/api/v1/projects", body: report(func(m map[string]any) {
			m["investor"].(map[string]any)["phone"] = "0573-1234"
		}), status: 422, code: CodeValidationFailed, field: "investor.phone", rule: "unknown_field"},
		{name: "misspelt field", path: project + "/funds", body: `{"occurred_at":"2024-08-15T10:00:00+08:00","Amount":{"amount":1,"currency":"CNY"},"source":"domestic"}`,
			status: 422, field: "Amount", rule: "unknown_field"},
		{name: "wrong type", path: "/api/v1/projects", body: report(func(m map[string]any) {
			m["planned_investment"] = map[string]any{"amount": "1500000000", "currency": "CNY"}
		}), status: 422, field: "planned_investment.amount", rule: "type"},
		{name: "array for object", path: project + "/signing", body: jsonOf(validSigning, func(m map[string]any) { m["commitments"] = []int{1} }),
			status: 422, field: "commitments", rule: "type"},
		{name: "float for integer", path: "/api/v1/projects", body: report(func(m map[string]any) {
			m["planned_investment"] = map[string]any{"amount": 1.5, "currency": "CNY"}
		}), status: 422, field: "planned_investment.amount", rule: "integer"},
		{name: "exponent for integer", who: asCentre, method: http.MethodPut, path: "/api/v1/targets/2024/nanhu", body: `{"indicators":{"signed_1b":1e2}}`,
			status: 422, field: "indicators.signed_1b", rule: "integer"},
		{name: "fraction of a target", who: asCentre, method: http.MethodPut, path: "/api/v1/targets/2024/nanhu", body: `{"indicators":{"signed_1b":2.5}}`,
			status: 422, field: "indicators.signed_1b", rule: "integer"},
		{name: "duplicate member", path: project + "/production", body: `{"occurred_at":"2024-12-01T09:00:00+08:00","occurred_at":"2024-12-02T09:00:00+08:00"}`,
			status: 422, field: "occurred_at", rule: "duplicate"},
		{name: "not an object", path: project + "/production", body: `["2024-12-01"]`, status: 422, field: "", rule: "type"},

		// Values.
		{name: "amount over the maximum", path: "/api/v1/projects", body: report(func(m map[string]any) { m["planned_investment"] = cny(10_000_000_000_000_000) }),
			status: 422, field: "planned_investment.amount", rule: "range"},
		{name: "amount beyond int64", path: project + "/funds", body: `{"occurred_at":"2024-08-15T10:00:00+08:00","amount":{"amount":99999999999999999999,"currency":"CNY"},"source":"domestic"}`,
			status: 422, field: "amount.amount", rule: "range"},
		{name: "negative amount", path: "/api/v1/projects", body: report(func(m map[string]any) { m["planned_investment"] = cny(-5) }),
			status: 422, field: "planned_investment.amount", rule: "range"},
		{name: "zero funds", path: project + "/funds", body: jsonOf(validFunds, func(m map[string]any) { m["amount"] = cny(0) }),
			status: 422, field: "amount.amount", rule: "range"},
		{name: "impossible date", path: project + "/signing-filings", body: jsonOf(validFiling, func(m map[string]any) { m["planned_date"] = "2023-02-29" }),
			status: 422, field: "planned_date", rule: "format"},
		{name: "impossible committed date", path: project + "/signing", body: jsonOf(validSigning, func(m map[string]any) {
			m["commitments"] = map[string]any{"register_by": "2024-13-01"}
		}), status: 422, field: "commitments.register_by", rule: "format"},
		{name: "date without a zone", path: project + "/negotiations", body: jsonOf(validNegotiation, func(m map[string]any) { m["occurred_at"] = "2024-05-10 15:00" }),
			status: 422, field: "occurred_at", rule: "format"},
		{name: "future occurred_at", path: project + "/negotiations", body: jsonOf(validNegotiation, func(m map[string]any) { m["occurred_at"] = rfc(2030, 1, 1, 9) }),
			status: 422, field: "occurred_at", rule: "future"},
		{name: "unknown enum", path: project + "/negotiations", body: jsonOf(validNegotiation, func(m map[string]any) { m["leader_level"] = "mayor" }),
			status: 422, field: "leader_level", rule: "unknown"},
		{name: "unknown currency", path: "/api/v1/projects", body: report(func(m map[string]any) { m["planned_investment"] = map[string]any{"amount": 1, "currency": "EUR"} }),
			status: 422, field: "planned_investment.currency", rule: "unknown"},
		{name: "unknown category", path: "/api/v1/projects", body: report(func(m map[string]any) {
			m["investor"].(map[string]any)["categories"] = []string{"china_500", "fortune_500"}
		}), status: 422, field: "investor.categories[1]", rule: "unknown"},
		{name: "missing required", path: "/api/v1/projects", body: report(func(m map[string]any) { delete(m, "name") }),
			status: 422, field: "name", rule: "required"},
		{name: "blank required", path: project + "/termination", body: `{"occurred_at":"2024-09-01T10:00:00+08:00","kind":"withdrawn","cause":"other","explanation":"   "}`,
			status: 422, field: "explanation", rule: "required"},
		{name: "bad check character", path: "/api/v1/projects", body: report(func(m map[string]any) {
			m["investor"].(map[string]any)["uscc"] = "91330000712560001H"
		}), status: 422, field: "investor.uscc", rule: "format"},
		{name: "unknown unit in a report", path: "/api/v1/projects", who: asCentre, body: report(func(m map[string]any) { m["unit"] = "haining" }),
			status: 422, field: "unit", rule: "unknown_unit"},
		{name: "unknown unit to transfer to", who: asCentre, path: project + "/transfers", body: `{"to_unit":"haining","reason":"流转","occurred_at":"2024-06-01T10:00:00+08:00"}`,
			status: 422, field: "to_unit", rule: "unknown_unit"},
		{name: "unknown responsible unit", who: asCentre, path: "/api/v1/supervision/orders", body: `{"matter":"m","target":"t","lead_leader":"l","responsible_unit":"haining","requirements":"r","deadline":"2025-03-01"}`,
			status: 422, field: "responsible_unit", rule: "unknown_unit"},
		{name: "unknown unit for a bonus", who: asCentre, path: "/api/v1/assessments/2024/bonuses", body: `{"unit":"haining","points":2,"reason":"r"}`,
			status: 422, field: "unit", rule: "unknown_unit"},
		{name: "malformed unit code", who: asCentre, path: "/api/v1/assessments/2024/bonuses", body: `{"unit":"南湖","points":2,"reason":"r"}`,
			status: 422, field: "unit", rule: "format"},

		// Headers and query.
		{name: "malformed If-Match", path: project + "/negotiations", body: jsonOf(validNegotiation, func(map[string]any) {}),
			headers: []string{"If-Match", "2"}, status: 422, field: "If-Match", rule: "format"},
		{name: "unknown query parameter", path: project + "/negotiations?force=1", body: jsonOf(validNegotiation, func(map[string]any) {}),
			status: 422, field: "force", rule: "unknown_parameter"},

		// 400, 413, 415.
		{name: "malformed JSON", path: project + "/negotiations", body: `{"occurred_at":`, status: 400, code: CodeMalformedJSON},
		{name: "trailing data", path: project + "/negotiations", body: `{} {}`, status: 400, code: CodeMalformedJSON},
		{name: "empty body", path: project + "/negotiations", body: "", status: 400, code: CodeMalformedJSON},
		{name: "oversized body", path: "/api/v1/projects", body: big, status: 413, code: CodeBodyTooLarge},
		{name: "not JSON", path: project + "/negotiations", body: `{}`, noContentType: true, status: 415, code: CodeUnsupportedMediaType},

		// 404.
		{name: "id that is not a UUID", path: "/api/v1/projects/12345/negotiations", body: jsonOf(validNegotiation, func(map[string]any) {}), status: 404, code: CodeNotFound},
		{name: "unknown project", path: "/api/v1/projects/" + uuidFor(1) + "/negotiations", body: jsonOf(validNegotiation, func(map[string]any) {}), status: 404, code: CodeNotFound},
		{name: "unknown order", who: asCentre, path: "/api/v1/supervision/orders/" + uuidFor(2) + "/closure", body: `{"occurred_at":"2025-01-01T10:00:00+08:00","result":"done"}`, status: 404, code: CodeNotFound},
		{name: "unknown case", who: asDiscipline, path: "/api/v1/tolerance/cases/" + uuidFor(3) + "/decision", body: `{"decision":"exempt","rationale":"r"}`, status: 404, code: CodeNotFound},
		{name: "year out of range", who: asCentre, path: "/api/v1/assessments/1999/bonuses", body: `{"unit":"nanhu","points":2,"reason":"r"}`, status: 404, code: CodeNotFound},

		// 409 and 412.
		{name: "registration before signing", path: project + "/registration", body: jsonOf(validRegistration, func(map[string]any) {}), status: 409, code: CodeInvalidTransition},
		{name: "production before signing", path: project + "/production", body: jsonOf(validProduction, func(map[string]any) {}), status: 409, code: CodeInvalidTransition},
		{name: "stale If-Match", path: project + "/due-process", body: jsonOf(validDueProcess("risk_assessment"), func(map[string]any) {}),
			headers: []string{"If-Match", `"1"`}, status: 412, code: CodePreconditionFailed},
		{name: "publishing a year not over", who: asCentre, path: "/api/v1/assessments/2025/publication", status: 422, code: CodeValidationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.who == (who{}) {
				tc.who = asStaff
			}
			if tc.method == "" {
				tc.method = http.MethodPost
			}
			before := w.head()
			headers := tc.headers
			if tc.noContentType {
				headers = append(headers, "Content-Type", "text/plain")
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			ans := w.call(tc.who, tc.method, tc.path, body, headers...)
			if ans.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", ans.Code, tc.status, ans.Body)
			}
			p := ans.problem(t)
			if tc.code != "" && p.Code != tc.code {
				t.Fatalf("code %s, want %s", p.Code, tc.code)
			}
			if tc.status == 422 && tc.code == "" {
				found := false
				for _, f := range p.Errors {
					found = found || f.Field == tc.field && (tc.rule == "" || f.Rule == tc.rule)
				}
				if !found {
					t.Fatalf("no error for %q (%s): %+v", tc.field, tc.rule, p.Errors)
				}
			}
			if after := w.head(); after != before {
				t.Fatalf("a rejected command appended: head %s → %s", before, after)
			}
		})
	}
}

// TestExclusivityConflict: 首报首谈. A report of an investor and chain another
// unit holds first-negotiation rights on is 409 naming the holder and the end
// of the window, and — the one deliberate exception to "a rejected command
// appends nothing" — exactly one ReportRejected is appended to the claim
// stream for the centre to see.
func TestExclusivityConflict(t *testing.T) {
	w := newWorld(t)
	first := reportOf(unitNanhu, "新能源电池项目", "宁德时代新能源科技股份有限公司")
	first["investor"].(map[string]any)["uscc"] = "91330000712560001G"
	first["occurred_at"] = rfc(2025, 1, 10, 10)
	r := w.must(http.StatusCreated, asStaff, http.MethodPost, "/api/v1/projects", first).result(t)
	if r.ExclusiveUntil == nil || !r.ExclusiveUntil.Equal(time.Date(2025, 2, 9, 10, 0, 0, 0, cst)) {
		t.Fatalf("exclusive until %v", r.ExclusiveUntil)
	}
	rival := reportOf(unitXiuzhou, "动力电池基地", "宁德时代")
	rival["investor"].(map[string]any)["uscc"] = "91330000712560001G"
	rival["occurred_at"] = rfc(2025, 1, 12, 10)
	before := w.head()
	p := w.must(http.StatusConflict, asOtherStaff, http.MethodPost, "/api/v1/projects", rival).problem(t)
	if p.Code != CodeExclusivityConflict || p.Extensions["holder_unit"] != unitNanhu || p.Extensions["holder_project"] != r.ID {
		t.Fatalf("problem %+v", p)
	}
	if until, _ := time.Parse(time.RFC3339, p.Extensions["exclusive_until"].(string)); !until.Equal(*r.ExclusiveUntil) {
		t.Fatalf("exclusive_until %v", p.Extensions["exclusive_until"])
	}
	evs, err := w.store.ReadAll(w.ctx(), before, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != domain.TypeReportRejected || !strings.HasPrefix(evs[0].Stream, domain.CategoryExclusivity+"-") ||
		evs[0].Actor.Unit != unitXiuzhou {
		t.Fatalf("appended %+v", evs)
	}
	// The centre sees the rejected claim as an alert.
	var alerts List[Alert]
	w.get(asCentre, "/api/v1/supervision/alerts?kind=exclusivity_conflict").into(t, &alerts)
	if len(alerts.Items) != 1 || alerts.Items[0].Evidence == nil || *alerts.Items[0].Evidence != evs[0].Position {
		t.Fatalf("alerts %+v", alerts)
	}
}

// TestEveryCommandRefusesBadBodies sends every command route the same
// classes of broken request, on top of a body that is otherwise valid, and
// checks the answer and that nothing was appended.
func TestEveryCommandRefusesBadBodies(t *testing.T) {
	w := newWorld(t)
	cells := matrixCells(t)
	n := 1000
	for _, r := range routes {
		if !r.isCommand() {
			continue
		}
		route := r.method + " " + specPath(BasePath+r.path)
		n++
		target, body := cells[route](w, n)
		as := asCentre
		if r.op == "DecideTolerance" {
			as = asDiscipline
		}
		valid, _ := json.Marshal(body)
		if body == nil {
			valid = []byte(`{}`)
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(valid, &fields)
		// A member whose value is a string, to give the wrong type.
		stringField := ""
		for k, v := range fields {
			if len(v) > 0 && v[0] == '"' && (stringField == "" || k < stringField) {
				stringField = k
			}
		}
		w.sync()
		type bad struct {
			name    string
			target  string
			body    string
			headers []string
			status  int
			field   string
		}
		cases := []bad{
			{"malformed JSON", target, `{"a":`, nil, 400, ""},
			{"unknown member", target, strings.TrimSuffix(string(valid), "}") + map[bool]string{true: "", false: ","}[string(valid) == "{}"] + `"zz_unknown":1}`, nil, 422, "zz_unknown"},
			{"oversized", target, `{"a":"` + strings.Repeat("x", int(DefaultBodyLimit)) + `"}`, nil, 413, ""},
			{"not JSON", target, string(valid), []string{"Content-Type", "text/plain"}, 415, ""},
			{"malformed If-Match", target, string(valid), []string{"If-Match", "v1"}, 422, "If-Match"},
			{"idempotency key of control characters", target, string(valid), []string{"Idempotency-Key", "a\tb"}, 422, "Idempotency-Key"},
		}
		if stringField != "" {
			fields[stringField] = json.RawMessage(`12`)
			b, _ := json.Marshal(fields)
			cases = append(cases, bad{"wrong type", target, string(b), nil, 422, stringField})
		}
		if strings.Contains(r.path, ":id") {
			parts := strings.Split(target, "/")
			for i, p := range parts {
				if len(p) == 36 {
					parts[i] = uuidFor(424242)
				}
			}
			cases = append(cases, bad{"unknown id", strings.Join(parts, "/"), string(valid), nil, 404, ""})
		}
		if strings.Contains(r.path, ":year") {
			cases = append(cases, bad{"year out of range", strings.Replace(target, "/2", "/3", 1), string(valid), nil, 404, ""})
		}
		for _, c := range cases {
			t.Run(route+"/"+c.name, func(t *testing.T) {
				before := w.head()
				ans := w.callT(t, as, r.method, c.target, c.body, c.headers...)
				if ans.Code != c.status {
					t.Fatalf("%d, want %d: %s", ans.Code, c.status, truncate(ans.Body.String(), 300))
				}
				p := ans.problem(t)
				if c.field != "" && !slices.Contains(fieldNames(p), c.field) {
					t.Fatalf("fields %v, want %s", fieldNames(p), c.field)
				}
				if w.head() != before {
					t.Fatal("a refused command appended")
				}
			})
		}
	}
}
