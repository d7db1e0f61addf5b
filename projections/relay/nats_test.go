package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
)

// natsConfig answers a configuration on a stream, topics and durable names
// of the test's own, on the NATS server at ZHAOSHANG_TEST_NATS (default
// nats://127.0.0.1:4222); the test is skipped when none answers. The stream
// is deleted at the end.
func natsConfig(t testing.TB) (Config, nats.JetStreamContext) {
	t.Helper()
	url := os.Getenv("ZHAOSHANG_TEST_NATS")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	host := strings.TrimPrefix(url, "nats://")
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		t.Skipf("NATS JetStream integration test skipped: no NATS server at %s (%v); set ZHAOSHANG_TEST_NATS to run it", url, err)
	}
	conn.Close()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(); err != nil {
		t.Skipf("NATS JetStream integration test skipped: the server at %s has no JetStream (%v)", url, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	sfx := hex.EncodeToString(b)
	cfg := testConfig(t)
	cfg.Publisher = url
	cfg.Topic = "zstest." + sfx + ".events"
	cfg.NATSStream = "ZSTEST_" + sfx
	cfg.NATSDurable = "zstest-" + sfx
	cfg = cfg.WithDefaults()
	t.Cleanup(func() { _ = js.DeleteStream(cfg.NATSStream) })
	return cfg, js
}

func streamMsgs(t *testing.T, js nats.JetStreamContext, stream string) uint64 {
	t.Helper()
	info, err := js.StreamInfo(stream)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// Events reach JetStream in log order with the event id as the message id,
// and publishing them again (a relay restarted without its checkpoint, a
// message sent twice) stores nothing new.
func TestNATSPublishesInOrderAndDeduplicates(t *testing.T) {
	cfg, js := natsConfig(t)
	s := openStore(t)
	seed(t, s, 50)
	all := readAll(t, s)

	tr, err := OpenTransport(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	info, err := js.StreamInfo(cfg.NATSStream)
	if err != nil {
		t.Fatalf("the relay did not create its stream: %v", err)
	}
	if info.Config.Duplicates != DefaultNATSDuplicateWindow || len(info.Config.Subjects) != 2 {
		t.Fatalf("stream config %+v", info.Config)
	}

	r, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	waitUntil(t, "50 events published", func() bool { return r.Stats().Events == 50 })
	if err := stop(); err == nil || r.Stats().Failures != 0 {
		t.Fatalf("stop: %v, stats %+v", err, r.Stats())
	}
	if n := streamMsgs(t, js, cfg.NATSStream); n != 50 {
		t.Fatalf("stream holds %d messages, want 50", n)
	}

	got := receive(t, collect(t, t.Context(), tr, cfg.Topic), 50)
	checkMessages(t, got, all)

	// The same events again, from a relay that lost its checkpoint.
	again := cfg
	again.CheckpointPath = filepath.Join(t.TempDir(), "lost.json")
	r2, err := New(s, tr, again, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop2 := startRelay(t, r2)
	waitUntil(t, "50 events published again", func() bool { return r2.Stats().Events == 50 })
	_ = stop2()
	msg, err := NewMessage(all[7])
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Publish(cfg.Topic, msg); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, js, cfg.NATSStream); n != 50 {
		t.Fatalf("after re-publishing, the stream holds %d messages, want 50", n)
	}

	// New events still go through, after the duplicates.
	seed(t, s, 3)
	r3, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop3 := startRelay(t, r3)
	waitUntil(t, "3 new events published", func() bool { return r3.Stats().Events == 3 })
	_ = stop3()
	if n := streamMsgs(t, js, cfg.NATSStream); n != 53 {
		t.Fatalf("stream holds %d messages, want 53", n)
	}
}

// Serve over NATS: the router's durable consumer feeds the webhook, and a
// message the webhook keeps refusing is stored on the poison subject under
// an id of its own (the event's id would be deduplicated away).
func TestNATSServeWebhookAndPoisonQueue(t *testing.T) {
	cfg, js := natsConfig(t)
	s := openStore(t)
	log := alerts(t, s)
	h := newHook(t)
	h.fail(log[3].ID, http.StatusInternalServerError, http.StatusInternalServerError)
	cfg.WebhookURL = h.srv.URL
	cfg.HandlerRetries = 1

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, s, cfg, nil) }()

	got := h.receive(t, 3)
	for i, want := range []int{0, 2, 4} {
		if got[i].n.EventID != log[want].ID.String() {
			t.Fatalf("notification %d is event %s (%s), want %s", i, got[i].n.EventID, got[i].n.Kind, log[want].ID)
		}
	}
	// The router's durable consumers read one subject each, one message at
	// a time, acknowledged explicitly.
	for _, topic := range []string{cfg.Topic, cfg.PoisonTopic} {
		ci, err := js.ConsumerInfo(cfg.NATSStream, durableName(cfg.NATSDurable, topic))
		if err != nil {
			t.Fatal(err)
		}
		if ci.Config.FilterSubject != topic || ci.Config.MaxAckPending != 1 || ci.Config.AckPolicy != nats.AckExplicitPolicy {
			t.Fatalf("consumer of %s: %+v", topic, ci.Config)
		}
	}
	// An ephemeral consumer of our own reads the poison subject.
	sub, err := js.SubscribeSync(cfg.PoisonTopic, nats.BindStream(cfg.NATSStream), nats.DeliverAll(), nats.AckNone())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	poisoned, err := sub.NextMsg(hangGuard)
	if err != nil {
		t.Fatalf("no poisoned message: %v", err)
	}
	if id := poisoned.Header.Get(wmnats.WatermillUUIDHdr); id != log[3].ID.String()+".poison."+HandlerWebhook {
		t.Fatalf("poisoned message id %q; headers %v", id, poisoned.Header)
	}
	if poisoned.Header.Get(MetaEventID) != log[3].ID.String() || !strings.Contains(poisoned.Header.Get(middleware.ReasonForPoisonedKey), "500") {
		t.Fatalf("poisoned headers %v", poisoned.Header)
	}
	if m, err := sub.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatalf("a second poisoned message: %v", m.Header)
	}
	if a := h.attemptsOf(log[3].ID); a != 2 {
		t.Fatalf("termination posted %d times, want 1 + 1 retry", a)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
