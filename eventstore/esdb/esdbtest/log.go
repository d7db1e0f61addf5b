package esdbtest

import (
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// position is a place in the log, ordered by (commit, prepare) as
// EventStoreDB orders $all.
type position struct{ commit, prepare uint64 }

func (p position) less(q position) bool {
	return p.commit < q.commit || (p.commit == q.commit && p.prepare < q.prepare)
}

// record is one recorded event. Records are never changed in place: Tamper
// replaces the pointer, so readers holding a record need no lock.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	pos         position
	eventType   string
	contentType string
	created     string // .NET ticks since the Unix epoch, as the server sends it
	data        []byte
	meta        []byte
}

// recordOverhead approximates the fixed part of a prepare record in the
// transaction file, so that positions advance like a real log's do (by the
// record's size, never by one).
const recordOverhead = 96

// proposal is one event of an append request.
type proposal struct {
	id          uuid.UUID
	eventType   string
	contentType string
	data        []byte
	meta        []byte
}

// expectation is the expected stream revision of an append request.
type expectation struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectRevision
)

// outcome is the answer to an append: success (fresh or idempotent), or a
// wrong expected version with the stream's current revision (-1: none).
type outcome struct {
	wrong    bool
	current  int64
	last     uint64 // revision of the last event written (or found, when idempotent)
	position position
}

// eventLog is the global log in memory: every record in log order, each
// stream's records by revision, and the event-id index the idempotency
// checks use (the last record written with each id, as the server's
// committed-events cache keeps it).
type eventLog struct {
	mu      sync.Mutex
	all     []*record
	streams map[string][]*record
	byID    map[uuid.UUID]*record
	next    uint64
	changed chan struct{}
}

// firstLogPosition leaves room before the first record, where a real log
// has its header and epoch records.
const firstLogPosition = 1 << 10

func newEventLog() *eventLog {
	return &eventLog{
		streams: map[string][]*record{},
		byID:    map[uuid.UUID]*record{},
		next:    firstLogPosition,
		changed: make(chan struct{}),
	}
}

// snapshot returns the records in log order and a channel closed by the
// next append, taken together so a waiter never misses an append.
func (l *eventLog) snapshot() ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all, l.changed
}

// stream returns a stream's records by revision, nil when it has none.
func (l *eventLog) stream(name string) []*record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams[name]
}

// append applies EventStoreDB's commit check (expected revision, then
// idempotency) and writes the proposals when it passes.
func (l *eventLog) append(stream string, exp expectation, props []proposal, now time.Time) outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.streams[stream]
	cur := int64(len(recs)) - 1

	switch exp.kind {
	case expectAny, expectStreamExists:
		if exp.kind == expectStreamExists && cur < 0 {
			return outcome{wrong: true, current: cur}
		}
		// Idempotent when every id is already in this stream; a write whose
		// first id is new is a new write; a partial match is refused.
		var found []*record
		for _, p := range props {
			r, ok := l.byID[p.id]
			if !ok || r.stream != stream {
				break
			}
			found = append(found, r)
		}
		switch {
		case len(props) > 0 && len(found) == len(props):
			last := found[len(found)-1]
			return outcome{current: cur, last: last.revision, position: position{last.pos.prepare, last.pos.prepare}}
		case len(found) > 0:
			return outcome{wrong: true, current: cur}
		}
	default:
		e := int64(-1)
		if exp.kind == expectRevision {
			e = int64(exp.revision)
		}
		if e > cur {
			return outcome{wrong: true, current: cur}
		}
		if e < cur {
			// The events must already be exactly at e+1, e+2, …: then the
			// write is idempotent and answers with the original revision and
			// the last original event's log position.
			if len(props) == 0 {
				return outcome{wrong: true, current: cur}
			}
			for i, p := range props {
				n := e + 1 + int64(i)
				if n > cur || recs[n].id != p.id {
					return outcome{wrong: true, current: cur}
				}
			}
			last := recs[e+int64(len(props))]
			return outcome{current: cur, last: last.revision, position: position{last.pos.prepare, last.pos.prepare}}
		}
	}

	if len(props) == 0 {
		return outcome{current: cur, last: uint64(cur)}
	}
	ticks := strconv.FormatInt(now.UnixNano()/100, 10)
	transaction := l.next
	for i, p := range props {
		r := &record{
			id:          p.id,
			stream:      stream,
			revision:    uint64(cur + 1 + int64(i)),
			pos:         position{commit: transaction, prepare: l.next},
			eventType:   p.eventType,
			contentType: p.contentType,
			created:     ticks,
			data:        p.data,
			meta:        p.meta,
		}
		l.next += uint64(recordOverhead + len(stream) + len(p.eventType) + len(p.data) + len(p.meta))
		recs = append(recs, r)
		l.all = append(l.all, r)
		l.byID[p.id] = r
	}
	l.streams[stream] = recs
	close(l.changed)
	l.changed = make(chan struct{})
	last := recs[len(recs)-1]
	return outcome{current: cur, last: last.revision, position: position{transaction, transaction}}
}

// replace swaps the record at stream/revision for a changed copy, in the
// stream and in the global log, without telling anyone: what a disk-level
// tamperer would do.
func (l *eventLog) replace(stream string, revision uint64, change func(r *record)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.streams[stream]
	if revision >= uint64(len(recs)) {
		return false
	}
	old := recs[revision]
	r := *old
	r.data = append([]byte(nil), old.data...)
	r.meta = append([]byte(nil), old.meta...)
	change(&r)
	// Copy-on-write: readers holding the old slices keep a consistent view.
	newRecs := append([]*record(nil), recs...)
	newRecs[revision] = &r
	l.streams[stream] = newRecs
	newAll := append([]*record(nil), l.all...)
	for i, x := range newAll {
		if x == old {
			newAll[i] = &r
		}
	}
	l.all = newAll
	if l.byID[r.id] == old {
		l.byID[r.id] = &r
	}
	return true
}
