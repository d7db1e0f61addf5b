package commands_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// BenchmarkHandle measures command handling — authorise, load and fold the
// project stream, consult the cached policy, decide, append with the expected
// version — on the embedded store, and beside it, in the same run on the same
// store, bare appends of the same events with no expected version. The ratio
// (commands/s ÷ appends/s) is the cost of the write path over the store's
// floor. Each project receives at most 32 commands, so its stream stays the
// length of a real project's, whatever b.N is.
//
// serial: one caller; parallel: 16 callers, so the store's group commit
// shares fsyncs among them (as it does for concurrent HTTP requests).
func BenchmarkHandle(b *testing.B) {
	for _, callers := range []int{1, 16} {
		name := "serial"
		if callers > 1 {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) { benchHandle(b, callers) })
	}
}

func benchHandle(b *testing.B, callers int) {
	f := newFixture(b).setup()
	const perProject = 32
	ids := make([]string, (b.N+perProject-1)/perProject)
	for i := range ids {
		ids[i] = f.signed(investor(i))
	}
	cmd := func(i int) commands.RecordFunds {
		return commands.RecordFunds{ProjectID: ids[i%len(ids)], OccurredAt: t0, Amount: domain.Yuan(int64(1000 + i)),
			Source: domain.FundsDomestic, Meta: as(staffA)}
	}

	// The same events, encoded and enveloped beforehand, appended bare.
	bare := make([]eventstore.NewEvent, b.N)
	for i := range bare {
		c := cmd(i)
		data, err := domain.Encode(domain.FundsArrived{ProjectID: c.ProjectID, OccurredAt: c.OccurredAt, Amount: c.Amount, Source: c.Source})
		if err != nil {
			b.Fatal(err)
		}
		bare[i] = eventstore.NewEvent{ID: uuid.New(), Type: domain.TypeFundsArrived, Data: data, OccurredAt: c.OccurredAt,
			Actor: staffA, CommandID: uuid.NewString()}
	}

	// Commands and bare appends alternate in rounds, so a change in the
	// machine's load (it is shared) weighs on both sides of the ratio alike.
	const rounds = 8
	var handled, appended time.Duration
	b.ResetTimer()
	for r := range rounds {
		lo, hi := b.N*r/rounds, b.N*(r+1)/rounds
		b.StartTimer()
		start := time.Now()
		spread(hi-lo, callers, func(i int) {
			if _, err := f.app.RecordFunds.Handle(f.ctx, cmd(lo+i)); err != nil {
				b.Error(err)
			}
		})
		handled += time.Since(start)
		b.StopTimer()
		start = time.Now()
		spread(hi-lo, callers, func(i int) {
			stream := "bench-" + strconv.Itoa((lo+i)%len(ids))
			if _, err := f.store.Append(f.ctx, stream, eventstore.Any(), bare[lo+i:lo+i+1]); err != nil {
				b.Error(err)
			}
		})
		appended += time.Since(start)
	}

	cmdRate := float64(b.N) / handled.Seconds()
	appendRate := float64(b.N) / appended.Seconds()
	b.ReportMetric(cmdRate, "cmds/s")
	b.ReportMetric(appendRate, "appends/s")
	b.ReportMetric(cmdRate/appendRate, "ratio")
}

// spread runs do(0) … do(n-1) on callers goroutines.
func spread(n, callers int, do func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				do(i)
			}
		})
	}
	wg.Wait()
}
