package relay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// posted is one request the test webhook received.
type posted struct {
	header http.Header
	body   []byte
	n      Notification
}

// hook is a webhook endpoint that answers each event id (Idempotency-Key)
// with the statuses scripted for it, one per attempt, then 204.
type hook struct {
	mu       sync.Mutex
	script   map[string][]int
	attempts map[string]int
	ok       chan posted
	srv      *httptest.Server
}

func newHook(t *testing.T) *hook {
	h := &hook{script: map[string][]int{}, attempts: map[string]int{}, ok: make(chan posted, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(HeaderIdempotent)
		h.mu.Lock()
		attempt := h.attempts[id]
		h.attempts[id]++
		status := http.StatusNoContent
		if s := h.script[id]; attempt < len(s) {
			status = s[attempt]
		}
		h.mu.Unlock()
		if status != http.StatusNoContent {
			http.Error(w, "endpoint broken", status)
			return
		}
		var n Notification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Errorf("webhook body is not a notification: %v", err)
		}
		w.WriteHeader(status)
		h.ok <- posted{header: r.Header.Clone(), body: body, n: n}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) fail(id uuid.UUID, statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script[id.String()] = statuses
}

func (h *hook) attemptsOf(id uuid.UUID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts[id.String()]
}

func (h *hook) receive(t *testing.T, n int) []posted {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	var got []posted
	for len(got) < n {
		select {
		case p := <-h.ok:
			got = append(got, p)
		case <-guard.C:
			t.Fatalf("webhook received %d of %d notifications before the hang guard", len(got), n)
		}
	}
	return got
}

// alerts appends one event of each notified kind, and one that is not
// notified, and answers the log.
func alerts(t *testing.T, s eventstore.Store) []eventstore.Event {
	project, order, tcase := uuid.NewString(), uuid.NewString(), uuid.NewString()
	until := t0.Add(30 * 24 * time.Hour)
	appendEvents(t, s, "exclusivity-k1", domain.ReportRejected{
		Key: "k1", ProjectID: uuid.NewString(), Unit: "xiuzhou", Name: "动力电池基地",
		Investor: domain.Investor{Name: "宁德示例新能源有限公司"}, IndustryChain: "new_energy",
		PlannedInvestment: domain.Yuan(5_000_000_000), OccurredAt: t0,
		HolderUnit: "nanhu", HolderProject: project, Until: until,
	})
	appendEvents(t, s, "project-"+project, domain.ProjectReported{
		ProjectID: project, Name: "动力电池基地", Unit: "nanhu",
		Investor:      domain.Investor{Name: "宁德示例新能源有限公司"},
		IndustryChain: "new_energy", PlannedInvestment: domain.Yuan(5_000_000_000), OccurredAt: t0,
	})
	appendEvents(t, s, "supervision-"+order, domain.SupervisionOrderIssued{
		OrderID: order, ProjectID: project, Matter: "推进项目签约", Target: "6月底前签约",
		LeadLeader: "王副市长", ResponsibleUnit: "nanhu", Requirements: "每周报送进展",
		Deadline: domain.NewDate(2024, time.June, 30), OccurredAt: t0,
	})
	appendEvents(t, s, "project-"+project, domain.ProjectTerminated{
		ProjectID: project, OccurredAt: t0.Add(48 * time.Hour), Kind: domain.TermNegotiationEnded,
		Cause: "market_change", Explanation: "投资方战略调整", StageBefore: domain.StageNegotiating,
	})
	appendEvents(t, s, "tolerance-"+tcase, domain.ToleranceRequested{
		CaseID: tcase, ProjectID: project, Unit: "nanhu", Grounds: "市场变化导致洽谈终止，程序完备",
		OccurredAt: t0.Add(72 * time.Hour),
	})
	return readAll(t, s)
}

func TestServeNotifiesTheWebhook(t *testing.T) {
	s := openStore(t)
	h := newHook(t)
	cfg := testConfig(t)
	cfg.WebhookURL = h.srv.URL + "/hooks/zhaoshang"
	cfg.WebhookSecret = "s3cret"
	cfg.CheckpointInterval = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, s, cfg, nil) }()

	log := alerts(t, s)
	got := h.receive(t, 4)
	notified := []eventstore.Event{log[0], log[2], log[3], log[4]}
	kinds := []string{KindExclusivityConflict, KindSupervisionOrderIssued, KindProjectTerminated, KindToleranceRequested}
	for i, p := range got {
		e := notified[i]
		if p.n.Kind != kinds[i] || p.n.EventID != e.ID.String() || p.n.Position != e.Position.String() || p.n.Stream != e.Stream {
			t.Fatalf("notification %d: %+v, want kind %s of event %s", i, p.n, kinds[i], e.ID)
		}
		if string(p.n.Data) != string(e.Data) {
			t.Fatalf("notification %d data %s, want %s", i, p.n.Data, e.Data)
		}
		if p.header.Get(HeaderIdempotent) != e.ID.String() || p.header.Get(HeaderEventType) != e.Type || p.header.Get(HeaderKind) != kinds[i] {
			t.Fatalf("notification %d headers %v", i, p.header)
		}
		if p.header.Get(HeaderCorrelate) != e.CorrelationID {
			t.Fatalf("notification %d correlation %q, want %q", i, p.header.Get(HeaderCorrelate), e.CorrelationID)
		}
		if !VerifySignature([]byte("s3cret"), p.body, p.header.Get(HeaderSignature)) {
			t.Fatalf("notification %d: bad signature %q", i, p.header.Get(HeaderSignature))
		}
		if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("content type %q", ct)
		}
	}
	if got[0].n.Unit != "xiuzhou" || got[1].n.Unit != "nanhu" || got[3].n.ProjectID == "" {
		t.Fatalf("subjects: %+v", got)
	}

	// The webhook has seen the last notification; the checkpoint passes
	// it only once the router acknowledged it (a stop before that leaves
	// it to be notified again: at least once).
	waitUntil(t, "the checkpoint after the last event", func() bool {
		pos, _, _, _ := ReadCheckpoint(cfg.CheckpointPath)
		return pos == log[4].Position
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	select {
	case p := <-h.ok:
		t.Fatalf("unexpected notification %+v", p.n)
	default:
	}
}

// A webhook failure is retried; one that outlasts the retries puts the
// message on the poison topic and the relay goes on with the next event.
func TestWebhookRetriesThenPoisons(t *testing.T) {
	s := openStore(t)
	log := alerts(t, s)
	h := newHook(t)
	h.fail(log[2].ID, http.StatusServiceUnavailable)                                                         // supervision order: one failure, then fine
	h.fail(log[3].ID, http.StatusInternalServerError, http.StatusBadGateway, http.StatusInternalServerError) // termination: always failing
	cfg := testConfig(t)
	cfg.WebhookURL = h.srv.URL
	cfg.HandlerRetries = 2

	tr := NewInProcess(nil)
	defer tr.Close()
	poisoned := collect(t, t.Context(), tr, DefaultTopic+".poison")
	router, err := NewRouter(tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	<-router.Running()
	r, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)

	got := h.receive(t, 3)
	if got[0].n.EventID != log[0].ID.String() || got[1].n.EventID != log[2].ID.String() || got[2].n.EventID != log[4].ID.String() {
		t.Fatalf("delivered %s %s %s", got[0].n.Kind, got[1].n.Kind, got[2].n.Kind)
	}
	p := receive(t, poisoned, 1)[0]
	if p.UUID != log[3].ID.String()+".poison."+HandlerWebhook || p.Metadata.Get(MetaEventID) != log[3].ID.String() {
		t.Fatalf("poisoned message %s (event %s), want event %s", p.UUID, p.Metadata.Get(MetaEventID), log[3].ID)
	}
	if reason := p.Metadata.Get(middleware.ReasonForPoisonedKey); !strings.Contains(reason, "500") || !strings.Contains(reason, "endpoint broken") {
		t.Fatalf("poison reason %q", reason)
	}
	if p.Metadata.Get(middleware.PoisonedHandlerKey) != HandlerWebhook || p.Metadata.Get(MetaType) != domain.TypeProjectTerminated {
		t.Fatalf("poison metadata %v", p.Metadata)
	}
	if e, err := EventOf(p); err != nil || e.ID != log[3].ID {
		t.Fatalf("poisoned payload: %v %v", e.ID, err)
	}
	if a := h.attemptsOf(log[2].ID); a != 2 {
		t.Fatalf("supervision order posted %d times, want 2", a)
	}
	if a := h.attemptsOf(log[3].ID); a != 3 {
		t.Fatalf("termination posted %d times, want 1 + 2 retries", a)
	}
	if a := h.attemptsOf(log[1].ID); a != 0 {
		t.Fatalf("ProjectReported was posted %d times", a)
	}

	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	cancel()
	if err := <-routerDone; err != nil {
		t.Fatal(err)
	}
	if pos, _, _, _ := ReadCheckpoint(cfg.CheckpointPath); pos != log[4].Position {
		t.Fatalf("checkpoint %s, want %s", pos, log[4].Position)
	}
	select {
	case m := <-poisoned:
		t.Fatalf("unexpected poisoned message %s", m.UUID)
	default:
	}
}

// An endpoint that does not answer within WebhookTimeout counts as a failure.
func TestWebhookTimeoutPoisons(t *testing.T) {
	s := openStore(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := testConfig(t)
	cfg.WebhookURL = srv.URL
	cfg.WebhookEvents = []string{domain.TypeToleranceRequested}
	cfg.WebhookTimeout = 20 * time.Millisecond
	cfg.HandlerRetries = 1

	tr := NewInProcess(nil)
	defer tr.Close()
	poisoned := collect(t, t.Context(), tr, DefaultTopic+".poison")
	router, err := NewRouter(tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = router.Run(ctx) }()
	<-router.Running()
	r, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	log := alerts(t, s)
	p := receive(t, poisoned, 1)[0]
	if p.Metadata.Get(MetaEventID) != log[4].ID.String() || !strings.Contains(p.Metadata.Get(middleware.ReasonForPoisonedKey), "Timeout") {
		t.Fatalf("poisoned %s: %q", p.Metadata.Get(MetaEventID), p.Metadata.Get(middleware.ReasonForPoisonedKey))
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestNotificationOf(t *testing.T) {
	s := openStore(t)
	log := alerts(t, s)
	cases := []struct {
		event     eventstore.Event
		kind      string
		unit      string
		summary   []string
		summaryZH []string
	}{
		{log[0], KindExclusivityConflict, "xiuzhou",
			[]string{"xiuzhou's report of 宁德示例新能源有限公司", "nanhu holds first negotiation", "until 2024-03-31T09:00:00Z", "¥5000000000"},
			[]string{"首报首谈冲突", "xiuzhou报送", "nanhu享有首谈权"}},
		{log[1], domain.TypeProjectReported, "", []string{"ProjectReported recorded on project-"}, []string{"ProjectReported 已记录"}},
		{log[2], KindSupervisionOrderIssued, "nanhu",
			[]string{"issued to nanhu: 推进项目签约", "deadline 2024-06-30", "lead 王副市长"},
			[]string{"督办事项", "办结时间 2024-06-30"}},
		{log[3], KindProjectTerminated, "",
			[]string{"terminated from stage negotiating (negotiation_ended, cause market_change)", "tolerance review may be requested"},
			[]string{"可申请容错免责审查"}},
		{log[4], KindToleranceRequested, "nanhu",
			[]string{"requested by nanhu", "市场变化导致洽谈终止"},
			[]string{"nanhu就项目", "申请容错免责"}},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			n, err := NotificationOf(c.event)
			if err != nil {
				t.Fatal(err)
			}
			if n.Kind != c.kind || n.Unit != c.unit || n.EventType != c.event.Type || n.Version != c.event.Version {
				t.Fatalf("%+v", n)
			}
			for _, want := range c.summary {
				if !strings.Contains(n.Summary, want) {
					t.Errorf("summary %q lacks %q", n.Summary, want)
				}
			}
			for _, want := range c.summaryZH {
				if !strings.Contains(n.SummaryZH, want) {
					t.Errorf("summary_zh %q lacks %q", n.SummaryZH, want)
				}
			}
		})
	}
	bad := log[0]
	bad.Data = []byte(`{"until":"not a time"}`)
	if _, err := NotificationOf(bad); err == nil {
		t.Fatal("undecodable ReportRejected gave a notification")
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"kind":"exclusivity_conflict"}`)
	// HMAC-SHA256("key", body), computed with openssl dgst -sha256 -hmac key.
	const sig = "sha256=968fd199e5afca3c9435ffb2382b118702df03b99fb19917fe66a3544a42e476"
	if !VerifySignature([]byte("key"), body, sig) {
		t.Fatal("the openssl signature does not verify")
	}
	if VerifySignature([]byte("other key"), body, sig) || VerifySignature([]byte("key"), append(body, ' '), sig) {
		t.Fatal("a signature verified under another key or body")
	}
	for _, s := range []string{"", "sha256=", "md5=00", "sha256=zz"} {
		if VerifySignature([]byte("key"), body, s) {
			t.Fatalf("signature %q verified", s)
		}
	}
}

// TestWebhookRedirectIsAFailure: a redirect is not followed (Go would
// follow 301/302/303 as a GET without the body, and its 2xx would count the
// notification as delivered): every 3xx is a failure, retried like a 5xx.
func TestWebhookRedirectIsAFailure(t *testing.T) {
	s := openStore(t)
	log := alerts(t, s)
	var posts, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/moved":
			gets.Add(1) // where a followed redirect would land
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodPost:
			posts.Add(1)
			http.Redirect(w, r, "/moved", http.StatusFound)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t)
	cfg.WebhookURL = srv.URL + "/hook"
	wh := NewWebhook(cfg, nil)
	msg, err := NewMessage(log[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Handle(msg); err == nil || !strings.Contains(err.Error(), "302") {
		t.Fatalf("a 302 answer: %v, want a failure naming the status", err)
	}
	if posts.Load() != 1 || gets.Load() != 0 {
		t.Fatalf("%d posts and %d requests to the redirect's target, want 1 and 0", posts.Load(), gets.Load())
	}
}
