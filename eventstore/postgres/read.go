package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// selectEvents is the column list every reader scans with scanEvent.
const selectEvents = `SELECT global_position, tx_id, event_id, stream, version, type, data, occurred_at, recorded_at,
	actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash
FROM zhaoshang.events`

// horizon is the xmin of the statement's snapshot: every transaction with
// a smaller id has ended, so no row below it can still appear. A scalar
// subquery, so that it is computed once per statement.
const horizon = `(SELECT pg_snapshot_xmin(pg_current_snapshot()))`

// readAllSQL reads the global log after a position, only below the
// horizon; the row comparison and ORDER BY walk events_tx_position_idx.
const readAllSQL = selectEvents + `
WHERE (tx_id, global_position) > ($1::xid8, $2::bigint) AND tx_id < ` + horizon + `
ORDER BY tx_id, global_position
LIMIT $3::bigint`

const headPositionSQL = `SELECT tx_id, global_position FROM zhaoshang.events
WHERE tx_id < ` + horizon + `
ORDER BY tx_id DESC, global_position DESC
LIMIT 1`

const (
	readForwardsSQL = selectEvents + `
WHERE stream = $1 AND version >= $2::bigint ORDER BY version LIMIT $3::bigint`
	readBackwardsSQL = selectEvents + `
WHERE stream = $1 AND version <= $2::bigint ORDER BY version DESC LIMIT $3::bigint`
	streamExistsSQL = `SELECT EXISTS (SELECT 1 FROM zhaoshang.events WHERE stream = $1)`
)

// limit turns "max <= 0 means all" into a LIMIT argument (NULL is none).
func limit(max int) any {
	if max <= 0 {
		return nil
	}
	return int64(max)
}

// ReadAll implements eventstore.Store. max <= 0 reads everything readable.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, max int) ([]eventstore.Event, error) {
	if after.Prepare > math.MaxInt64 {
		return nil, fmt.Errorf("eventstore/postgres: position %s is not a position of this store", after)
	}
	if err := s.settle(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, readAllSQL, after.Commit, int64(after.Prepare), limit(max))
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read all: %w", err)
	}
	evs, err := collectEvents(rows, max)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read all: %w", err)
	}
	return evs, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, max int) ([]eventstore.Event, error) {
	sql := readForwardsSQL
	if dir == eventstore.Backwards {
		sql = readBackwardsSQL
	}
	// Versions are bigint; eventstore.End and anything past MaxInt64 mean
	// "the last event" backwards and "nothing" forwards, as they would.
	bound := int64(math.MaxInt64)
	if from < math.MaxInt64 {
		bound = int64(from)
	}
	rows, err := s.pool.Query(ctx, sql, stream, bound, limit(max))
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read stream %q: %w", stream, err)
	}
	evs, err := collectEvents(rows, max)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read stream %q: %w", stream, err)
	}
	if len(evs) == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, streamExistsSQL, stream).Scan(&exists); err != nil {
			return nil, fmt.Errorf("eventstore/postgres: read stream %q: %w", stream, err)
		}
		if !exists {
			return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
		}
		return evs, nil
	}
	// A read that reached the stream's end tells the next append its head.
	switch {
	case dir == eventstore.Backwards && from == eventstore.End:
		s.heads.put(stream, head{version: evs[0].Version, hash: evs[0].Hash})
	case dir == eventstore.Forwards && (max <= 0 || len(evs) < max):
		last := &evs[len(evs)-1]
		s.heads.put(stream, head{version: last.Version, hash: last.Hash})
	}
	return evs, nil
}

// Head implements eventstore.Store: the position of the last event a
// reader can see now, under the same horizon as ReadAll.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.settle(ctx); err != nil {
		return eventstore.Position{}, err
	}
	var (
		tx  uint64
		pos int64
	)
	err := s.pool.QueryRow(ctx, headPositionSQL).Scan(&tx, &pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("eventstore/postgres: head: %w", err)
	}
	return eventstore.Position{Commit: tx, Prepare: uint64(pos)}, nil
}

// readHorizon asks for the current xmin horizon and remembers the highest
// seen.
func (s *Store) readHorizon(ctx context.Context) (uint64, error) {
	var xmin uint64
	if err := s.pool.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())").Scan(&xmin); err != nil {
		return 0, err
	}
	raise(&s.horizon, xmin)
	return xmin, nil
}

// settle waits, up to the visibility wait, until this process's committed
// appends are below the horizon, so that a read started after an Append
// returned includes it (see WithVisibilityWait). It costs nothing once
// they are known to be readable. Running out of time is not an error: the
// read then returns what is readable, which is always a correct prefix.
func (s *Store) settle(ctx context.Context) error {
	target := s.local.Load()
	if target == 0 || target < s.horizon.Load() || s.cfg.visibilityWait <= 0 {
		return nil
	}
	deadline := time.Now().Add(s.cfg.visibilityWait)
	wait := 200 * time.Microsecond
	for {
		xmin, err := s.readHorizon(ctx)
		if err != nil {
			return fmt.Errorf("eventstore/postgres: read horizon: %w", err)
		}
		if xmin > target || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// collectEvents scans rows of selectEvents and closes them. Reading the
// log is what every rebuild waits for, so rows in binary format (the
// extended protocol pgx uses by default) are decoded by hand; any other
// format goes through pgx's Scan.
func collectEvents(rows pgx.Rows, sizeHint int) ([]eventstore.Event, error) {
	defer rows.Close()
	var evs []eventstore.Event
	if sizeHint > 0 && sizeHint <= 4096 {
		evs = make([]eventstore.Event, 0, sizeHint)
	}
	// A text column's bytes are the same in either format; every other
	// column must be binary for decodeEvent.
	binaryRows := true
	for _, fd := range rows.FieldDescriptions() {
		binaryRows = binaryRows && (fd.Format == pgx.BinaryFormatCode || fd.DataTypeOID == pgtype.TextOID)
	}
	in := make(interner)
	for rows.Next() {
		evs = append(evs, eventstore.Event{})
		e := &evs[len(evs)-1]
		var err error
		if binaryRows {
			err = decodeEvent(e, rows.RawValues(), in)
		} else {
			err = scanEvent(e, rows)
		}
		if err != nil {
			return nil, err
		}
	}
	return evs, rows.Err()
}

// scanEvent reads one row of selectEvents through pgx's Scan.
func scanEvent(e *eventstore.Event, rows pgx.Rows) error {
	var (
		pos, version int64
		id           [16]byte
		data         []byte
	)
	if err := rows.Scan(&pos, &e.Position.Commit, &id, &e.Stream, &version, &e.Type, &data,
		&e.OccurredAt, &e.RecordedAt, &e.Actor.Subject, &e.Actor.Role, &e.Actor.Unit,
		&e.CommandID, &e.CorrelationID, &e.CausationID, &e.PrevHash, &e.Hash); err != nil {
		return err
	}
	e.Position.Prepare = uint64(pos)
	e.ID = id
	e.Version = uint64(version)
	e.Data = data
	e.OccurredAt = e.OccurredAt.UTC()
	e.RecordedAt = e.RecordedAt.UTC()
	return nil
}

// pgEpochMicros is 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in
// Unix microseconds.
const pgEpochMicros = 946684800 * 1000000

// decodeEvent reads one row of selectEvents in binary format: int8 and
// xid8 are big-endian 64-bit integers, uuid 16 bytes, text and bytea their
// bytes, timestamptz microseconds since 2000-01-01 UTC.
func decodeEvent(e *eventstore.Event, raw [][]byte, in interner) error {
	if len(raw) != 17 {
		return fmt.Errorf("event row has %d columns, want 17", len(raw))
	}
	for i, v := range raw {
		if v == nil {
			return fmt.Errorf("event row column %d is NULL", i)
		}
	}
	for _, i := range []int{0, 1, 4, 7, 8} {
		if len(raw[i]) != 8 {
			return fmt.Errorf("event row column %d has %d bytes, want 8", i, len(raw[i]))
		}
	}
	if len(raw[2]) != 16 {
		return fmt.Errorf("event id has %d bytes, want 16", len(raw[2]))
	}
	e.Position = eventstore.Position{Commit: binary.BigEndian.Uint64(raw[1]), Prepare: binary.BigEndian.Uint64(raw[0])}
	copy(e.ID[:], raw[2])
	e.Stream = in.get(raw[3])
	e.Version = binary.BigEndian.Uint64(raw[4])
	e.Type = in.get(raw[5])
	e.Data = append(make([]byte, 0, len(raw[6])), raw[6]...)
	e.OccurredAt = time.UnixMicro(int64(binary.BigEndian.Uint64(raw[7])) + pgEpochMicros).UTC()
	e.RecordedAt = time.UnixMicro(int64(binary.BigEndian.Uint64(raw[8])) + pgEpochMicros).UTC()
	e.Actor = eventstore.Actor{Subject: in.get(raw[9]), Role: in.get(raw[10]), Unit: in.get(raw[11])}

	// The strings proper to this event share one allocation.
	var sb strings.Builder
	sb.Grow(len(raw[12]) + len(raw[13]) + len(raw[14]) + len(raw[15]) + len(raw[16]))
	for _, v := range raw[12:] {
		sb.Write(v)
	}
	all := sb.String()
	cut := func(i int) string {
		v := all[:len(raw[i])]
		all = all[len(raw[i]):]
		return v
	}
	e.CommandID, e.CorrelationID, e.CausationID, e.PrevHash, e.Hash = cut(12), cut(13), cut(14), cut(15), cut(16)
	return nil
}

// interner hands out one string per distinct value within a read: stream
// names, types and actors repeat across the events of a page.
type interner map[string]string

func (in interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}
