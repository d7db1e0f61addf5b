package projections

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// logChain is the digest of the prefix of the log a view has consumed,
// chained over the events' hashes in blocks of chainBlock events, so that
// the sequential apply only copies 32 bytes per event and hashes once per
// block:
//
//	d_0 = 32 zero bytes
//	d_k = SHA-256(d_{k-1} || SHA-256(h_{(k-1)B+1} || … || h_{kB}))   B = 1024
//
// where h_i is the raw (32-byte) hash of the i-th event consumed. The
// digest through a position that is not at a block boundary chains the
// partial last block the same way. docs/views.md shows how to recompute it.
type logChain struct {
	d     [sha256.Size]byte
	block []byte
}

const chainBlock = 1024

func (c *logChain) add(raw *[32]byte) {
	if c.block == nil {
		c.block = make([]byte, 0, chainBlock*sha256.Size)
	}
	c.block = append(c.block, raw[:]...)
	if len(c.block) == chainBlock*sha256.Size {
		c.d = chainStep(c.d, c.block)
		c.block = c.block[:0]
	}
}

func chainStep(d [sha256.Size]byte, block []byte) [sha256.Size]byte {
	inner := sha256.Sum256(block)
	var buf [2 * sha256.Size]byte
	copy(buf[:sha256.Size], d[:])
	copy(buf[sha256.Size:], inner[:])
	return sha256.Sum256(buf[:])
}

func (c *logChain) String() string {
	d := c.d
	if len(c.block) > 0 {
		d = chainStep(d, c.block)
	}
	return hex.EncodeToString(d[:])
}

// Digest is a view's reconciliation digest: which prefix of the log it has
// applied and what its state is. Two views with equal digests were fed the
// same events and hold the same answers; Reconcile compares a running view
// with a fresh replay of events 1..N.
type Digest struct {
	View     string              `json:"view"`
	Position eventstore.Position `json:"position"`
	// Events is how many events of the log the view has consumed (every
	// event, including those of types it does not use).
	Events uint64 `json:"events"`
	// Applied is how many of them changed the view.
	Applied uint64 `json:"applied"`
	// Log chains the hashes of every consumed event (see logChain).
	Log string `json:"log"`
	// State is the SHA-256 of a canonical encoding of the view's answers.
	State string `json:"state"`
}

// stateHasher accumulates a canonical encoding of a view's state. Every
// value is written length-prefixed, so no two different states encode the
// same.
type stateHasher struct {
	h   [sha256.Size]byte
	buf []byte
}

func newStateHasher() *stateHasher { return &stateHasher{buf: make([]byte, 0, 64<<10)} }

func (s *stateHasher) flushIfBig() {
	if len(s.buf) >= 60<<10 {
		s.flush()
	}
}

func (s *stateHasher) flush() {
	if len(s.buf) == 0 {
		return
	}
	// Chain the chunks so memory stays bounded for large views.
	buf := make([]byte, 0, sha256.Size+len(s.buf))
	buf = append(buf, s.h[:]...)
	buf = append(buf, s.buf...)
	s.h = sha256.Sum256(buf)
	s.buf = s.buf[:0]
}

func (s *stateHasher) str(v string) {
	s.buf = appendUvarint(s.buf, uint64(len(v)))
	s.buf = append(s.buf, v...)
	s.flushIfBig()
}

func (s *stateHasher) bytes(v []byte) {
	s.buf = appendUvarint(s.buf, uint64(len(v)))
	s.buf = append(s.buf, v...)
	s.flushIfBig()
}

func (s *stateHasher) sum() string {
	s.flush()
	return hex.EncodeToString(s.h[:])
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
