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

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
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
