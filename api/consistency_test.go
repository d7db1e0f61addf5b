package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

func TestParseIfMatch(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   Precondition
		bad    bool
	}{
		{nil, Precondition{}, false},
		{[]string{`"3"`}, Precondition{Set: true, Version: 3}, false},
		{[]string{`W/"3"`}, Precondition{Set: true, Version: 3}, false},
		{[]string{` "12" `}, Precondition{Set: true, Version: 12}, false},
		{[]string{`"0"`}, Precondition{Set: true, Version: 0}, false},
		{[]string{`*`}, Precondition{Set: true, Any: true}, false},
		{[]string{`3`}, Precondition{}, true},
		{[]string{`""`}, Precondition{}, true},
		{[]string{`"03"`}, Precondition{}, true},
		{[]string{`"-1"`}, Precondition{}, true},
		{[]string{`"abc"`}, Precondition{}, true},
		{[]string{`"1", "2"`}, Precondition{}, true},
		{[]string{`"1"`, `"2"`}, Precondition{}, true},
		{[]string{`"99999999999999999999999"`}, Precondition{}, true},
		{[]string{`w/"3"`}, Precondition{}, true},
	} {
		t.Run(fmt.Sprint(tc.header), func(t *testing.T) {
			e := echo.New()
			req, _ := http.NewRequest(http.MethodPost, "/", nil)
			for _, h := range tc.header {
				req.Header.Add(HeaderIfMatch, h)
			}
			got, err := ParseIfMatch(e.NewContext(req, nil))
			if tc.bad {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Errors[0].Field != HeaderIfMatch {
					t.Fatalf("want 422 naming If-Match, got %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestPreconditionTranslate(t *testing.T) {
	conflict := fmt.Errorf("append: %w", &eventstore.VersionConflictError{Stream: "project-x", Expected: eventstore.Exact(3), Actual: 5})
	p := Precondition{Set: true, Version: 3}
	if v := p.Expected(); v.String() != "version 3" {
		t.Fatalf("expected %s", v)
	}
	got := ProblemFor(p.Translate(conflict))
	if got.Status != http.StatusPreconditionFailed || got.Code != CodePreconditionFailed || got.Extensions["current_version"] != uint64(5) {
		t.Fatalf("problem %+v", got)
	}
	// Without If-Match the same conflict is a race: 409, retry.
	if got := ProblemFor(Precondition{}.Translate(conflict)); got.Status != http.StatusConflict || got.Code != CodeVersionConflict {
		t.Fatalf("problem %+v", got)
	}
	if got := ProblemFor(Precondition{Set: true, Any: true}.Translate(conflict)); got.Code != CodeVersionConflict {
		t.Fatalf("If-Match * problem %+v", got)
	}
	other := errors.New("x")
	if p.Translate(other) != other || p.Translate(nil) != nil {
		t.Fatal("other errors must pass unchanged")
	}
	if !(Precondition{}).Expected().IsAny() {
		t.Fatal("no If-Match must append with Any")
	}
}

func TestIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   string
		bad    bool
	}{
		{nil, "", false},
		{[]string{"retry-7f3a"}, "retry-7f3a", false},
		{[]string{"a b c"}, "a b c", false},
		{[]string{strings.Repeat("k", 255)}, strings.Repeat("k", 255), false},
		{[]string{""}, "", true},
		{[]string{strings.Repeat("k", 256)}, "", true},
		{[]string{" lead"}, "", true},
		{[]string{"键"}, "", true},
		{[]string{"a\tb"}, "", true},
		{[]string{"a", "b"}, "", true},
	} {
		e := echo.New()
		req, _ := http.NewRequest(http.MethodPost, "/", nil)
		for _, h := range tc.header {
			req.Header.Add(HeaderIdempotencyKey, h)
		}
		got, err := IdempotencyKey(e.NewContext(req, nil))
		if tc.bad {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Errors[0].Field != HeaderIdempotencyKey {
				t.Fatalf("%q: want 422 naming the header, got %v", tc.header, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Fatalf("%q: got %q %v", tc.header, got, err)
		}
	}
}

func TestRespondCommand(t *testing.T) {
	s := newTestServer(t)
	until := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	s.Command(http.MethodPost, "/projects", func(c echo.Context) error {
		return RespondCommand(c, http.StatusCreated, CommandResult{
			ID: "0190f1b2-0000-7000-8000-000000000001", Version: 1,
			Position: eventstore.Position{Commit: 42, Prepare: 42}, ExclusiveUntil: &until,
		})
	}, RoleUnitStaff, RoleCentre)
	rec := do(s.Handler(), http.MethodPost, "/api/v1/projects", "", withToken(token(t, RoleCentre, "")))
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("ETag") != `"1"` || rec.Header().Get(HeaderPosition) != "42" {
		t.Fatalf("headers %v", rec.Header())
	}
	var got map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if got["position"] != "42" || got["version"] != float64(1) || got["exclusive_until"] != "2024-07-01T00:00:00Z" {
		t.Fatalf("body %s", rec.Body)
	}
}

func TestPositionHeaderOnEveryAnswer(t *testing.T) {
	s := newTestServer(t)
	s.Query("/units", func(c echo.Context) error { return c.JSON(http.StatusOK, NewList([]Actor{}, "")) })
	s.Query("/policy", func(c echo.Context) error { panic("boom") })
	tok := withToken(token(t, RoleLeader, ""))
	for _, tc := range []struct {
		method, path string
		opts         []reqOpt
		status       int
	}{
		{http.MethodGet, "/api/v1/units", []reqOpt{tok}, 200},
		{http.MethodGet, "/api/v1/units", nil, 401},
		{http.MethodGet, "/api/v1/policy", []reqOpt{tok}, 500},
		{http.MethodGet, "/nowhere", nil, 404},
		{http.MethodDelete, "/healthz", nil, 405},
		{http.MethodGet, "/healthz", nil, 200},
	} {
		rec := do(s.Handler(), tc.method, tc.path, "", tc.opts...)
		if rec.Code != tc.status || rec.Header().Get(HeaderPosition) != "7" || rec.Header().Get(echo.HeaderXRequestID) == "" {
			t.Fatalf("%s %s: %d %v", tc.method, tc.path, rec.Code, rec.Header())
		}
	}
	s.views.advance(9)
	if rec := do(s.Handler(), http.MethodGet, "/healthz", ""); rec.Header().Get(HeaderPosition) != "9" {
		t.Fatalf("X-Position %q after the views moved", rec.Header().Get(HeaderPosition))
	}
}

func TestMinPosition(t *testing.T) {
	s := newTestServer(t, func(c *Config) {
		c.MinPositionWait = 50 * time.Millisecond
		c.Head = fakeHead{pos: eventstore.Position{Commit: 100, Prepare: 100}}
	})
	served := make(chan eventstore.Position, 10)
	s.Query("/units", func(c echo.Context) error {
		served <- s.Positioner().Position()
		return c.JSON(http.StatusOK, NewList([]Actor{}, ""))
	})
	tok := withToken(token(t, RoleLeader, ""))
	h := s.Handler()

	// Already there: no wait.
	if rec := do(h, http.MethodGet, "/api/v1/units?min_position=7", "", tok); rec.Code != 200 || (<-served).Commit != 7 {
		t.Fatalf("status %d", rec.Code)
	}
	// Behind, then caught up while waiting: the handler sees the new views.
	done := make(chan int)
	go func() {
		rec := do(h, http.MethodGet, "/api/v1/units?min_position=20", "", tok)
		done <- rec.Code
	}()
	<-s.views.blocked // the read is waiting
	s.views.advance(20)
	if code := <-done; code != 200 {
		t.Fatalf("status %d after catching up", code)
	}
	if pos := <-served; pos.Commit < 20 {
		t.Fatalf("handler ran at %s", pos)
	}
	for len(s.views.blocked) > 0 {
		<-s.views.blocked
	}
	// Never reached within the wait: 503, not a stale answer.
	rec := do(h, http.MethodGet, "/api/v1/units?min_position=50", "", tok)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	p := problemOf(t, rec)
	if p.Code != CodeNotCaughtUp || rec.Header().Get("Retry-After") == "" || rec.Header().Get(HeaderPosition) != "20" || p.Extensions["min_position"] != "50" {
		t.Fatalf("problem %+v headers %v", p, rec.Header())
	}
	if len(served) != 0 {
		t.Fatal("the handler ran despite the wait failing")
	}
	// Beyond the end of the log: the client's mistake.
	rec = do(h, http.MethodGet, "/api/v1/units?min_position=101", "", tok)
	if p := problemOf(t, rec); rec.Code != 422 || p.Errors[0].Field != "min_position" || p.Errors[0].Rule != "beyond_log" {
		t.Fatalf("status %d %+v", rec.Code, p)
	}
	// Malformed or repeated.
	for _, q := range []string{"min_position=abc", "min_position=", "min_position=1&min_position=2", "min_position=1-x"} {
		rec := do(h, http.MethodGet, "/api/v1/units?"+q, "", tok)
		if p := problemOf(t, rec); rec.Code != 422 || p.Errors[0].Field != "min_position" {
			t.Fatalf("%s: status %d %+v", q, rec.Code, p)
		}
	}
	// Views that stopped: 503 at once, and the cause is logged.
	s.views.mu.Lock()
	s.views.waitErr = errors.New("projections: views stopped: disk on fire")
	s.views.mu.Unlock()
	rec = do(h, http.MethodGet, "/api/v1/units?min_position=60", "", tok)
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "disk on fire") {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(s.logs.String(), "disk on fire") {
		t.Fatal("the cause was not logged")
	}
}
