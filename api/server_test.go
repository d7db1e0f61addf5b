package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/docs"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("an empty config was accepted")
	}
	v := newFakeViews(0)
	if _, err := New(Config{Secret: []byte("short"), Positioner: v, Readiness: v}); err == nil {
		t.Fatal("a short secret was accepted")
	}
	cfg := Config{Secret: testSecret, Positioner: v, Readiness: v}.withDefaults()
	if cfg.ReadHeaderTimeout <= 0 || cfg.ReadTimeout <= 0 || cfg.WriteTimeout <= 0 || cfg.IdleTimeout <= 0 ||
		cfg.MaxHeaderBytes <= 0 || cfg.BodyLimit != DefaultBodyLimit || cfg.MinPositionWait != MaxMinPositionWait {
		t.Fatalf("defaults %+v", cfg)
	}
	if cfg := (Config{MinPositionWait: time.Minute}).withDefaults(); cfg.MinPositionWait != MaxMinPositionWait {
		t.Fatalf("min_position wait not capped: %s", cfg.MinPositionWait)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()

	rec := do(h, http.MethodGet, "/healthz", "")
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); rec.Code != 200 || err != nil || st != (Status{Status: "ok", Position: "7"}) {
		t.Fatalf("healthz %d %s", rec.Code, rec.Body)
	}
	rec = do(h, http.MethodGet, "/readyz", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ready"`) {
		t.Fatalf("readyz %d %s", rec.Code, rec.Body)
	}
	s.views.setReady(false)
	rec = do(h, http.MethodGet, "/readyz", "")
	if p := problemOf(t, rec); rec.Code != 503 || p.Code != CodeNotReady {
		t.Fatalf("readyz while catching up: %d %+v", rec.Code, p)
	}
	if rec := do(h, http.MethodGet, "/healthz", ""); rec.Code != 200 {
		t.Fatal("healthz must stay 200 while not ready")
	}
	s.views.setReady(true)
	s.shuttingDown.Store(true)
	rec = do(h, http.MethodGet, "/readyz", "")
	if p := problemOf(t, rec); rec.Code != 503 || p.Code != CodeUnavailable {
		t.Fatalf("readyz while shutting down: %d %+v", rec.Code, p)
	}
	s.shuttingDown.Store(false)

	rec = do(h, http.MethodGet, "/openapi.yaml", "")
	if rec.Code != 200 || rec.Body.String() != string(docs.OpenAPI) || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("openapi %d %v", rec.Code, rec.Header())
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers missing: %v", rec.Header())
	}
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t)
	s.Query("/projects", func(c echo.Context) error { return c.JSON(200, NewList([]int{}, "")) })
	tok := withToken(token(t, RoleLeader, ""))
	for range 3 {
		do(s.Handler(), http.MethodGet, "/api/v1/projects", "", tok)
	}
	do(s.Handler(), http.MethodGet, "/no/such/thing/123", "")
	do(s.Handler(), http.MethodGet, "/api/v1/also/missing", "", tok)
	s.Metrics().ObserveAppend(3 * time.Millisecond)
	s.Metrics().SetProjectionLag(12)
	s.Metrics().SetPosition(eventstore.Position{Commit: 99, Prepare: 99})

	rec := do(s.Handler(), http.MethodGet, "/metrics", "")
	body := rec.Body.String()
	for _, want := range []string{
		`zhaoshang_http_request_duration_seconds_count{method="GET",route="/api/v1/projects",status="200"} 3`,
		`zhaoshang_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 2`,
		`zhaoshang_eventstore_append_duration_seconds_count 1`,
		`zhaoshang_projection_lag_events 12`,
		`zhaoshang_subscription_position 99`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/no/such/thing") {
		t.Error("an unknown path became a label value")
	}
}

func TestRequestLogAndIDs(t *testing.T) {
	s := newTestServer(t)
	s.Query("/units", func(c echo.Context) error { return c.JSON(200, NewList([]int{}, "")) })
	tok := withToken(token(t, RoleUnitStaff, "nanhu"))

	rec := do(s.Handler(), http.MethodGet, "/api/v1/units", "", tok, withHeader("X-Request-Id", "abc-123"))
	if rec.Header().Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id %q", rec.Header().Get("X-Request-Id"))
	}
	rec = do(s.Handler(), http.MethodGet, "/api/v1/units", "", tok, withHeader("X-Request-Id", "evil\nid with spaces"))
	if id := rec.Header().Get("X-Request-Id"); id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("a bad client id was kept: %q", id)
	}
	rec = do(s.Handler(), http.MethodGet, "/api/v1/units", "", tok)
	if rec.Header().Get("X-Request-Id") == "" {
		t.Fatal("no request id made")
	}

	var reqs []map[string]any
	for _, l := range s.logs.lines(t) {
		if l["msg"] == "request" {
			reqs = append(reqs, l)
		}
	}
	if len(reqs) != 3 {
		t.Fatalf("%d request lines, want one per request", len(reqs))
	}
	l := reqs[0]
	for k, want := range map[string]any{
		"method": "GET", "route": "/api/v1/units", "path": "/api/v1/units", "status": float64(200),
		"request_id": "abc-123", "subject": "tester-unit_staff", "role": "unit_staff",
	} {
		if l[k] != want {
			t.Errorf("log %s = %v, want %v (%v)", k, l[k], want, l)
		}
	}
	if _, ok := l["latency"]; !ok {
		t.Error("no latency in the log line")
	}
}

func TestQueryAndCommandAllowOnlyTheSpecsParameters(t *testing.T) {
	s := newTestServer(t)
	s.Query("/projects", func(c echo.Context) error { return c.NoContent(204) })
	s.Command(http.MethodPost, "/projects/:id/funds", func(c echo.Context) error { return c.NoContent(204) }, RoleCentre)
	tok := withToken(token(t, RoleCentre, ""))
	for target, want := range map[string]int{
		"/api/v1/projects?stage=signed&unit=nanhu&q=电池&limit=10&format=csv&min_position=3": 204,
		"/api/v1/projects?stge=signed":    422,
		"/api/v1/projects?as_of=2024-1-1": 422, // not a parameter of the list
	} {
		if rec := do(s.Handler(), http.MethodGet, target, "", tok); rec.Code != want {
			t.Errorf("%s: %d, want %d", target, rec.Code, want)
		}
	}
	id := "0190f1b2-0000-7000-8000-000000000001"
	if rec := do(s.Handler(), http.MethodPost, "/api/v1/projects/"+id+"/funds", "", tok); rec.Code != 204 {
		t.Errorf("command: %d", rec.Code)
	}
	if rec := do(s.Handler(), http.MethodPost, "/api/v1/projects/"+id+"/funds?force=1", "", tok); rec.Code != 422 {
		t.Errorf("command with a stray parameter: %d", rec.Code)
	}
}

// TestServeShutsDownGracefully runs the server on a real socket: a request in
// flight when the context is cancelled completes, then Serve returns nil.
func TestServeShutsDownGracefully(t *testing.T) {
	s := newTestServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	s.Query("/units", func(c echo.Context) error {
		close(entered)
		<-release
		return c.JSON(200, NewList([]int{1}, ""))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	url := "http://" + ln.Addr().String()
	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/units", nil)
		req.Header.Set("Authorization", "Bearer "+token(t, RoleLeader, ""))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- result{code: res.StatusCode, body: string(b)}
	}()
	<-entered
	cancel()
	// Shutdown closes the listener before waiting for the request.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, `"items":[1]`) {
		t.Fatalf("in-flight request: %+v", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestSlowHeadersAreCutOff: a client that never finishes its headers is
// disconnected by ReadHeaderTimeout instead of holding a connection.
func TestSlowHeadersAreCutOff(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.ReadHeaderTimeout = 100 * time.Millisecond })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	// The deadline only stops a broken test from hanging; the server is
	// expected to hang up long before.
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	_, err = bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open")
	}
}

func TestRunReportsListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newTestServer(t, func(c *Config) { c.Addr = ln.Addr().String() })
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("got %v", err)
	}
}
