package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

func TestProblemFor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		leak   string // must not appear in the detail
	}{
		{"validation", fmt.Errorf("bind: %w", Invalid("investor.name", "required", "is required")), 422, CodeValidationFailed, ""},
		{"problem as is", NewProblem(409, CodeInvalidTransition, "registration before signing"), 409, CodeInvalidTransition, ""},
		{"wrapped problem", fmt.Errorf("x: %w", NewProblem(404, CodeNotFound, "no such project")), 404, CodeNotFound, ""},
		{"stale If-Match", &PreconditionFailedError{Expected: 2, Actual: 3}, 412, CodePreconditionFailed, ""},
		{"version conflict", &eventstore.VersionConflictError{Stream: "project-1", Expected: eventstore.Exact(1), Actual: 2}, 409, CodeVersionConflict, ""},
		{"not caught up", ErrNotCaughtUp, 503, CodeNotCaughtUp, ""},
		{"max bytes", &http.MaxBytesError{Limit: 10}, 413, CodeBodyTooLarge, ""},
		{"echo 404", echo.ErrNotFound, 404, CodeNotFound, ""},
		{"echo 405", echo.ErrMethodNotAllowed, 405, CodeMethodNotAllowed, ""},
		{"echo 413", echo.ErrStatusRequestEntityTooLarge, 413, CodeBodyTooLarge, ""},
		{"echo 415", echo.ErrUnsupportedMediaType, 415, CodeUnsupportedMediaType, ""},
		{"echo 401", echo.ErrUnauthorized, 401, CodeUnauthorized, ""},
		{"echo 403", echo.ErrForbidden, 403, CodeForbidden, ""},
		{"echo 418", echo.NewHTTPError(418, "teapot"), 418, CodeBadRequest, ""},
		{"echo 500 with a message", echo.NewHTTPError(500, "db password is hunter2"), 500, CodeInternal, "hunter2"},
		{"echo 502", echo.NewHTTPError(502, "upstream 10.0.0.3 down"), 500, CodeInternal, "10.0.0.3"},
		{"deadline", fmt.Errorf("read views: %w", context.DeadlineExceeded), 503, CodeUnavailable, "read views"},
		{"unknown", errors.New("pq: connection to 10.1.2.3 refused"), 500, CodeInternal, "10.1.2.3"},
		{"panic", &PanicError{Value: errors.New("nil map write at secret.go:3")}, 500, CodeInternal, "secret.go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ProblemFor(tc.err)
			if p.Status != tc.status || p.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", p.Status, p.Code, tc.status, tc.code)
			}
			if p.Type != "urn:zhaoshang:problem:"+p.Code || p.Title == "" {
				t.Fatalf("type %q title %q", p.Type, p.Title)
			}
			if tc.leak != "" && strings.Contains(p.Detail, tc.leak) {
				t.Fatalf("detail leaks %q: %s", tc.leak, p.Detail)
			}
		})
	}
}

func TestErrorRulesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range errorRules {
		if r.Name == "" || r.Match == nil || r.Code == "" || r.Status < 400 || seen[r.Name] {
			t.Errorf("rule %+v", r)
		}
		seen[r.Name] = true
	}
}

func TestProblemExtensionsRoundTrip(t *testing.T) {
	p := NewProblem(409, CodeExclusivityConflict, "held").With("holder_unit", "nanhu").With("code", "overridden?")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["holder_unit"] != "nanhu" || m["code"] != CodeExclusivityConflict || m["status"] != float64(409) {
		t.Fatalf("%s", b)
	}
	var back Problem
	if err := json.Unmarshal(b, &back); err != nil || back.Extensions["holder_unit"] != "nanhu" || back.Code != CodeExclusivityConflict {
		t.Fatalf("%+v %v", back, err)
	}
}

func TestErrorHandler(t *testing.T) {
	s := newTestServer(t)
	s.Query("/units", func(c echo.Context) error {
		c.Response().Header().Set("ETag", `"9"`)
		var m map[string]int
		m["x"] = 1 // a handler bug: nil map write panics
		return nil
	})
	s.Query("/policy", func(c echo.Context) error {
		_ = c.String(200, "partial")
		return errors.New("failed after writing")
	})
	tok := withToken(token(t, RoleLeader, ""))

	rec := do(s.Handler(), http.MethodGet, "/api/v1/units", "", tok, withHeader("X-Request-Id", "trace-123"))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	p := problemOf(t, rec)
	if p.Code != CodeInternal || p.RequestID != "trace-123" || !strings.Contains(p.Detail, "trace-123") || p.Instance != "/api/v1/units" {
		t.Fatalf("problem %+v", p)
	}
	if strings.Contains(rec.Body.String(), "nil map") || rec.Header().Get("ETag") != "" {
		t.Fatalf("leaked: %s %v", rec.Body, rec.Header())
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "assignment to entry in nil map") || !strings.Contains(logs, "goroutine") || !strings.Contains(logs, "trace-123") {
		t.Fatalf("panic not logged with stack and request id: %s", logs)
	}

	// An error after the answer started is logged, not written twice.
	rec = do(s.Handler(), http.MethodGet, "/api/v1/policy", "", tok)
	if rec.Code != 200 || rec.Body.String() != "partial" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if !strings.Contains(s.logs.String(), "failed after writing") {
		t.Fatal("not logged")
	}

	// Echo's own errors are problems too.
	rec = do(s.Handler(), http.MethodGet, "/no/such/route", "")
	if p := problemOf(t, rec); rec.Code != 404 || p.Code != CodeNotFound {
		t.Fatalf("%d %+v", rec.Code, p)
	}
	rec = do(s.Handler(), http.MethodPost, "/healthz", "")
	if p := problemOf(t, rec); rec.Code != 405 || p.Code != CodeMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
		t.Fatalf("%d %+v %v", rec.Code, p, rec.Header())
	}
	// HEAD answers carry the status and headers, no body.
	rec = do(s.Handler(), http.MethodHead, "/no/such/route", "")
	if rec.Code != 404 || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: %d %q", rec.Code, rec.Body)
	}
}

func TestBodyLimitMiddlewareIs413Problem(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.BodyLimit = 64 })
	s.Command(http.MethodPost, "/projects", func(c echo.Context) error {
		var v map[string]any
		if err := Bind(c, &v); err != nil {
			return err
		}
		return c.NoContent(204)
	})
	tok := withToken(token(t, RoleCentre, ""))
	body := `{"name":"` + strings.Repeat("长", 40) + `"}`
	// Declared length over the limit: Echo's BodyLimit refuses before the
	// handler.
	rec := do(s.Handler(), http.MethodPost, "/api/v1/projects", body, tok, jsonBody())
	if p := problemOf(t, rec); rec.Code != 413 || p.Code != CodeBodyTooLarge {
		t.Fatalf("%d %+v", rec.Code, p)
	}
	// Unknown length (chunked): the limited reader trips inside Bind.
	req, _ := http.NewRequest(http.MethodPost, "/api/v1/projects", io.NopCloser(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token(t, RoleCentre, ""))
	rw := &recorder{h: http.Header{}}
	s.Handler().ServeHTTP(rw, req)
	if rw.code != 413 {
		t.Fatalf("chunked: %d %s", rw.code, rw.body.String())
	}
}

func TestNewErrorHandlerDefaultsItsLogger(t *testing.T) {
	prev := slog.Default()
	defer slog.SetDefault(prev)
	var buf syncBuffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	e := echo.New()
	e.HTTPErrorHandler = NewErrorHandler(nil)
	e.GET("/x", func(echo.Context) error { return errors.New("kaput") })
	if rec := do(e, http.MethodGet, "/x", ""); rec.Code != 500 || !strings.Contains(buf.String(), "kaput") {
		t.Fatalf("%d %s", rec.Code, buf.String())
	}
}

// recorder is a minimal ResponseWriter (httptest.ResponseRecorder would do
// too; this one keeps the request's unknown length honest).
type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return r.body.Write(b)
}
