package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

const benchEvents = 20_000

// benchStore holds benchEvents negotiation events of 200 projects, appended
// 100 at a time (the benchmark measures reading and publishing, not
// appending).
func benchStore(b *testing.B) eventstore.Store {
	s := openStore(b)
	for i := 0; i < benchEvents; i += 100 {
		project := uuid.NewString()
		batch := make([]eventstore.NewEvent, 100)
		for j := range batch {
			at := t0.Add(time.Duration(i+j) * time.Minute)
			data, _ := json.Marshal(domain.NegotiationRecorded{
				ProjectID: project, OccurredAt: at, LeaderLevel: "deputy",
				Participants: []string{"招商局", "投资方"}, Summary: fmt.Sprintf("第%d轮洽谈：用地、能耗指标与设备进口", j+1),
			})
			batch[j] = eventstore.NewEvent{ID: uuid.New(), Type: domain.TypeNegotiationRecorded, Data: data, OccurredAt: at,
				Actor: centre, CommandID: uuid.NewString(), CorrelationID: uuid.NewString()}
		}
		if _, err := s.Append(context.Background(), "project-"+project, eventstore.Any(), batch); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// subscribePass reads the whole log through Subscribe, the floor cost of
// any relay.
func subscribePass(b *testing.B, s eventstore.Store) time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	start := time.Now()
	_ = s.Subscribe(ctx, eventstore.Start, func(eventstore.Event) error {
		if n++; n == benchEvents {
			cancel()
		}
		return nil
	})
	if n != benchEvents {
		b.Fatalf("subscribed to %d events", n)
	}
	return time.Since(start)
}

// relayPass publishes the whole log with a fresh checkpoint and waits until
// the consumer (in-process) or the broker (NATS) has all of it.
func relayPass(b *testing.B, s eventstore.Store, cfg Config) time.Duration {
	cfg.CheckpointPath = filepath.Join(b.TempDir(), "cp.json")
	tr, err := OpenTransport(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kind, _ := cfg.kind()
	if kind == kindInProcess {
		msgs, err := tr.Subscribe(ctx, cfg.WithDefaults().Topic)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for m := range msgs {
				m.Ack()
			}
		}()
	}
	r, err := New(s, tr, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for r.Stats().Events < benchEvents {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	return elapsed
}

// BenchmarkRelay publishes a 20k-event log and reports events/s beside a
// plain Subscribe pass over the same log in the same run (the ratio is the
// share of the floor throughput the relay keeps). The NATS case publishes
// synchronously (one JetStream acknowledgement per event, which is what
// keeps the order) and is skipped without a server. Run with
// -benchtime=1x: one iteration is a whole log.
func BenchmarkRelay(b *testing.B) {
	s := benchStore(b)
	cases := []struct {
		name string
		cfg  func(b *testing.B) Config
	}{
		{"gochannel", func(b *testing.B) Config { return testConfig(b) }},
		{"nats", func(b *testing.B) Config { cfg, _ := natsConfig(b); return cfg }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var base, relay time.Duration
			iters := 0
			for b.Loop() {
				base += subscribePass(b, s)
				cfg := c.cfg(b)
				relay += relayPass(b, s, cfg)
				iters++
			}
			events := float64(benchEvents * iters)
			b.ReportMetric(events/relay.Seconds(), "events/s")
			b.ReportMetric(events/base.Seconds(), "subscribe-events/s")
			b.ReportMetric(base.Seconds()/relay.Seconds(), "ratio-to-subscribe")
		})
	}
}
