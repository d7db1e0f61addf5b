package relay

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

func testConfig(t testing.TB) Config {
	return Config{
		CheckpointPath:  filepath.Join(t.TempDir(), "relay", "checkpoint.json"),
		PublishRetryMin: time.Millisecond,
		PublishRetryMax: 5 * time.Millisecond,
		HandlerRetryMin: time.Millisecond,
		HandlerRetryMax: 2 * time.Millisecond,
	}
}

// The relay publishes the log in order, catch-up then live, each message
// carrying its event's id, envelope and metadata.
func TestInProcessPublishesTheLogInOrder(t *testing.T) {
	s := openStore(t)
	seed(t, s, 300)
	cfg := testConfig(t)
	tr := NewInProcess(nil)
	defer tr.Close()
	msgs := collect(t, t.Context(), tr, DefaultTopic)
	r, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)

	got := receive(t, msgs, 300)
	seed(t, s, 45) // live, after the catch-up
	got = append(got, receive(t, msgs, 45)...)
	want := readAll(t, s)
	checkMessages(t, got, want)

	// Per stream, versions come 1, 2, 3… without gaps.
	next := map[string]uint64{}
	for _, m := range got {
		e, _ := EventOf(m)
		next[e.Stream]++
		if e.Version != next[e.Stream] {
			t.Fatalf("stream %s: version %d after %d", e.Stream, e.Version, next[e.Stream]-1)
		}
	}

	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after stop: %v, want context.Canceled", err)
	}
	pos, target, ok, err := ReadCheckpoint(cfg.CheckpointPath)
	if err != nil || !ok {
		t.Fatalf("checkpoint: ok=%v err=%v", ok, err)
	}
	if pos != want[len(want)-1].Position || target != "gochannel/"+DefaultTopic {
		t.Fatalf("checkpoint %s %q, want %s %q", pos, target, want[len(want)-1].Position, "gochannel/"+DefaultTopic)
	}
	st := r.Stats()
	if st.Events != 345 || st.Failures != 0 || st.Saved != pos {
		t.Fatalf("stats %+v", st)
	}
	// 345 events with a checkpoint every 256 events: far fewer writes
	// than events (the interval ticker adds a few while idle).
	if st.CheckpointWrites == 0 || st.CheckpointWrites > 345/4 {
		t.Fatalf("%d checkpoint writes for 345 events", st.CheckpointWrites)
	}
}

// A restart resumes after the checkpoint. After a clean stop nothing is
// published twice; after a crash (simulated by putting back the checkpoint
// file as it was before the final flush) exactly the events published since
// the last checkpoint write are published again, with the same ids.
func TestRestartResumesFromCheckpoint(t *testing.T) {
	s := openStore(t)
	seed(t, s, 25)
	cfg := testConfig(t)
	cfg.CheckpointEvery = 10
	cfg.CheckpointInterval = time.Hour // only count-based writes and the final flush

	run := func() (<-chan *message.Message, func() error) {
		tr := NewInProcess(nil)
		t.Cleanup(func() { _ = tr.Close() })
		msgs := collect(t, t.Context(), tr, DefaultTopic)
		r, err := New(s, tr, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return msgs, startRelay(t, r)
	}

	// First run: 25 events. The 25th reached the consumer, so the write
	// after the 20th is on disk; keep it as the state a crash would leave.
	msgs, stop := run()
	first := receive(t, msgs, 25)
	crashed, err := os.ReadFile(cfg.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	all := readAll(t, s)
	checkMessages(t, first, all)
	if pos, _, _, _ := ReadCheckpoint(cfg.CheckpointPath); pos != all[24].Position {
		t.Fatalf("after a clean stop the checkpoint is %s, want %s", pos, all[24].Position)
	}

	// Clean restart: only the new events.
	seed(t, s, 5)
	msgs, stop = run()
	second := receive(t, msgs, 5)
	all = readAll(t, s)
	checkMessages(t, second, all[25:30])
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		t.Fatalf("unexpected message %s after the new events", m.UUID)
	default:
	}

	// Crash restart: the checkpoint says 20, so 21..30 again, then what is
	// new.
	if err := os.WriteFile(cfg.CheckpointPath, crashed, 0o644); err != nil {
		t.Fatal(err)
	}
	if pos, _, _, _ := ReadCheckpoint(cfg.CheckpointPath); pos != all[19].Position {
		t.Fatalf("crash checkpoint %s, want %s", pos, all[19].Position)
	}
	seed(t, s, 3)
	msgs, stop = run()
	third := receive(t, msgs, 13)
	all = readAll(t, s)
	checkMessages(t, third, all[20:33])
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// With FromHead and no checkpoint, the relay publishes only what is
// appended after it started, and remembers that starting point.
func TestFromHeadSkipsHistoryOnFirstStart(t *testing.T) {
	s := openStore(t)
	seed(t, s, 10)
	cfg := testConfig(t)
	cfg.FromHead = true
	tr := NewInProcess(nil)
	defer tr.Close()
	msgs := collect(t, t.Context(), tr, DefaultTopic)
	r, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	history := readAll(t, s)
	waitUntil(t, "the head checkpoint", func() bool {
		pos, _, ok, _ := ReadCheckpoint(cfg.CheckpointPath)
		return ok && pos == history[9].Position
	})
	seed(t, s, 4)
	got := receive(t, msgs, 4)
	checkMessages(t, got, readAll(t, s)[10:])
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// A publisher that refuses some attempts delays events but never loses or
// reorders one.
func TestPublishFailuresAreRetriedNeverSkipped(t *testing.T) {
	s := openStore(t)
	seed(t, s, 30)
	want := readAll(t, s)
	tr := NewInProcess(nil)
	defer tr.Close()
	msgs := collect(t, t.Context(), tr, DefaultTopic)
	f := &flaky{next: tr, attempts: map[string]int{}, failures: map[string]int{
		want[0].ID.String():  2,
		want[13].ID.String(): 5,
		want[29].ID.String(): 1,
	}}
	r, err := New(s, f, testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	got := receive(t, msgs, 30)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	checkMessages(t, got, want)
	st := r.Stats()
	if st.Failures != 8 || st.LastFailure != "broker unavailable" {
		t.Fatalf("stats %+v, want 8 failures", st)
	}
}

// Publishing in-process before anything subscribed is refused and retried,
// so the first event is not dropped the way a bare GoChannel drops it.
func TestInProcessWaitsForASubscriber(t *testing.T) {
	s := openStore(t)
	seed(t, s, 5)
	tr := NewInProcess(nil)
	defer tr.Close()
	r, err := New(s, tr, testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	waitUntil(t, "a refused publish", func() bool { return r.Stats().Failures > 0 })
	if !strings.Contains(r.Stats().LastFailure, ErrNoSubscriber.Error()) {
		t.Fatalf("last failure %q", r.Stats().LastFailure)
	}
	msgs := collect(t, t.Context(), tr, DefaultTopic)
	got := receive(t, msgs, 5)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	checkMessages(t, got, readAll(t, s))
}

// A subscriber that goes away before acknowledging makes the publish fail,
// so the checkpoint does not pass the event.
func TestInProcessSubscriberGoneIsAnError(t *testing.T) {
	tr := NewInProcess(nil)
	defer tr.Close()
	ctx, cancel := context.WithCancel(t.Context())
	in, err := tr.Subscribe(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		<-in // take the message, never acknowledge it, leave
		cancel()
	}()
	err = tr.Publish("t", message.NewMessage("m1", []byte("{}")))
	if !errors.Is(err, ErrSubscriberGone) {
		t.Fatalf("publish to a subscriber that left: %v, want ErrSubscriberGone", err)
	}
	if err := tr.Publish("t", message.NewMessage("m2", []byte("{}"))); !errors.Is(err, ErrNoSubscriber) {
		t.Fatalf("publish with no subscriber: %v, want ErrNoSubscriber", err)
	}
	_ = tr.Close()
	if err := tr.Publish("t", message.NewMessage("m3", []byte("{}"))); err == nil {
		t.Fatal("publish after Close succeeded")
	}
}

// A checkpoint written for another destination stops the relay with an
// error that says what to do.
func TestCheckpointOfAnotherDestinationIsRefused(t *testing.T) {
	s := openStore(t)
	cfg := testConfig(t)
	if err := os.MkdirAll(filepath.Dir(cfg.CheckpointPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeCheckpoint(cfg.CheckpointPath, checkpointRecord{Position: eventstore.Position{Commit: 7, Prepare: 7}, Target: "nats:ZHAOSHANG_EVENTS/zhaoshang.events"}); err != nil {
		t.Fatal(err)
	}
	r, err := New(s, NewInProcess(nil), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Run(t.Context())
	if !errors.Is(err, ErrCheckpointTarget) || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("Run: %v, want ErrCheckpointTarget", err)
	}
	if err := r.Run(t.Context()); !errors.Is(err, ErrCheckpointTarget) {
		t.Fatalf("second Run: %v", err)
	}
}

func TestRunTwiceAtOnceIsRefused(t *testing.T) {
	s := openStore(t)
	tr := NewInProcess(nil)
	defer tr.Close()
	r, err := New(s, tr, testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	waitUntil(t, "the first run", func() bool { return r.running.Load() })
	if err := r.Run(t.Context()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// The checkpoint file is replaced atomically and leaves no temporary file.
func TestCheckpointFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp.json")
	if _, _, ok, err := ReadCheckpoint(path); ok || err != nil {
		t.Fatalf("missing file: ok=%v err=%v", ok, err)
	}
	for i := uint64(1); i <= 3; i++ {
		rec := checkpointRecord{Position: eventstore.Position{Commit: i * 10, Prepare: i}, Target: "gochannel/x"}
		if err := writeCheckpoint(path, rec); err != nil {
			t.Fatal(err)
		}
		pos, target, ok, err := ReadCheckpoint(path)
		if err != nil || !ok || pos != rec.Position || target != rec.Target {
			t.Fatalf("read back %v %q %v %v, want %v", pos, target, ok, err, rec)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the checkpoint", len(entries))
	}
	b, _ := os.ReadFile(path)
	if string(b) != `{"position":"30-3","target":"gochannel/x"}`+"\n" {
		t.Fatalf("file %q", b)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ReadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt checkpoint: %v", err)
	}
}

// dropping is a log whose subscription fails once after delivering some
// events, as a network store's does when its connection drops.
type dropping struct {
	eventstore.Store
	after int
	drops int
}

var errDropped = errors.New("connection reset by peer")

func (d *dropping) Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error {
	n := 0
	err := d.Store.Subscribe(ctx, after, func(e eventstore.Event) error {
		if d.drops == 0 && n == d.after {
			d.drops++
			return errDropped
		}
		n++
		return h(e)
	})
	return err
}

// A failed subscription is resumed after the last event published: nothing
// skipped, nothing repeated.
func TestLogFailureIsResumed(t *testing.T) {
	s := openStore(t)
	seed(t, s, 40)
	tr := NewInProcess(nil)
	defer tr.Close()
	msgs := collect(t, t.Context(), tr, DefaultTopic)
	log := &dropping{Store: s, after: 17}
	r, err := New(log, tr, testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := startRelay(t, r)
	got := receive(t, msgs, 40)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	checkMessages(t, got, readAll(t, s))
	if log.drops != 1 {
		t.Fatalf("%d drops", log.drops)
	}
	select {
	case m := <-msgs:
		t.Fatalf("message %s repeated", m.UUID)
	default:
	}
}

// A checkpoint that cannot be written stops the relay with the error: the
// disk needs an operator, and running on would only grow the repeats.
func TestCheckpointWriteFailureStopsTheRelay(t *testing.T) {
	s := openStore(t)
	seed(t, s, 3)
	cfg := testConfig(t)
	cfg.CheckpointEvery = 1
	tr := NewInProcess(nil)
	defer tr.Close()
	msgs := collect(t, t.Context(), tr, DefaultTopic)
	r, err := New(s, tr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(t.Context()) }()
	receive(t, msgs, 3)
	waitUntil(t, "the third checkpoint", func() bool { return r.Stats().CheckpointWrites == 3 })
	// The checkpoint's directory becomes a file.
	dir := filepath.Dir(cfg.CheckpointPath)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	seed(t, s, 1)
	receive(t, msgs, 1)
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "checkpoint") {
			t.Fatalf("Run: %v, want the checkpoint error", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("hang guard: the relay kept running without its checkpoint")
	}
}

// TestCheckpointAheadOfTheLogIsRefused: a checkpoint past the log's head
// (a store restored from an older backup) would skip every event recorded
// up to it; the relay refuses to start and says what to do.
func TestCheckpointAheadOfTheLogIsRefused(t *testing.T) {
	s := openStore(t)
	cfg := testConfig(t)
	if err := os.MkdirAll(filepath.Dir(cfg.CheckpointPath), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := New(s, NewInProcess(nil), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeCheckpoint(cfg.CheckpointPath, checkpointRecord{Position: eventstore.Position{Commit: 50, Prepare: 50}, Target: r.cfg.target()}); err != nil {
		t.Fatal(err)
	}
	if err := r.Run(t.Context()); !errors.Is(err, ErrCheckpointAhead) || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("Run with a checkpoint past the head: %v, want ErrCheckpointAhead", err)
	}
}
