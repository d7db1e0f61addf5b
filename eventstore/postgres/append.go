package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// querier is what an append needs of a connection: the pool for Append, an
// open transaction for the test hook that holds one open.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxAnyRetries bounds how often an append with eventstore.Any retries
// after losing a race for the stream's next version. Every retry means
// another append to the same stream committed, so the system progresses;
// the bound only stops a pathological hot stream from spinning forever.
const maxAnyRetries = 100

const uniqueViolation = "23505"

const (
	eventIDKey       = "events_event_id_key"
	streamVersionKey = "events_stream_version_key"
)

// insertSQL writes one append in one statement. The events arrive as
// arrays (any number of rows for the cost of 13 parameters), are inserted
// in their order (WITH ORDINALITY, so global_position follows version),
// and only if the head they were chained onto ($8 = version, $9 = hash)
// still exists. A cached head can outlive its row (a failover to an
// asynchronous replica that missed the last commits, a restore under a
// running process); the statement then inserts nothing instead of
// chaining onto a version that is gone. Every row gets the same tx_id,
// the statement's transaction.
const insertSQL = `INSERT INTO zhaoshang.events (event_id, stream, version, type, data, occurred_at, recorded_at,
	actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash)
SELECT e.event_id, $1, e.version, e.type, e.data, e.occurred_at, $2,
	e.actor_subject, e.actor_role, e.actor_unit, e.command_id, e.correlation_id, e.causation_id, e.prev_hash, e.hash
FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::bytea[], $7::timestamptz[],
	$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
	WITH ORDINALITY AS e(event_id, version, type, data, occurred_at,
	actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash, ord)
WHERE $8::bigint = 0 OR EXISTS (SELECT 1 FROM zhaoshang.events p WHERE p.stream = $1 AND p.version = $8::bigint AND p.hash = $9::text)
ORDER BY e.ord
RETURNING event_id, global_position, tx_id`

// insertOneSQL is insertSQL for a single event, with the same parameter
// numbers.
const insertOneSQL = `INSERT INTO zhaoshang.events (event_id, stream, version, type, data, occurred_at, recorded_at,
	actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash)
SELECT $3::uuid, $1, $4::bigint, $5::text, $6::bytea, $7::timestamptz, $2,
	$10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::text, $17::text
WHERE $8::bigint = 0 OR EXISTS (SELECT 1 FROM zhaoshang.events p WHERE p.stream = $1 AND p.version = $8::bigint AND p.hash = $9::text)
RETURNING event_id, global_position, tx_id`

const headSQL = `SELECT version, hash FROM zhaoshang.events WHERE stream = $1 ORDER BY version DESC LIMIT 1`

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent) (eventstore.AppendResult, error) {
	w, err := s.append(ctx, s.pool, stream, expected, events, true)
	if w.txID != 0 {
		s.committedWrite(stream, w)
	}
	return w.result, err
}

// written is the outcome of one append attempt.
type written struct {
	result eventstore.AppendResult
	head   head
	// txID is the transaction that inserted the events, 0 when nothing was
	// inserted (an idempotent retry, an error).
	txID uint64
}

// committedWrite records a committed append: its head for the next append
// to the stream, its tx_id for the wake-ups.
func (s *Store) committedWrite(stream string, w written) {
	s.heads.put(stream, w.head)
	raise(&s.local, w.txID)
	raise(&s.committed, w.txID)
	kick(s.kickWatch)
	kick(s.kickNotify)
}

// raise sets a to v unless it holds more already.
func raise(a *atomic.Uint64, v uint64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// kick wakes a loop waiting on ch without ever blocking: a wake-up already
// pending covers this one too.
func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// append runs the append on q. With useCache, the stream's head may come
// from the cache; the caller must record a non-zero txID once it knows the
// transaction committed (at once for the pool, whose statements commit on
// their own).
func (s *Store) append(ctx context.Context, q querier, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent, useCache bool) (written, error) {
	if err := checkAppend(stream, events); err != nil {
		return written{}, err
	}
	// pgtype.UUID rather than uuid.UUID, whose driver.Valuer would send
	// text, or [16]byte, which the simple protocol cannot encode.
	ids := make([]pgtype.UUID, len(events))
	for i := range events {
		ids[i] = pgtype.UUID{Bytes: events[i].ID, Valid: true}
	}

	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return written{}, err
		}
		// Where the new events go: after the head. NoStream needs no read,
		// the first version is 1 whatever the table holds, and UNIQUE
		// (stream, version) refuses it if the stream exists.
		var (
			h     head
			fresh bool
		)
		switch cached, ok := s.headHint(stream, useCache && attempt == 0); {
		case expected.IsNoStream():
			fresh = true
		case ok:
			h = cached
		default:
			var err error
			if h, err = readHead(ctx, q, stream); err != nil {
				return written{}, err
			}
			fresh = true
		}

		if !expected.Allows(h.version) {
			if !fresh {
				// The cache may be behind another process's appends; only
				// the table can say the condition fails.
				s.heads.forget(stream)
				continue
			}
			return s.refused(ctx, q, stream, expected, events, ids, h.version)
		}

		w, err := s.insert(ctx, q, stream, h, events, ids)
		var pgErr *pgconn.PgError
		switch {
		case err == nil && w.txID != 0:
			return w, nil
		case err == nil:
			// The head the events were chained onto is not in the table.
			if !fresh {
				s.heads.forget(stream)
				continue
			}
			return written{}, fmt.Errorf("eventstore/postgres: stream %q: version %d with hash %s vanished during the append", stream, h.version, h.hash)
		case errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && (pgErr.ConstraintName == eventIDKey || pgErr.ConstraintName == streamVersionKey):
			// Either the ids were recorded before (an idempotent retry, in
			// which case the version may clash too), or another append
			// took the version.
			if res, found, err := s.recorded(ctx, q, stream, events, ids); found || err != nil {
				return written{result: res}, err
			}
			s.heads.forget(stream)
			if expected.IsAny() && attempt < maxAnyRetries {
				continue
			}
			actual, err := readHead(ctx, q, stream)
			if err != nil {
				return written{}, err
			}
			return written{}, &eventstore.VersionConflictError{Stream: stream, Expected: expected, Actual: actual.version}
		default:
			return written{}, fmt.Errorf("eventstore/postgres: append to %q: %w", stream, err)
		}
	}
}

// headHint is the cached head of stream, when the cache may be used.
func (s *Store) headHint(stream string, use bool) (head, bool) {
	if !use {
		return head{}, false
	}
	return s.heads.get(stream)
}

// refused answers an append whose expected version the stream does not
// satisfy: like the first append if these events are that append's
// retry, a conflict otherwise.
func (s *Store) refused(ctx context.Context, q querier, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent, ids []pgtype.UUID, actual uint64) (written, error) {
	res, found, err := s.recorded(ctx, q, stream, events, ids)
	if found || err != nil {
		return written{result: res}, err
	}
	return written{}, &eventstore.VersionConflictError{Stream: stream, Expected: expected, Actual: actual}
}

// insert stamps the events onto h and writes them. A zero txID with a nil
// error means h is no longer the stream's event (see insertSQL).
func (s *Store) insert(ctx context.Context, q querier, stream string, h head, events []eventstore.NewEvent, ids []pgtype.UUID) (written, error) {
	n := len(events)
	recordedAt := eventstore.NormalizeTime(s.cfg.clock())
	stamped := make([]eventstore.Event, n)
	prev := h.hash
	for i := range events {
		stamped[i] = eventstore.Stamp(&events[i], stream, h.version+uint64(i)+1, prev, recordedAt)
		prev = stamped[i].Hash
	}

	var args []any
	sql := insertSQL
	if n == 1 {
		// Most appends carry one event: plain parameters spare both sides
		// the array encoding.
		e := &stamped[0]
		sql = insertOneSQL
		args = []any{stream, recordedAt, ids[0], int64(e.Version), e.Type, []byte(e.Data), e.OccurredAt,
			int64(h.version), h.hash,
			e.Actor.Subject, e.Actor.Role, e.Actor.Unit, e.CommandID, e.CorrelationID, e.CausationID, e.PrevHash, e.Hash}
	} else {
		var (
			versions                                     = make([]int64, n)
			types, subjects, roles, units, commands      = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			correlations, causations, prevHashes, hashes = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			datas                                        = make([][]byte, n)
			occurred                                     = make([]time.Time, n)
		)
		for i := range stamped {
			e := &stamped[i]
			versions[i] = int64(e.Version)
			types[i] = e.Type
			datas[i] = e.Data
			occurred[i] = e.OccurredAt
			subjects[i], roles[i], units[i] = e.Actor.Subject, e.Actor.Role, e.Actor.Unit
			commands[i], correlations[i], causations[i] = e.CommandID, e.CorrelationID, e.CausationID
			prevHashes[i], hashes[i] = e.PrevHash, e.Hash
		}
		args = []any{stream, recordedAt, ids, versions, types, datas, occurred,
			int64(h.version), h.hash,
			subjects, roles, units, commands, correlations, causations, prevHashes, hashes}
	}

	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return written{}, err
	}
	var (
		got  int
		last eventstore.Position
	)
	for rows.Next() {
		var (
			id  [16]byte
			pos int64
			tx  uint64
		)
		if err := rows.Scan(&id, &pos, &tx); err != nil {
			rows.Close()
			return written{}, err
		}
		got++
		if id == ids[n-1].Bytes {
			last = eventstore.Position{Commit: tx, Prepare: uint64(pos)}
		}
	}
	if err := rows.Err(); err != nil {
		return written{}, err
	}
	if got == 0 {
		return written{}, nil
	}
	if got != n || last.IsZero() {
		return written{}, fmt.Errorf("eventstore/postgres: append to %q returned %d of %d rows", stream, got, n)
	}
	e := &stamped[n-1]
	return written{
		result: eventstore.AppendResult{Version: e.Version, Position: last},
		head:   head{version: e.Version, hash: e.Hash},
		txID:   last.Commit,
	}, nil
}

// recorded looks the proposed ids up. found is false when none is recorded
// (the append can go on or be refused on its own terms). When all are
// recorded, in this stream, in this order, as these events, it answers the
// first append's result; any other reuse of an id is ErrInvalidEvent.
func (s *Store) recorded(ctx context.Context, q querier, stream string, events []eventstore.NewEvent, ids []pgtype.UUID) (res eventstore.AppendResult, found bool, err error) {
	rows, err := q.Query(ctx, selectEvents+` WHERE event_id = ANY($1) ORDER BY tx_id, global_position`, ids)
	if err != nil {
		return res, false, fmt.Errorf("eventstore/postgres: look up event ids: %w", err)
	}
	got, err := collectEvents(rows, 0)
	if err != nil {
		return res, false, fmt.Errorf("eventstore/postgres: look up event ids: %w", err)
	}
	if len(got) == 0 {
		return res, false, nil
	}
	byID := make(map[uuid.UUID]*eventstore.Event, len(got))
	for i := range got {
		byID[got[i].ID] = &got[i]
	}
	first := byID[events[0].ID]
	for i := range events {
		rec := byID[events[i].ID]
		switch {
		case rec == nil:
			return res, true, fmt.Errorf("%w: event %s is new but event %s of the same append was recorded before", eventstore.ErrInvalidEvent, events[i].ID, got[0].ID)
		case rec.Stream != stream:
			return res, true, fmt.Errorf("%w: event id %s is already recorded in stream %q", eventstore.ErrInvalidEvent, rec.ID, rec.Stream)
		case first == nil || rec.Version != first.Version+uint64(i):
			return res, true, fmt.Errorf("%w: event ids already recorded in stream %q in another order", eventstore.ErrInvalidEvent, stream)
		case !eventstore.SameEvent(rec, &events[i]):
			return res, true, fmt.Errorf("%w: event id %s is already recorded with another type or data", eventstore.ErrInvalidEvent, rec.ID)
		}
	}
	last := byID[events[len(events)-1].ID]
	return eventstore.AppendResult{Version: last.Version, Position: last.Position}, true, nil
}

// readHead reads the stream's last version and hash; version 0 when the
// stream has no events.
func readHead(ctx context.Context, q querier, stream string) (head, error) {
	var (
		v int64
		h head
	)
	err := q.QueryRow(ctx, headSQL, stream).Scan(&v, &h.hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("eventstore/postgres: read head of %q: %w", stream, err)
	}
	h.version = uint64(v)
	return h, nil
}

// checkAppend validates an append before anything is written.
func checkAppend(stream string, events []eventstore.NewEvent) error {
	if err := eventstore.CheckStreamName(stream); err != nil {
		return err
	}
	if err := checkText("stream name", stream); err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: an append needs at least one event", eventstore.ErrInvalidEvent)
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i := range events {
		ne := &events[i]
		if err := eventstore.CheckNew(ne); err != nil {
			return err
		}
		if _, dup := seen[ne.ID]; dup {
			return fmt.Errorf("%w: event id %s appears twice in one append", eventstore.ErrInvalidEvent, ne.ID)
		}
		seen[ne.ID] = struct{}{}
		for _, f := range []struct{ name, v string }{
			{"type", ne.Type}, {"actor subject", ne.Actor.Subject}, {"actor role", ne.Actor.Role},
			{"actor unit", ne.Actor.Unit}, {"command id", ne.CommandID},
			{"correlation id", ne.CorrelationID}, {"causation id", ne.CausationID},
		} {
			if err := checkText(f.name, f.v); err != nil {
				return fmt.Errorf("event %s: %w", ne.ID, err)
			}
		}
	}
	return nil
}

// checkText refuses what a PostgreSQL text column cannot hold faithfully:
// invalid UTF-8 and the NUL character.
func checkText(what, v string) error {
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%w: %s must be UTF-8 text without NUL characters", eventstore.ErrInvalidEvent, what)
	}
	return nil
}
