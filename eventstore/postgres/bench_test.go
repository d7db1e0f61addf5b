package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
	"github.com/zhaoshang/zhaoshang/internal/pgtest"
)

// Every benchmark measures the store beside a ceiling measured in the same
// run, on the same database, through the same connection pool: the same
// work done with the least SQL PostgreSQL allows, into a table created
// LIKE zhaoshang.events (same columns, defaults, constraints and
// indexes). The ratio store/ceiling is reported as "x_ceiling".
//
//	go test -run '^$' -bench . -benchtime 20000x ./eventstore/postgres/
//
// The read benchmark fills its log once per run; -benchtime 1x reads it
// once.

// benchData is a realistic payload: a project report in Chinese, ~400
// bytes of JSON.
var benchData = json.RawMessage(`{"project_id":"p-00000000","name":"嘉兴经济技术开发区新能源汽车零部件产业园项目","stage":"首报首谈",` +
	`"investor":"浙江某某新能源科技有限公司","amount_cny":"1500000000.00","industry":"新能源汽车","unit":"招商局",` +
	`"note":"项目进展顺利，已完成首轮洽谈，拟于下月签约。"}`)

func benchEvent() eventstore.NewEvent {
	return eventstore.NewEvent{
		ID:            uuid.New(),
		Type:          "ProjectReported",
		Data:          benchData,
		OccurredAt:    time.Now(),
		Actor:         eventstore.Actor{Subject: "u-1024", Role: "officer", Unit: "招商局"},
		CommandID:     uuid.NewString(),
		CorrelationID: uuid.NewString(),
		CausationID:   uuid.NewString(),
	}
}

// benchStore opens a store with conns connections on a fresh database and
// creates the ceiling's table beside its events table.
func benchStore(b *testing.B, conns int32, opts ...postgres.Option) *postgres.Store {
	b.Helper()
	s := open(b, pgtest.New(b), append([]postgres.Option{postgres.WithMaxConns(conns)}, opts...)...)
	if _, err := s.Pool().Exec(context.Background(), `CREATE SCHEMA bench;
		CREATE TABLE bench.events (LIKE zhaoshang.events INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	return s
}

// bareInsertSQL is the ceiling of a single-event append: one single-row
// INSERT that is its own transaction, one round trip.
const bareInsertSQL = `INSERT INTO bench.events (event_id, stream, version, type, data, occurred_at, recorded_at,
	actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

var dummyHash = strings.Repeat("ab", 32)

// pgUUID sends an id as 16 binary bytes, as the store does; uuid.UUID's
// driver.Valuer would send text.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

func bareInsert(ctx context.Context, pool *pgxpool.Pool, stream string, version int64) error {
	e := benchEvent()
	now := eventstore.NormalizeTime(time.Now())
	_, err := pool.Exec(ctx, bareInsertSQL, pgUUID(e.ID), stream, version, e.Type, []byte(e.Data), eventstore.NormalizeTime(e.OccurredAt), now,
		e.Actor.Subject, e.Actor.Role, e.Actor.Unit, e.CommandID, e.CorrelationID, e.CausationID, dummyHash, dummyHash)
	return err
}

// runClients runs n operations spread over clients goroutines, each client
// numbering its own operations from 1, and returns the wall time.
func runClients(b *testing.B, clients, n int, op func(client, seq int) error) time.Duration {
	b.Helper()
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Pointer[error]
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for seq := 1; next.Add(1) <= int64(n); seq++ {
				if err := op(c, seq); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return d
}

// compareRounds is how many slices compare cuts a run into.
const compareRounds = 8

// compare runs the ceiling and the store for b.N operations each, cut into
// slices that alternate which of the two goes first, so that the load of a
// shared machine, the growing WAL and table, checkpoints and autovacuum
// fall on both alike. It times only the store with b's timer and reports
// both rates and their ratio. perOp is how many events one operation
// writes or reads.
func compare(b *testing.B, unit string, perOp int, ceiling, store func(n int) time.Duration) {
	b.Helper()
	var ceil, mine time.Duration
	runCeiling := func(n int) {
		b.StopTimer()
		ceil += ceiling(n)
		b.StartTimer()
	}
	rounds := min(compareRounds, b.N)
	b.ResetTimer()
	for r := range rounds {
		n := b.N/rounds + btoi(r < b.N%rounds)
		if r%2 == 0 {
			runCeiling(n)
			mine += store(n)
		} else {
			mine += store(n)
			runCeiling(n)
		}
	}
	b.StopTimer()
	events := float64(b.N * perOp)
	b.ReportMetric(events/mine.Seconds(), unit)
	b.ReportMetric(events/ceil.Seconds(), "ceiling_"+unit)
	b.ReportMetric(ceil.Seconds()/mine.Seconds(), "x_ceiling")
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// Single-event appends from 64 concurrent clients, each to its own stream
// with an exact expected version, against 64 clients each running a bare
// single-row INSERT transaction.
func BenchmarkAppend64Clients(b *testing.B) {
	benchAppendClients(b, 64)
}

// The same without the head cache: every append reads its stream's last
// event before the INSERT, as a process does for a stream it has not
// written or read yet.
func BenchmarkAppend64ClientsNoHeadCache(b *testing.B) {
	benchAppendClients(b, 64, postgres.WithHeadCacheSize(0))
}

// Single-event appends from one client against a bare INSERT loop.
func BenchmarkAppendSequential(b *testing.B) {
	benchAppendClients(b, 1)
}

func benchAppendClients(b *testing.B, clients int, opts ...postgres.Option) {
	s := benchStore(b, int32(clients), opts...)
	ctx := context.Background()
	var round atomic.Int64
	compare(b, "appends/s", 1,
		func(n int) time.Duration {
			r := round.Add(1)
			return runClients(b, clients, n, func(c, seq int) error {
				return bareInsert(ctx, s.Pool(), fmt.Sprintf("bare-%d-%d", r, c), int64(seq))
			})
		},
		func(n int) time.Duration {
			r := round.Add(1)
			return runClients(b, clients, n, func(c, seq int) error {
				_, err := s.Append(ctx, fmt.Sprintf("project-%d-%d", r, c), eventstore.Exact(uint64(seq-1)), []eventstore.NewEvent{benchEvent()})
				return err
			})
		})
}

// Appends of 100 events each from 8 concurrent clients, against 8 clients
// each COPYing 100 rows per transaction, PostgreSQL's fastest bulk path.
func BenchmarkAppendBatched100(b *testing.B) {
	const clients, per = 8, 100
	s := benchStore(b, clients)
	ctx := context.Background()
	var round atomic.Int64
	compare(b, "events/s", per,
		func(n int) time.Duration {
			r := round.Add(1)
			return runClients(b, clients, n, func(c, seq int) error {
				rows := make([][]any, per)
				now := eventstore.NormalizeTime(time.Now())
				stream := fmt.Sprintf("bare-%d-%d", r, c)
				for i := range rows {
					e := benchEvent()
					rows[i] = []any{pgUUID(e.ID), stream, int64((seq-1)*per + i + 1), e.Type, []byte(e.Data), eventstore.NormalizeTime(e.OccurredAt), now,
						e.Actor.Subject, e.Actor.Role, e.Actor.Unit, e.CommandID, e.CorrelationID, e.CausationID, dummyHash, dummyHash}
				}
				_, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"bench", "events"}, copyColumns, pgx.CopyFromRows(rows))
				return err
			})
		},
		func(n int) time.Duration {
			r := round.Add(1)
			return runClients(b, clients, n, func(c, seq int) error {
				evs := make([]eventstore.NewEvent, per)
				for i := range evs {
					evs[i] = benchEvent()
				}
				_, err := s.Append(ctx, fmt.Sprintf("batch-%d-%d", r, c), eventstore.Exact(uint64((seq-1)*per)), evs)
				return err
			})
		})
}

var copyColumns = []string{"event_id", "stream", "version", "type", "data", "occurred_at", "recorded_at",
	"actor_subject", "actor_role", "actor_unit", "command_id", "correlation_id", "causation_id", "prev_hash", "hash"}

// readAllEvents is the size of the log the read benchmark reads.
const readAllEvents = 1_000_000

// Reading the whole global log through ReadAll in pages of 4096, decoded
// into events, against the same paged query whose rows are only received
// (pgx's raw values, no decoding): the ceiling of any reader.
func BenchmarkReadAll(b *testing.B) {
	s := benchStore(b, 4)
	ctx := context.Background()
	fillLog(b, s, readAllEvents)
	const page = 4096
	readRaw := func() int {
		var (
			n     int
			after eventstore.Position
		)
		for {
			rows, err := s.Pool().Query(ctx, `SELECT global_position, tx_id, event_id, stream, version, type, data, occurred_at, recorded_at,
				actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash
				FROM zhaoshang.events
				WHERE (tx_id, global_position) > ($1::xid8, $2::bigint) AND tx_id < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
				ORDER BY tx_id, global_position LIMIT $3`, after.Commit, int64(after.Prepare), page)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			var last []byte
			var lastTx []byte
			for rows.Next() {
				raw := rows.RawValues()
				last, lastTx = raw[0], raw[1]
				got++
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			if got == 0 {
				return n
			}
			n += got
			// Binary int8 and xid8: big-endian 64-bit integers.
			after = eventstore.Position{Commit: be64(lastTx), Prepare: be64(last)}
		}
	}
	readStore := func() int {
		var (
			n     int
			after eventstore.Position
		)
		for {
			evs, err := s.ReadAll(ctx, after, page)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				return n
			}
			n += len(evs)
			after = evs[len(evs)-1].Position
		}
	}
	compare(b, "events/s", readAllEvents,
		func(n int) time.Duration {
			start := time.Now()
			for range n {
				if got := readRaw(); got != readAllEvents {
					b.Fatalf("raw read %d events, want %d", got, readAllEvents)
				}
			}
			return time.Since(start)
		},
		func(n int) time.Duration {
			start := time.Now()
			for range n {
				if got := readStore(); got != readAllEvents {
					b.Fatalf("ReadAll read %d events, want %d", got, readAllEvents)
				}
			}
			return time.Since(start)
		})
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// fillLog writes n stamped, chained events over n/100 streams in
// round-robin order with COPY, 10,000 rows per transaction: minutes of
// appends in seconds, a log that verifies.
func fillLog(b *testing.B, s *postgres.Store, n int) {
	b.Helper()
	ctx := context.Background()
	streams := max(n/100, 1)
	prev := make([]string, streams)
	recorded := time.Now()
	const chunk = 10_000
	for done := 0; done < n; {
		rows := make([][]any, 0, chunk)
		for ; done < n && len(rows) < chunk; done++ {
			ne := benchEvent()
			st := done % streams
			e := eventstore.Stamp(&ne, fmt.Sprintf("project-%06d", st), uint64(done/streams+1), prev[st], recorded)
			prev[st] = e.Hash
			rows = append(rows, []any{pgUUID(e.ID), e.Stream, int64(e.Version), e.Type, []byte(e.Data), e.OccurredAt, e.RecordedAt,
				e.Actor.Subject, e.Actor.Role, e.Actor.Unit, e.CommandID, e.CorrelationID, e.CausationID, e.PrevHash, e.Hash})
		}
		if _, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"zhaoshang", "events"}, copyColumns, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE zhaoshang.events"); err != nil {
		b.Fatal(err)
	}
}
