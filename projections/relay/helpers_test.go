package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
)

// hangGuard bounds every wait of these tests. It is not a performance
// threshold: it only turns a hang into a failure that says what was awaited.
const hangGuard = 60 * time.Second

var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

var centre = eventstore.Actor{Subject: "centre-officer", Role: "centre"}

func openStore(t testing.TB) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newEvent(t *testing.T, ev domain.Event) eventstore.NewEvent {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.NewEvent{
		ID:            uuid.New(),
		Type:          ev.EventType(),
		Data:          data,
		OccurredAt:    ev.Occurred(),
		Actor:         centre,
		CommandID:     uuid.NewString(),
		CorrelationID: "corr-" + uuid.NewString(),
	}
}

func appendEvents(t *testing.T, s eventstore.Store, stream string, evs ...domain.Event) {
	t.Helper()
	batch := make([]eventstore.NewEvent, len(evs))
	for i, ev := range evs {
		batch[i] = newEvent(t, ev)
	}
	if _, err := s.Append(context.Background(), stream, eventstore.Any(), batch); err != nil {
		t.Fatal(err)
	}
}

// seed appends n project events spread over several project streams, in
// appends of one to three events, the streams interleaved in the log.
func seed(t *testing.T, s eventstore.Store, n int) {
	t.Helper()
	projects := make([]string, 7)
	for i := range projects {
		projects[i] = uuid.NewString()
	}
	reported := map[string]bool{}
	for i := 0; i < n; {
		p := projects[i%len(projects)]
		size := min(1+i%3, n-i)
		evs := make([]domain.Event, 0, size)
		for range size {
			at := t0.Add(time.Duration(i) * time.Hour)
			if !reported[p] {
				reported[p] = true
				evs = append(evs, domain.ProjectReported{
					ProjectID: p, Name: "嘉兴新能源电池项目 " + p[:8], Unit: "nanhu",
					Investor:      domain.Investor{Name: "宁德示例新能源有限公司"},
					IndustryChain: "new_energy", PlannedInvestment: domain.Yuan(1_200_000_000),
					OccurredAt: at,
				})
			} else {
				evs = append(evs, domain.NegotiationRecorded{
					ProjectID: p, OccurredAt: at, LeaderLevel: "principal", Summary: fmt.Sprintf("第%d轮洽谈", i),
				})
			}
			i++
		}
		appendEvents(t, s, "project-"+p, evs...)
	}
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// collect subscribes to topic and passes on every message, acknowledged.
func collect(t *testing.T, ctx context.Context, sub Transport, topic string) <-chan *message.Message {
	t.Helper()
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan *message.Message, 100_000)
	go func() {
		for m := range msgs {
			out <- m
			m.Ack()
		}
	}()
	return out
}

func receive(t *testing.T, ch <-chan *message.Message, n int) []*message.Message {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	got := make([]*message.Message, 0, n)
	for len(got) < n {
		select {
		case m := <-ch:
			got = append(got, m)
		case <-guard.C:
			t.Fatalf("received %d of %d messages before the hang guard", len(got), n)
		}
	}
	return got
}

// startRelay runs r until the returned stop is called; stop returns Run's
// error.
func startRelay(t *testing.T, r *Relay) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("hang guard: still waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkMessages requires msgs to be the relay messages of want, in order.
func checkMessages(t *testing.T, msgs []*message.Message, want []eventstore.Event) {
	t.Helper()
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		w := want[i]
		if m.UUID != w.ID.String() {
			t.Fatalf("message %d: id %s, want event id %s (position %s)", i, m.UUID, w.ID, w.Position)
		}
		e, err := EventOf(m)
		if err != nil {
			t.Fatal(err)
		}
		if e.Position != w.Position || e.Hash != w.Hash || e.Stream != w.Stream || e.Version != w.Version || string(e.Data) != string(w.Data) {
			t.Fatalf("message %d: payload %+v, want %+v", i, e, w)
		}
		meta := map[string]string{
			MetaType: w.Type, MetaStream: w.Stream, MetaVersion: fmt.Sprint(w.Version),
			MetaPosition: w.Position.String(), MetaCorrelationID: w.CorrelationID,
			MetaCommandID: w.CommandID, MetaOccurredAt: w.OccurredAt.Format(time.RFC3339Nano),
			MetaRecordedAt: w.RecordedAt.Format(time.RFC3339Nano),
		}
		for k, v := range meta {
			if got := m.Metadata.Get(k); got != v {
				t.Fatalf("message %d: metadata %s = %q, want %q", i, k, got, v)
			}
		}
	}
}

// flaky fails the first attempts of chosen events, then passes them on.
type flaky struct {
	next     Publisher
	failures map[string]int
	attempts map[string]int
}

func (f *flaky) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		f.attempts[m.UUID]++
		if f.attempts[m.UUID] <= f.failures[m.UUID] {
			return errors.New("broker unavailable")
		}
	}
	return f.next.Publish(topic, msgs...)
}
