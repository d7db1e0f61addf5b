package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// ErrClosed is returned by every method of a closed Store.
var ErrClosed = errors.New("bolt: event store is closed")

// formatVersion is the layout of the buckets below, kept in meta/format.
const formatVersion = "1"

// Buckets: log maps the global sequence number (8 bytes big-endian) to the
// event record (codec.go); meta holds the format. Nothing else is stored:
// the stream and id indexes are derived from the log (index.go).
var (
	bucketMeta = []byte("meta") // "format" → formatVersion
	bucketLog  = []byte("log")
	keyFormat  = []byte("format")
)

// Reads copy events out of bbolt's memory map inside a read transaction. A
// long read transaction would hold off the writer when the file must be
// remapped to grow, so reads work in chunks of at most this many events or
// bytes per transaction.
const (
	readChunkEvents = 4096
	readChunkBytes  = 16 << 20
)

// Option configures Open.
type Option func(*config)

type config struct {
	poll        time.Duration
	clock       func() time.Time
	lockTimeout time.Duration
	maxGroup    int
}

// WithPollInterval sets how often a subscriber re-reads the log when no
// wake-up came (default 1 s). Wake-ups cover every append made through this
// Store; the poll is a fallback only.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithClock sets the clock that stamps recorded_at (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithLockTimeout sets how long Open waits for another process to release
// the file's lock before failing (default 2 s).
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.lockTimeout = d
		}
	}
}

// WithMaxGroup caps how many appends share one commit (default 4096), which
// bounds the size of one transaction.
func WithMaxGroup(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxGroup = n
		}
	}
}

// Store is the embedded event store: one bbolt file, appends committed in
// groups by a single writer goroutine. It is safe for concurrent use.
type Store struct {
	db     *bbolt.DB
	cfg    config
	notify *eventstore.Notifier

	// mu guards closed and the sending side of queue, so no append is
	// queued after Close has closed it.
	mu      sync.RWMutex
	closed  bool
	queue   chan *appendReq
	closing chan struct{}
	wrote   chan struct{} // closed when the writer goroutine has exited

	head  atomic.Uint64 // sequence of the last committed event
	index *index

	// Writer-goroutine state, touched by nothing else.
	seq          uint64    // last sequence written
	lastRecorded time.Time // recorded_at never goes backwards in the log
}

var _ eventstore.Store = (*Store)(nil)

// Open opens (creating when needed) the event store file at path, and its
// directory. Only one process can hold the file open.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := config{poll: time.Second, clock: time.Now, lockTimeout: 2 * time.Second, maxGroup: 4096}
	for _, o := range opts {
		o(&cfg)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("bolt: create directory for %s: %w", path, err)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)

	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: cfg.lockTimeout,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: %s is in use by another process (its lock was not released within %s)", path, cfg.lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if created {
		// A new file's directory entry must be durable too, or a crash
		// right after the first commits could lose the whole file.
		if err := syncDir(dir); err != nil {
			db.Close()
			return nil, err
		}
	}
	s := &Store{
		db:      db,
		cfg:     cfg,
		notify:  eventstore.NewNotifier(),
		queue:   make(chan *appendReq, cfg.maxGroup),
		closing: make(chan struct{}),
		wrote:   make(chan struct{}),
		index:   newIndex(),
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	go s.writeLoop()
	return s, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bolt: sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("bolt: sync directory %s: %w", dir, err)
	}
	return nil
}

// init creates the buckets of a new file, checks the format of an old one,
// and rebuilds the index and the writer's state from the log.
func (s *Store) init() error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, []byte(formatVersion)); err != nil {
				return err
			}
		case string(f) != formatVersion:
			return fmt.Errorf("file format %q, this build reads format %q", f, formatVersion)
		}
		if _, err := tx.CreateBucketIfNotExists(bucketLog); err != nil {
			return err
		}
		last, h, err := s.index.load(tx)
		if err != nil {
			return err
		}
		if last > 0 {
			s.seq = last
			s.lastRecorded = time.UnixMicro(h.recorded).UTC()
			s.head.Store(last)
		}
		return nil
	})
}

// Close stops accepting appends, lets those already queued finish, and
// closes the file. Subscriptions return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	close(s.closing)
	s.mu.Unlock()
	<-s.wrote
	return s.db.Close()
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// viewErr maps bbolt's error for a closed database to ErrClosed.
func viewErr(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// ReadAll reads up to max events (all when max <= 0) after position after.
// Only committed events exist in bbolt, so it never returns an event while
// an earlier one may still commit.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, max int) ([]eventstore.Event, error) {
	// Event i sits at {i, i}; the first one after {C, P} is C+1, or C
	// itself when P < C.
	start := after.Commit
	if after.Prepare >= after.Commit {
		if after.Commit == math.MaxUint64 {
			return nil, nil
		}
		start++
	}
	var out []eventstore.Event
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		want := readChunkEvents
		if max > 0 {
			want = min(want, max-len(out))
		}
		batch, more, err := s.readLog(start, want)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = batch
		} else {
			out = append(out, batch...)
		}
		if !more || (max > 0 && len(out) >= max) {
			return out, nil
		}
		start = batch[len(batch)-1].Position.Commit + 1
	}
}

// readLog reads up to n events from sequence start in one read transaction;
// more reports that it stopped at a chunk limit rather than the log's end.
func (s *Store) readLog(start uint64, n int) (evs []eventstore.Event, more bool, err error) {
	if s.isClosed() {
		return nil, false, ErrClosed
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		var (
			seqs = make([]uint64, 0, n)
			recs = make([][]byte, 0, n)
			size int
		)
		c := tx.Bucket(bucketLog).Cursor()
		k, v := c.Seek(seqKey(start))
		for ; k != nil && len(recs) < n && size < readChunkBytes; k, v = c.Next() {
			seqs = append(seqs, binary.BigEndian.Uint64(k))
			recs = append(recs, v)
			size += len(v)
		}
		// Stopped at a limit with events left: the caller decides whether
		// to go on.
		more = k != nil
		evs, err = decodeRecords(seqs, recs)
		return err
	})
	return evs, more, viewErr(err)
}

// ReadStream reads a stream forwards or backwards; see eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, ErrClosed
	}
	if dir != eventstore.Forwards && dir != eventstore.Backwards {
		return nil, fmt.Errorf("bolt: unknown read direction %d", dir)
	}
	seqs, present := s.index.streamSeqs(stream, from, dir == eventstore.Backwards, limit)
	if !present {
		return nil, eventstore.ErrStreamNotFound
	}
	// A damaged log may lack a version; its slot is 0 and is skipped, so
	// Verify, not ReadStream, reports the gap.
	seqs = slices.DeleteFunc(seqs, func(q uint64) bool { return q == 0 })
	out := make([]eventstore.Event, 0, len(seqs))
	for len(seqs) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch, n, err := s.readSeqs(seqs)
		if err != nil {
			return nil, err
		}
		out = append(out, batch...)
		seqs = seqs[n:]
	}
	return out, nil
}

// readSeqs reads the events at seqs, as many as one bounded read
// transaction allows (at least one), returning how many it read.
func (s *Store) readSeqs(seqs []uint64) ([]eventstore.Event, int, error) {
	var evs []eventstore.Event
	n := min(len(seqs), readChunkEvents)
	err := s.db.View(func(tx *bbolt.Tx) error {
		log := tx.Bucket(bucketLog)
		recs := make([][]byte, 0, n)
		size := 0
		for _, seq := range seqs[:n] {
			if size >= readChunkBytes {
				break
			}
			rec := log.Get(seqKey(seq))
			if rec == nil {
				return fmt.Errorf("bolt: sequence %d is indexed but not in the log", seq)
			}
			recs = append(recs, rec)
			size += len(rec)
		}
		n = len(recs)
		var err error
		evs, err = decodeRecords(seqs[:n], recs)
		return err
	})
	return evs, n, viewErr(err)
}

// Head is the position of the last committed event.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Position{}, err
	}
	if s.isClosed() {
		return eventstore.Position{}, ErrClosed
	}
	seq := s.head.Load()
	return eventstore.Position{Commit: seq, Prepare: seq}, nil
}

// Subscribe delivers every event after position after, catch-up then live,
// woken by this Store's commits and polling as a fallback.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error {
	parent := ctx
	if err := parent.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := eventstore.Follow(ctx, s.ReadAll, s.notify, s.cfg.poll, after, h)
	if parent.Err() == nil && errors.Is(err, context.Canceled) && s.isClosed() {
		return ErrClosed
	}
	return err
}
