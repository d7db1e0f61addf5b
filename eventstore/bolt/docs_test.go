package bolt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// auditScript extracts the Python block that follows the audit-script
// marker in docs/eventstore.md.
func auditScript(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "eventstore.md"))
	if err != nil {
		t.Fatalf("read docs/eventstore.md: %v", err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- audit-script")
	if !ok {
		t.Fatal("docs/eventstore.md has no audit-script marker")
	}
	_, rest, ok = strings.Cut(rest, "```python\n")
	if !ok {
		t.Fatal("no python block after the audit-script marker")
	}
	script, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatal("unterminated python block")
	}
	return script
}

// auditPage is the shape of GET /api/v1/audit/events.
type auditPage struct {
	Items      []eventstore.Event `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

// TestAuditScript runs the documented Python script against real events
// from this store, served the way the audit API serves them (paged, through
// encoding/json as Echo uses it), and checks that it agrees with the Go
// hash and digest, then that it catches and locates a changed character.
func TestAuditScript(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed; the documented audit script cannot be checked here")
	}
	script := filepath.Join(t.TempDir(), "zhaoshang_audit.py")
	if err := os.WriteFile(script, []byte(auditScript(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := openTemp(t)
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	// Data as the commands write it: encoding/json output.
	report, err := json.Marshal(map[string]any{
		"名称": "嘉兴经济技术开发区新能源汽车零部件项目", "阶段": "首报首谈",
		"备注": "全角：，。！？（）【】 emoji 🏭👍🏻 <b>&</b> \u2028", "金额": 1.25e9, "nested": []any{1, 2.5, nil, true},
	})
	if err != nil {
		t.Fatal(err)
	}
	appends := []struct {
		stream string
		ev     eventstore.NewEvent
	}{
		{"project-嘉兴-001", eventstore.NewEvent{Type: "ProjectReported", Data: report,
			OccurredAt: time.Date(2025, 3, 14, 9, 30, 0, 123456789, cst),
			Actor:      eventstore.Actor{Subject: "张三", Role: "招商专员", Unit: "嘉兴经济技术开发区"},
			CommandID:  "命令-1", CorrelationID: "corr-1", CausationID: "cause-1"}},
		{"project-嘉兴-001", eventstore.NewEvent{Type: "ProjectSigned",
			Data:       json.RawMessage(`{"contract_investment":"1200000000.00"}`),
			OccurredAt: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
			Actor:      eventstore.Actor{Subject: "u-2", Role: "leader"}}},
		{"project-002", eventstore.NewEvent{Type: "ProjectReported",
			Data:       json.RawMessage(`{"name":"x","escaped":"\u003c\u0026\"\\"}`),
			OccurredAt: time.Date(2025, 4, 2, 8, 0, 0, 500000000, time.UTC),
			Actor:      eventstore.Actor{Subject: "u-3", Role: "officer", Unit: "u"}}},
	}
	for _, a := range appends {
		a.ev.ID = uuid.New()
		if _, err := s.Append(ctx, a.stream, eventstore.Any(), []eventstore.NewEvent{a.ev}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := eventstore.Seal(ctx, s, eventstore.Actor{Subject: "system", Role: "system"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "project-002", eventstore.Any(), []eventstore.NewEvent{{
		ID: uuid.New(), Type: "ProjectStarted", Data: json.RawMessage(`{}`), OccurredAt: time.Now(),
		Actor: eventstore.Actor{Subject: "u-3", Role: "officer"}}}); err != nil {
		t.Fatal(err)
	}
	rep, err := eventstore.Verify(ctx, s)
	if err != nil || !rep.OK {
		t.Fatalf("Verify: %+v, %v", rep, err)
	}

	// The audit API in miniature: pages of two, a bearer token, and a plain
	// encoding/json encoder as Echo's c.JSON uses.
	const token = "t0ken"
	var pages bytes.Buffer // every page served, concatenated, for stdin mode
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/audit/events" || r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		limit = min(max(limit, 1), 2)
		after, err := eventstore.ParsePosition(r.URL.Query().Get("after"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		evs, err := s.ReadAll(r.Context(), after, limit+1)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page := auditPage{Items: evs}
		if len(evs) > limit {
			page.Items = evs[:limit]
			next := evs[limit-1].Position.String()
			page.NextCursor = &next
		}
		var body bytes.Buffer
		if err := json.NewEncoder(&body).Encode(page); err != nil {
			t.Error(err)
		}
		pages.Write(body.Bytes())
		w.Header().Set("Content-Type", "application/json")
		w.Write(body.Bytes())
	}))
	defer srv.Close()

	run := func(input []byte, args ...string) (string, error) {
		cmd := exec.Command(python, append([]string{script}, args...)...)
		cmd.Env = append(os.Environ(), "ZHAOSHANG_TOKEN="+token)
		cmd.Stdin = bytes.NewReader(input)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	want := "5 events, 0 problems, digest " + rep.Digest
	out, err := run(nil, srv.URL)
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("the documented script, fetching from the API, disagrees with Verify (%v); want %q:\n%s", err, want, out)
	}
	out, err = run(pages.Bytes())
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("the documented script, reading saved pages, disagrees with Verify (%v); want %q:\n%s", err, want, out)
	}

	// One changed character in one event's data is found and located.
	tampered := bytes.Replace(pages.Bytes(), []byte("首报首谈"), []byte("首报首淡"), 1)
	out, err = run(tampered)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, "HASH MISMATCH project-嘉兴-001 v1 at 1") {
		t.Fatalf("the script did not locate a changed character (%v):\n%s", err, out)
	}
	// Removing the last event of a stream leaves every chain intact; only
	// the seal over the log shows it.
	all, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var partial bytes.Buffer
	if err := json.NewEncoder(&partial).Encode(append(all[:1:1], all[2:]...)); err != nil {
		t.Fatal(err)
	}
	if out, err := run(partial.Bytes()); err == nil || !strings.Contains(out, "SEAL MISMATCH through 3") || strings.Contains(out, "CHAIN") {
		t.Fatalf("the script did not notice missing events (%v):\n%s", err, out)
	}
}
