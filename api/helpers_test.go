package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// testNow is the fixed clock of the tests.
var testNow = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

// fakeViews is a Positioner and Readiness whose position the test moves.
type fakeViews struct {
	mu      sync.Mutex
	pos     eventstore.Position
	ready   bool
	changed chan struct{}
	waitErr error // when set, WaitFor fails at once with it
	// blocked receives a signal each time WaitFor starts waiting.
	blocked chan struct{}
}

func newFakeViews(pos uint64) *fakeViews {
	return &fakeViews{pos: eventstore.Position{Commit: pos, Prepare: pos}, ready: true, changed: make(chan struct{}),
		blocked: make(chan struct{}, 16)}
}

func (f *fakeViews) Position() eventstore.Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pos
}

func (f *fakeViews) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeViews) setReady(r bool) {
	f.mu.Lock()
	f.ready = r
	f.mu.Unlock()
}

func (f *fakeViews) advance(n uint64) {
	f.mu.Lock()
	f.pos = eventstore.Position{Commit: n, Prepare: n}
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeViews) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		f.mu.Lock()
		cur, ch, werr := f.pos, f.changed, f.waitErr
		f.mu.Unlock()
		if werr != nil {
			return werr
		}
		if cur.Compare(pos) >= 0 {
			return nil
		}
		select {
		case f.blocked <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fakeHead is a LogHead.
type fakeHead struct{ pos eventstore.Position }

func (h fakeHead) Head(context.Context) (eventstore.Position, error) { return h.pos, nil }

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the JSON log lines.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

type testServer struct {
	*Server
	views *fakeViews
	logs  *syncBuffer
}

func newTestServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	views := newFakeViews(7)
	logs := &syncBuffer{}
	cfg := Config{
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
		Secret:     testSecret,
		Now:        func() time.Time { return testNow },
		Positioner: views,
		Readiness:  views,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{Server: s, views: views, logs: logs}
}

func token(t *testing.T, role, unit string) string {
	t.Helper()
	tok, err := MintToken(testSecret, "tester-"+role, role, unit, time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type reqOpt func(*http.Request)

func withToken(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func jsonBody() reqOpt { return withHeader("Content-Type", "application/json") }

// do runs one request through h and returns the recorder.
func do(h http.Handler, method, target string, body string, opts ...reqOpt) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// problemOf decodes a problem answer and checks its media type.
func problemOf(t testing.TB, rec *httptest.ResponseRecorder) *Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != MediaTypeProblem {
		t.Fatalf("Content-Type %q, want %s (status %d, body %s)", ct, MediaTypeProblem, rec.Code, rec.Body)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %s: %v", rec.Body, err)
	}
	if p.Status != rec.Code {
		t.Fatalf("problem status %d, answer status %d", p.Status, rec.Code)
	}
	return &p
}

func fieldNames(p *Problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// bare is an Echo with only the error handler, for middleware tests.
func bare() *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = NewErrorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return e
}
