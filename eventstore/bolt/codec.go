package bolt

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// recordFormat is the first byte of every stored event record. A new layout
// is a new format byte, never an edit: old records stay readable.
const recordFormat byte = 1

// A record (format 1) is, in order:
//
//	format     1 byte (recordFormat)
//	id         16 bytes
//	version    uvarint
//	occurred   varint, Unix microseconds
//	recorded   varint, Unix microseconds
//	hash       32 bytes (raw SHA-256)
//	prev       1 byte n (0 or 32), then n bytes of the raw previous hash
//	lengths    8 uvarints: stream, type, actor subject, role, unit,
//	           command id, correlation id, causation id
//	strings    those 8 strings' bytes, back to back
//	data       the event's JSON, raw, to the end of the record
//
// Data comes last and unframed so it is stored exactly as given and a
// reader slices it without scanning. The strings sit together so a batch
// decode copies them into one string with one allocation.

const numStrings = 8

var errCorrupt = errors.New("bolt: corrupt event record")

// encodedSize is an upper bound on the record length of e.
func encodedSize(e *eventstore.Event) int {
	n := 1 + 16 + 3*binary.MaxVarintLen64 + 32 + 1 + 32 + numStrings*binary.MaxVarintLen64 + len(e.Data)
	for _, s := range recordStrings(e) {
		n += len(s)
	}
	return n
}

func recordStrings(e *eventstore.Event) [numStrings]string {
	return [numStrings]string{e.Stream, e.Type, e.Actor.Subject, e.Actor.Role, e.Actor.Unit, e.CommandID, e.CorrelationID, e.CausationID}
}

// appendRecord appends the record of e to b.
func appendRecord(b []byte, e *eventstore.Event) ([]byte, error) {
	var hash, prev [32]byte
	if n, err := hex.Decode(hash[:], []byte(e.Hash)); err != nil || n != 32 || len(e.Hash) != 64 {
		return nil, fmt.Errorf("bolt: event %s: hash %q is not 64 hex digits", e.ID, e.Hash)
	}
	hasPrev := e.PrevHash != ""
	if hasPrev {
		if n, err := hex.Decode(prev[:], []byte(e.PrevHash)); err != nil || n != 32 || len(e.PrevHash) != 64 {
			return nil, fmt.Errorf("bolt: event %s: prev_hash %q is not 64 hex digits", e.ID, e.PrevHash)
		}
	}
	b = append(b, recordFormat)
	b = append(b, e.ID[:]...)
	b = binary.AppendUvarint(b, e.Version)
	b = binary.AppendVarint(b, e.OccurredAt.UnixMicro())
	b = binary.AppendVarint(b, e.RecordedAt.UnixMicro())
	b = append(b, hash[:]...)
	if hasPrev {
		b = append(b, 32)
		b = append(b, prev[:]...)
	} else {
		b = append(b, 0)
	}
	strs := recordStrings(e)
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	for _, s := range strs {
		b = append(b, s...)
	}
	return append(b, e.Data...), nil
}

// header is a parsed record: the fixed fields, and offsets into the record
// for the rest. It holds no pointers, so a batch of headers costs the
// garbage collector nothing and can be reused.
type header struct {
	id                 uuid.UUID
	version            uint64
	occurred, recorded int64
	hash               int // offset of the 32-byte hash
	prev               int // offset of the 32-byte previous hash, -1 for a stream's first event
	lens               [numStrings]int
	strs               int // offset of the strings, back to back
	data               int // offset of the data, which runs to the end
}

// uvarint is binary.Uvarint with the one-byte case, nearly every length
// here, inlined.
func uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return binary.Uvarint(b)
}

func parseHeader(rec []byte, h *header) error {
	if len(rec) < 1+16 || rec[0] != recordFormat {
		return errCorrupt
	}
	i := 1
	copy(h.id[:], rec[i:i+16])
	i += 16
	var n int
	if h.version, n = uvarint(rec[i:]); n <= 0 {
		return errCorrupt
	}
	i += n
	if h.occurred, n = binary.Varint(rec[i:]); n <= 0 {
		return errCorrupt
	}
	i += n
	if h.recorded, n = binary.Varint(rec[i:]); n <= 0 {
		return errCorrupt
	}
	i += n
	if len(rec) < i+33 {
		return errCorrupt
	}
	h.hash = i
	i += 32
	switch rec[i] {
	case 0:
		h.prev = -1
		i++
	case 32:
		if len(rec) < i+33 {
			return errCorrupt
		}
		h.prev = i + 1
		i += 33
	default:
		return errCorrupt
	}
	total := 0
	for k := range h.lens {
		l, n := uvarint(rec[i:])
		if n <= 0 || l > uint64(len(rec)) {
			return errCorrupt
		}
		h.lens[k] = int(l)
		total += int(l)
		i += n
	}
	if total > len(rec)-i {
		return errCorrupt
	}
	h.strs = i
	h.data = i + total
	return nil
}

// dataOffset is where the data starts in rec (for the tamper test hook).
func dataOffset(rec []byte) (int, error) {
	var h header
	if err := parseHeader(rec, &h); err != nil {
		return 0, err
	}
	return h.data, nil
}

// stream is the stream name's bytes in rec, parsed into h.
func (h *header) stream(rec []byte) []byte { return rec[h.strs : h.strs+h.lens[0]] }

// decoder turns a batch of records into events with two allocations for
// the whole batch besides the event slice: one string holding every textual
// field (and the hex hashes), one byte slice holding every event's data.
// Reading the global log is the floor cost of every rebuild, so this path
// avoids per-field allocations. A decoder is reused through decoders.
type decoder struct {
	heads []header
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// decodeRecords decodes with a pooled decoder.
func decodeRecords(seqs []uint64, recs [][]byte) ([]eventstore.Event, error) {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	return d.decode(seqs, recs)
}

// decode copies the records out (they point into bbolt's memory map, valid
// only inside the transaction) and returns their events; seqs are their
// global sequence numbers.
func (d *decoder) decode(seqs []uint64, recs [][]byte) ([]eventstore.Event, error) {
	if cap(d.heads) < len(recs) {
		d.heads = make([]header, len(recs))
	}
	heads := d.heads[:len(recs)]
	strLen, dataLen := 0, 0
	for i, rec := range recs {
		h := &heads[i]
		if err := parseHeader(rec, h); err != nil {
			return nil, fmt.Errorf("%w at sequence %d", err, seqs[i])
		}
		strLen += h.data - h.strs + 64
		if h.prev >= 0 {
			strLen += 64
		}
		dataLen += len(rec) - h.data
	}
	var sb strings.Builder
	sb.Grow(strLen)
	data := make([]byte, 0, dataLen)
	var hx [64]byte
	for i, rec := range recs {
		h := &heads[i]
		sb.Write(rec[h.strs:h.data])
		hex.Encode(hx[:], rec[h.hash:h.hash+32])
		sb.Write(hx[:])
		if h.prev >= 0 {
			hex.Encode(hx[:], rec[h.prev:h.prev+32])
			sb.Write(hx[:])
		}
		data = append(data, rec[h.data:]...)
	}
	all := sb.String()
	out := make([]eventstore.Event, len(heads))
	so, do := 0, 0
	for i := range heads {
		h := &heads[i]
		e := &out[i]
		var fields [numStrings]string
		for k, l := range h.lens {
			fields[k] = all[so : so+l]
			so += l
		}
		e.ID = h.id
		e.Stream, e.Type = fields[0], fields[1]
		e.Actor = eventstore.Actor{Subject: fields[2], Role: fields[3], Unit: fields[4]}
		e.CommandID, e.CorrelationID, e.CausationID = fields[5], fields[6], fields[7]
		e.Hash = all[so : so+64]
		so += 64
		if h.prev >= 0 {
			e.PrevHash = all[so : so+64]
			so += 64
		}
		e.Version = h.version
		e.Position = eventstore.Position{Commit: seqs[i], Prepare: seqs[i]}
		e.OccurredAt = time.UnixMicro(h.occurred).UTC()
		e.RecordedAt = time.UnixMicro(h.recorded).UTC()
		// The full slice expression caps each event's data, so a caller
		// appending to one event's data cannot overwrite the next.
		n := len(recs[i]) - h.data
		e.Data = data[do : do+n : do+n]
		do += n
	}
	return out, nil
}
