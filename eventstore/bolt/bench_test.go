package bolt_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
)

// Every benchmark reports its rate beside a ceiling measured in the same
// run, on the same disk, so the ratio means something on any machine.

// benchData is a typical event payload: a project report with Chinese text.
const benchData = `{"project_id":"9b1f4e2c-6a53-4d0e-9a51-3c7d2f1b8e40","name":"嘉兴经济技术开发区新能源汽车零部件项目",` +
	`"stage":"reported","investor":"浙江某某新能源科技有限公司","industry_chain":"新能源汽车","planned_investment":"1200000000.00",` +
	`"unit":"jx-etdz","note":"首报首谈，项目方已完成实地考察。"}`

func benchEvent() eventstore.NewEvent {
	return eventstore.NewEvent{
		ID:            uuid.New(),
		Type:          "ProjectReported",
		Data:          []byte(benchData),
		OccurredAt:    time.Now(),
		Actor:         eventstore.Actor{Subject: "u-1024", Role: "officer", Unit: "jx-etdz"},
		CommandID:     "c-" + uuid.NewString(),
		CorrelationID: "r-" + uuid.NewString(),
	}
}

func benchEvents(n int) []eventstore.NewEvent {
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		out[i] = benchEvent()
	}
	return out
}

func benchOpen(b *testing.B, dir string) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// The disk here is shared and its fsync rate drifts by a factor of two
// within a minute, so each benchmark measures its rate and its ceilings in
// interleaved rounds: both see the same disk, and their ratio is stable even
// when the absolute figures are not.
const rounds = 8

// meter accumulates the operations and time of one contender.
type meter struct {
	ops     int
	elapsed time.Duration
}

func (m *meter) run(ops int, f func()) {
	start := time.Now()
	f()
	m.elapsed += time.Since(start)
	m.ops += ops
}

func (m *meter) rate() float64 { return float64(m.ops) / m.elapsed.Seconds() }

// split divides n operations into rounds parts (the first ones larger).
func split(n, i int) int {
	k := n / rounds
	if i < n%rounds {
		k++
	}
	return k
}

// fsyncLoop appends a record the size of an event to a file and fsyncs it,
// n times: what one durable write costs on this disk, the ceiling of any
// store that makes each append durable alone.
type fsyncLoop struct{ f *os.File }

func newFsyncLoop(b *testing.B, dir string) *fsyncLoop {
	f, err := os.OpenFile(filepath.Join(dir, "fsync.bin"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return &fsyncLoop{f}
}

func (l *fsyncLoop) do(b *testing.B, n int) {
	rec := make([]byte, 512)
	for range n {
		if _, err := l.f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := l.f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// bareBolt is bbolt with nothing of this store: records of an event's size
// put under growing keys.
type bareBolt struct {
	db  *bbolt.DB
	seq atomic.Uint64
	val []byte
}

func newBareBolt(b *testing.B, dir, name string) *bareBolt {
	db, err := bbolt.Open(filepath.Join(dir, name), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("log")); return err }); err != nil {
		b.Fatal(err)
	}
	return &bareBolt{db: db, val: make([]byte, 512)}
}

func (bb *bareBolt) put(tx *bbolt.Tx, per int) error {
	bk := tx.Bucket([]byte("log"))
	for range per {
		if err := bk.Put(binary.BigEndian.AppendUint64(nil, bb.seq.Add(1)), bb.val); err != nil {
			return err
		}
	}
	return nil
}

// updates runs n Update transactions of per puts each, one after another.
func (bb *bareBolt) updates(b *testing.B, n, per int) {
	for range n {
		if err := bb.db.Update(func(tx *bbolt.Tx) error { return bb.put(tx, per) }); err != nil {
			b.Fatal(err)
		}
	}
}

// batches runs n single-put transactions through db.Batch from writers
// goroutines.
func (bb *bareBolt) batches(b *testing.B, n, writers int) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := bb.db.Batch(func(tx *bbolt.Tx) error { return bb.put(tx, 1) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkAppendSequential: one writer, one event per append, each waiting
// for its commit; against a bare write+fsync loop and bare bbolt Update
// transactions of one put, the same number of each.
func BenchmarkAppendSequential(b *testing.B) {
	dir := b.TempDir()
	s := benchOpen(b, dir)
	fsync, bare := newFsyncLoop(b, dir), newBareBolt(b, dir, "bare.db")
	ctx := context.Background()
	evs := benchEvents(b.N)
	var mStore, mFsync, mBare meter
	b.ResetTimer()
	for r, done := 0, 0; r < rounds; r++ {
		k := split(b.N, r)
		mStore.run(k, func() {
			for i := done; i < done+k; i++ {
				if _, err := s.Append(ctx, fmt.Sprintf("p-%d", i%100), eventstore.Any(), evs[i:i+1]); err != nil {
					b.Fatal(err)
				}
			}
		})
		done += k
		b.StopTimer()
		mFsync.run(k, func() { fsync.do(b, k) })
		mBare.run(k, func() { bare.updates(b, k, 1) })
		b.StartTimer()
	}
	b.ReportMetric(mStore.rate(), "appends/s")
	b.ReportMetric(mFsync.rate(), "fsync/s")
	b.ReportMetric(mStore.rate()/mFsync.rate(), "ratio_to_fsync")
	b.ReportMetric(mBare.rate(), "bbolt_update/s")
	b.ReportMetric(mStore.rate()/mBare.rate(), "ratio_to_bbolt_update")
}

// BenchmarkAppendConcurrent64: 64 writers, one event per append, each to its
// own stream with an exact expected version; against bbolt's own Batch with
// 64 writers putting records of the same size.
func BenchmarkAppendConcurrent64(b *testing.B) {
	const writers = 64
	dir := b.TempDir()
	s := benchOpen(b, dir)
	bare := newBareBolt(b, dir, "batch.db")
	evs := benchEvents(b.N)
	versions := make([]uint64, writers)
	// bbolt's Batch waits on its 10 ms timer, so it is slow: it gets a
	// quarter as many operations, plenty for a steady rate.
	batchOps := max(b.N/4, writers)
	var mStore, mBatch meter
	b.ResetTimer()
	for r, done := 0, 0; r < rounds; r++ {
		k := split(b.N, r)
		mStore.run(k, func() {
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			for w := range writers {
				wg.Go(func() {
					stream := fmt.Sprintf("writer-%d", w)
					for {
						i := next.Add(1) - 1
						if i >= int64(k) {
							return
						}
						res, err := s.Append(context.Background(), stream, eventstore.Exact(versions[w]), evs[done+int(i):done+int(i)+1])
						if err != nil {
							b.Error(err)
							return
						}
						versions[w] = res.Version
					}
				})
			}
			wg.Wait()
		})
		done += k
		b.StopTimer()
		kb := split(batchOps, r)
		mBatch.run(kb, func() { bare.batches(b, kb, writers) })
		b.StartTimer()
	}
	b.ReportMetric(mStore.rate(), "appends/s")
	b.ReportMetric(mBatch.rate(), "bbolt_batch/s")
	b.ReportMetric(mStore.rate()/mBatch.rate(), "ratio_to_bbolt_batch")
}

// BenchmarkAppendBatched100: one writer, 100 events per append; against bare
// bbolt Update transactions of 100 puts of the same size.
func BenchmarkAppendBatched100(b *testing.B) {
	const per = 100
	dir := b.TempDir()
	s := benchOpen(b, dir)
	bare := newBareBolt(b, dir, "bare.db")
	ctx := context.Background()
	batches := make([][]eventstore.NewEvent, b.N)
	for i := range batches {
		batches[i] = benchEvents(per)
	}
	var mStore, mBare meter
	b.ResetTimer()
	for r, done := 0, 0; r < rounds; r++ {
		k := split(b.N, r)
		mStore.run(k*per, func() {
			for i := done; i < done+k; i++ {
				if _, err := s.Append(ctx, fmt.Sprintf("import-%d", i%10), eventstore.Any(), batches[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
		done += k
		b.StopTimer()
		mBare.run(k*per, func() { bare.updates(b, k, per) })
		b.StartTimer()
	}
	b.ReportMetric(mStore.rate(), "events/s")
	b.ReportMetric(mBare.rate(), "bare_update_events/s")
	b.ReportMetric(mStore.rate()/mBare.rate(), "ratio_to_bare_update")
}

// BenchmarkReadAll1M: read the whole log of 1M events through ReadAll in
// pages of 4096, as a rebuild does; against a raw bbolt cursor walk that
// copies every record out and decodes nothing.
func BenchmarkReadAll1M(b *testing.B) {
	const total, per, loaders = 1_000_000, 1000, 4
	dir := b.TempDir()
	s := benchOpen(b, dir)
	ctx := context.Background()
	buildStart := time.Now()
	var wg sync.WaitGroup
	for l := range loaders {
		wg.Go(func() {
			for i := range total / per / loaders {
				if _, err := s.Append(ctx, fmt.Sprintf("load-%d-%d", l, i%50), eventstore.Any(), benchEvents(per)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	b.Logf("built %d events in %s (%.0f events/s in appends of %d from %d writers)", total, time.Since(buildStart).Round(time.Millisecond),
		total/time.Since(buildStart).Seconds(), per, loaders)

	rawStart := time.Now()
	var rawN int
	var buf []byte
	err := bolt.DB(s).View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("log")).ForEach(func(_, v []byte) error {
			buf = append(buf[:0], v...)
			rawN++
			return nil
		})
	})
	if err != nil || rawN != total {
		b.Fatalf("raw walk: %d records, %v", rawN, err)
	}
	rawRate := float64(rawN) / time.Since(rawStart).Seconds()

	var read int
	for b.Loop() {
		read = 0
		after := eventstore.Start
		for {
			evs, err := s.ReadAll(ctx, after, 4096)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			read += len(evs)
			after = evs[len(evs)-1].Position
		}
		if read != total {
			b.Fatalf("read %d events, want %d", read, total)
		}
	}
	rate := float64(b.N*total) / b.Elapsed().Seconds()

	// Reopening rebuilds the in-memory stream and id indexes from the log.
	path := filepath.Join(dir, "events.db")
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	openStart := time.Now()
	s2, err := bolt.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	openTime := time.Since(openStart)
	runtime.GC()
	runtime.ReadMemStats(&after)
	s2.Close()

	b.ReportMetric(openTime.Seconds(), "open_1M_s")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/total, "index_B/event")
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(rawRate, "raw_cursor_records/s")
	b.ReportMetric(rate/rawRate, "ratio_to_raw_cursor")
}
