package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// apiRoutes is API.md route for route (plus the read-access log of issue 5).
var apiRoutes = []string{
	"PUT /api/v1/units/{code}",
	"PUT /api/v1/policy",
	"PUT /api/v1/targets/{year}/{unit}",
	"POST /api/v1/projects",
	"POST /api/v1/projects/{id}/negotiations",
	"POST /api/v1/projects/{id}/due-process",
	"POST /api/v1/projects/{id}/signing-filings",
	"POST /api/v1/projects/{id}/signing",
	"POST /api/v1/projects/{id}/amendments",
	"POST /api/v1/projects/{id}/transfers",
	"POST /api/v1/projects/{id}/registration",
	"POST /api/v1/projects/{id}/construction-start",
	"POST /api/v1/projects/{id}/funds",
	"POST /api/v1/projects/{id}/production",
	"POST /api/v1/projects/{id}/termination",
	"POST /api/v1/projects/{id}/corrections",
	"POST /api/v1/supervision/orders",
	"POST /api/v1/supervision/orders/{id}/progress",
	"POST /api/v1/supervision/orders/{id}/closure",
	"POST /api/v1/assessments/{year}/bonuses",
	"POST /api/v1/assessments/{year}/publication",
	"POST /api/v1/tolerance/cases",
	"POST /api/v1/tolerance/cases/{id}/decision",
	"GET /api/v1/units",
	"GET /api/v1/policy",
	"GET /api/v1/projects",
	"GET /api/v1/projects/{id}",
	"GET /api/v1/projects/{id}/history",
	"GET /api/v1/lists/{list}",
	"GET /api/v1/rankings",
	"GET /api/v1/supervision/alerts",
	"GET /api/v1/supervision/orders",
	"GET /api/v1/supervision/rates",
	"GET /api/v1/assessments/{year}",
	"GET /api/v1/tolerance/cases",
	"GET /api/v1/tolerance/cases/{id}",
	"GET /api/v1/audit/events",
	"GET /api/v1/audit/verify",
	"GET /api/v1/audit/reads",
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /openapi.yaml",
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := EmbeddedSpec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[strings.ToUpper(method)+" "+path] = op
		}
	}
	return out
}

func TestSpecNamesEveryRouteOfAPIMD(t *testing.T) {
	var got []string
	for k := range operations(loadSpec(t)) {
		got = append(got, k)
	}
	want := slices.Clone(apiRoutes)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("spec routes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func hasParam(op *openapi3.Operation, in, name string) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == in && p.Value.Name == name {
			return true
		}
	}
	return false
}

// TestSpecConventions checks API.md's conventions on every operation.
func TestSpecConventions(t *testing.T) {
	for key, op := range operations(loadSpec(t)) {
		method, path, _ := strings.Cut(key, " ")
		if op.OperationID == "" {
			t.Errorf("%s: no operationId", key)
		}
		for _, r := range []string{"200", "201"} {
			if resp := op.Responses.Value(r); resp != nil {
				if resp.Value.Headers["X-Position"] == nil || resp.Value.Headers["X-Request-Id"] == nil {
					t.Errorf("%s %s: no X-Position/X-Request-Id header", key, r)
				}
			}
		}
		if !strings.HasPrefix(path, BasePath) {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s: operations endpoints need no token", key)
			}
			continue
		}
		roles, ok := op.Extensions["x-roles"].([]any)
		if !ok || len(roles) == 0 {
			t.Errorf("%s: no x-roles", key)
		}
		for _, r := range roles {
			if !slices.Contains(Roles(), r.(string)) {
				t.Errorf("%s: unknown role %v", key, r)
			}
		}
		for _, status := range []string{"401", "422", "500", "503"} {
			if op.Responses.Value(status) == nil {
				t.Errorf("%s: no %s answer", key, status)
			}
		}
		if len(roles) < len(Roles()) && op.Responses.Value("403") == nil {
			t.Errorf("%s: role-limited but no 403", key)
		}
		if strings.Contains(path, "{id}") && op.Responses.Value("404") == nil {
			t.Errorf("%s: no 404 for an unknown id", key)
		}
		if method == http.MethodGet {
			if !hasParam(op, "query", "min_position") {
				t.Errorf("%s: no min_position", key)
			}
			continue
		}
		if !hasParam(op, "header", "Idempotency-Key") {
			t.Errorf("%s: no Idempotency-Key", key)
		}
		creates := op.Responses.Value("201") != nil && op.Responses.Value("200") == nil
		if !creates && !hasParam(op, "header", "If-Match") {
			t.Errorf("%s: no If-Match", key)
		}
		if !creates && op.Responses.Value("412") == nil {
			t.Errorf("%s: no 412", key)
		}
		if op.Responses.Value("409") == nil {
			t.Errorf("%s: no 409", key)
		}
		if rb := op.RequestBody; rb != nil {
			schema := rb.Value.Content.Get("application/json").Schema.Value
			checkClosed(t, key, schema, map[*openapi3.Schema]bool{})
			for _, status := range []string{"400", "413", "415"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: has a body but no %s", key, status)
				}
			}
		}
	}
}

// checkClosed: every object of a request body forbids unknown members, as
// the strict decoder does.
func checkClosed(t *testing.T, key string, s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if s.Type.Is("object") {
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s: a request object allows unknown members", key)
		}
		for _, p := range s.Properties {
			checkClosed(t, key, p.Value, seen)
		}
	}
	if s.Items != nil {
		checkClosed(t, key, s.Items.Value, seen)
	}
	for _, a := range s.AllOf {
		checkClosed(t, key, a.Value, seen)
	}
}

func TestCheckRoutesAgainstSpec(t *testing.T) {
	doc := loadSpec(t)
	full := func() *echo.Echo {
		e := echo.New()
		g := e.Group("/api/v1", func(next echo.HandlerFunc) echo.HandlerFunc { return next })
		for _, k := range apiRoutes {
			method, path, _ := strings.Cut(k, " ")
			echoPath := strings.NewReplacer("{", ":", "}", "").Replace(path)
			if rest, ok := strings.CutPrefix(echoPath, "/api/v1"); ok {
				g.Add(method, rest, func(echo.Context) error { return nil })
			} else {
				e.Add(method, echoPath, func(echo.Context) error { return nil })
			}
		}
		return e
	}
	if err := CheckRoutesAgainstSpec(full(), doc); err != nil {
		t.Fatalf("every route registered: %v", err)
	}
	e := full()
	e.DELETE("/api/v1/projects/:id", func(echo.Context) error { return nil })
	e.GET("/api/v1/projects/:project", func(echo.Context) error { return nil }) // wrong parameter name
	err := CheckRoutesAgainstSpec(e, doc)
	if err == nil || !strings.Contains(err.Error(), "DELETE /api/v1/projects/{id}") || !strings.Contains(err.Error(), "GET /api/v1/projects/{project}") {
		t.Fatalf("extra routes not reported: %v", err)
	}
	e = echo.New()
	e.GET("/healthz", func(echo.Context) error { return nil })
	notInSpec, notRouted := RouteDiff(e, doc)
	if len(notInSpec) != 0 || !slices.Contains(notRouted, "POST /api/v1/projects") || slices.Contains(notRouted, "GET /healthz") {
		t.Fatalf("diff %v / %v", notInSpec, notRouted)
	}
}

// TestServerRoutesAreInTheSpec: everything the phase-1 server registers (the
// operations endpoints) is documented. The reverse direction, every spec
// route registered, is switched on once the handlers exist.
func TestServerRoutesAreInTheSpec(t *testing.T) {
	s := newTestServer(t)
	notInSpec, _ := RouteDiff(s.Echo(), s.Spec())
	if len(notInSpec) != 0 {
		t.Fatalf("registered but not in the spec: %v", notInSpec)
	}
	for _, r := range []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml"} {
		found := false
		for _, route := range s.Echo().Routes() {
			found = found || route.Method+" "+route.Path == r
		}
		if !found {
			t.Errorf("%s not registered", r)
		}
	}
}

func TestSpecQueryParams(t *testing.T) {
	doc := loadSpec(t)
	got, ok := SpecQueryParams(doc, "get", "/api/v1/projects/:id")
	sort.Strings(got)
	if !ok || !slices.Equal(got, []string{"as_of", "basis", "min_position"}) {
		t.Fatalf("%v %v", got, ok)
	}
	if _, ok := SpecQueryParams(doc, "GET", "/api/v1/nowhere"); ok {
		t.Fatal("found a route that does not exist")
	}
}

// fixtures answer spec routes with the shapes phase 2 will produce, so the
// spec's schemas are proven against real answers now.
func fixtureServer(t *testing.T) *testServer {
	s := newTestServer(t)
	pid := "0190f1b2-0000-7000-8000-000000000001"
	until := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	s.Query("/units", func(c echo.Context) error {
		return c.JSON(200, NewList([]map[string]string{{"code": "nanhu", "name": "南湖区", "kind": "county"}}, ""))
	})
	s.Query("/projects", func(c echo.Context) error {
		f, err := ParseFormat(c)
		if err != nil {
			return err
		}
		if f != FormatJSON {
			return RespondExport(c, f, ExportName{Name: "项目", Fallback: "projects"}, sampleTable())
		}
		return c.JSON(200, NewList([]map[string]any{projectSummary(pid)}, "next"))
	})
	s.Query("/projects/:id", func(c echo.Context) error {
		id, err := PathID(c, "id", "project")
		if err != nil {
			return err
		}
		if id != pid {
			return NotFound("project", id)
		}
		p := projectSummary(pid)
		for k, v := range map[string]any{
			"registered_at": nil, "started_at": nil, "producing_at": nil, "terminated_at": nil,
			"funds_arrived": map[string]any{"amount": 0, "currency": "CNY"},
			"due_process":   map[string]bool{"feasibility_study": true, "risk_assessment": false, "collective_decision": false},
			"commitments":   nil, "termination": nil, "foreign_investment": nil, "as_of": nil,
		} {
			p[k] = v
		}
		SetETag(c, 3)
		return c.JSON(200, p)
	})
	s.Command(http.MethodPost, "/projects", func(c echo.Context) error {
		var body struct {
			Name string `json:"name"`
		}
		if err := Bind(c, &body); err != nil {
			return err
		}
		switch body.Name {
		case "conflict":
			return NewProblem(409, CodeExclusivityConflict, "unit xiuzhou holds first-negotiation rights").
				With("holder_unit", "xiuzhou").With("exclusive_until", until)
		case "":
			return Invalid("name", "required", "is required")
		}
		return RespondCommand(c, 201, CommandResult{ID: pid, Version: 1, Position: eventstore.Position{Commit: 8, Prepare: 8}, ExclusiveUntil: &until})
	}, RoleUnitStaff, RoleCentre)
	s.Command(http.MethodPost, "/projects/:id/funds", func(c echo.Context) error {
		pre, err := ParseIfMatch(c)
		if err != nil {
			return err
		}
		return pre.Translate(&eventstore.VersionConflictError{Stream: "project-" + pid, Expected: pre.Expected(), Actual: 4})
	}, RoleUnitStaff, RoleCentre)
	return s
}

func projectSummary(id string) map[string]any {
	return map[string]any{
		"id": id, "name": "新能源电池项目", "stage": "negotiating", "unit": "nanhu", "first_unit": "nanhu",
		"investor":       map[string]any{"name": "宁德时代", "categories": []string{"china_500"}},
		"industry_chain": "新能源", "planned_investment": map[string]any{"amount": 1500000000, "currency": "CNY"},
		"contract_investment": nil, "tier": "1b", "usd100m": false, "exclusive_until": "2024-07-01",
		"reported_at": "2024-06-01", "signed_at": nil, "alerts": []string{"stale"}, "version": 3,
	}
}

func TestAnswersMatchTheSpec(t *testing.T) {
	s := fixtureServer(t)
	v, err := NewSpecValidator(s.Spec())
	if err != nil {
		t.Fatal(err)
	}
	pid := "0190f1b2-0000-7000-8000-000000000001"
	centre := withToken(token(t, RoleCentre, ""))
	for _, tc := range []struct {
		method, target, body string
		opts                 []reqOpt
		status               int
	}{
		{"GET", "/healthz", "", nil, 200},
		{"GET", "/readyz", "", nil, 200},
		{"GET", "/metrics", "", nil, 200},
		{"GET", "/openapi.yaml", "", nil, 200},
		{"GET", "/api/v1/units", "", []reqOpt{centre}, 200},
		{"GET", "/api/v1/units", "", nil, 401},
		{"GET", "/api/v1/units?min_position=x", "", []reqOpt{centre}, 422},
		{"GET", "/api/v1/units?min_position=1000000", "", []reqOpt{centre}, 503},
		{"GET", "/api/v1/projects", "", []reqOpt{centre}, 200},
		{"GET", "/api/v1/projects?format=csv", "", []reqOpt{centre}, 200},
		{"GET", "/api/v1/projects?format=xlsx", "", []reqOpt{centre}, 200},
		{"GET", "/api/v1/projects?format=pdf", "", []reqOpt{centre}, 422},
		{"GET", "/api/v1/projects/" + pid, "", []reqOpt{centre}, 200},
		{"GET", "/api/v1/projects/0190f1b2-0000-7000-8000-000000000002", "", []reqOpt{centre}, 404},
		{"POST", "/api/v1/projects", `{"name":"电池"}`, []reqOpt{centre, jsonBody()}, 201},
		{"POST", "/api/v1/projects", `{"name":"conflict"}`, []reqOpt{centre, jsonBody()}, 409},
		{"POST", "/api/v1/projects", `{"name":""}`, []reqOpt{centre, jsonBody()}, 422},
		{"POST", "/api/v1/projects", `{"nam":1}`, []reqOpt{centre, jsonBody()}, 422},
		{"POST", "/api/v1/projects", `{"name":`, []reqOpt{centre, jsonBody()}, 400},
		{"POST", "/api/v1/projects", `{"name":"x"}`, []reqOpt{centre}, 415},
		{"POST", "/api/v1/projects", `{"name":"x"}`, []reqOpt{withToken(token(t, RoleLeader, "")), jsonBody()}, 403},
		{"POST", "/api/v1/projects/" + pid + "/funds", "", []reqOpt{centre, withHeader("If-Match", `"3"`)}, 412},
		{"POST", "/api/v1/projects/" + pid + "/funds", "", []reqOpt{centre}, 409},
		{"POST", "/api/v1/projects/" + pid + "/funds", "", []reqOpt{centre, withHeader("If-Match", "3")}, 422},
	} {
		t.Run(tc.method+" "+tc.target+" "+tc.body, func(t *testing.T) {
			var rd *strings.Reader
			if tc.body != "" {
				rd = strings.NewReader(tc.body)
			}
			var req *http.Request
			if rd != nil {
				req = httptest.NewRequest(tc.method, tc.target, rd)
			} else {
				req = httptest.NewRequest(tc.method, tc.target, nil)
			}
			for _, o := range tc.opts {
				o(req)
			}
			rec := httptest.NewRecorder()
			if tc.status == 503 {
				// A server with a short wait, same routes.
				short := fixtureServerWithWait(t)
				short.Handler().ServeHTTP(rec, req)
			} else {
				s.Handler().ServeHTTP(rec, req)
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if err := v.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
				t.Fatalf("answer does not match the spec: %v\n%s", err, rec.Body)
			}
		})
	}
}

func fixtureServerWithWait(t *testing.T) *testServer {
	s := newTestServer(t, func(c *Config) { c.MinPositionWait = time.Millisecond })
	s.Query("/units", func(c echo.Context) error { return c.JSON(200, NewList([]int{}, "")) })
	return s
}

// TestSpecValidatorCatchesDrift proves the validator is not a rubber stamp.
func TestSpecValidatorCatchesDrift(t *testing.T) {
	s := newTestServer(t)
	v, err := NewSpecValidator(s.Spec())
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/units", nil)
	h := http.Header{"Content-Type": {"application/json"}, "X-Position": {"3"}, "X-Request-Id": {"r"}}
	good, _ := json.Marshal(NewList([]map[string]string{{"code": "nanhu", "name": "南湖区", "kind": "county"}}, ""))
	if err := v.ValidateResponse(req, 200, h, good); err != nil {
		t.Fatalf("a good answer failed: %v", err)
	}
	for name, tc := range map[string]struct {
		status int
		header http.Header
		body   []byte
	}{
		"unknown kind":       {200, h, []byte(`{"items":[{"code":"nanhu","name":"n","kind":"city"}],"next_cursor":null}`)},
		"extra member":       {200, h, []byte(`{"items":[{"code":"nanhu","name":"n","kind":"park","x":1}],"next_cursor":null}`)},
		"missing cursor":     {200, h, []byte(`{"items":[]}`)},
		"undocumented 418":   {418, h, good},
		"no X-Position":      {200, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r"}}, good},
		"wrong problem code": {401, http.Header{"Content-Type": {MediaTypeProblem}, "X-Position": {"3"}, "X-Request-Id": {"r"}, "Www-Authenticate": {"Bearer"}}, []byte(`{"type":"t","title":"t","status":401,"code":"forbidden"}`)},
	} {
		if err := v.ValidateResponse(req, tc.status, tc.header, tc.body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Requests too: a fixture body the contract forbids is caught.
	post := httptest.NewRequest(http.MethodPost, "/api/v1/projects", nil)
	post.Header.Set("Content-Type", "application/json")
	okBody := []byte(`{"name":"电池","unit":"nanhu","investor":{"name":"宁德时代","categories":[]},"industry_chain":"新能源",
		"planned_investment":{"amount":1500000000,"currency":"CNY"},"occurred_at":"2024-05-01T09:00:00+08:00"}`)
	if err := v.ValidateRequest(post, okBody); err != nil {
		t.Fatalf("a good report failed: %v", err)
	}
	if err := v.ValidateRequest(post, bytes.Replace(okBody, []byte(`"CNY"`), []byte(`"EUR"`), 1)); err == nil {
		t.Fatal("a report in euros passed")
	}
}
