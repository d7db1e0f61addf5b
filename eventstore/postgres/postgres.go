package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Defaults of the options.
const (
	DefaultPollInterval   = 500 * time.Millisecond
	DefaultNotifyInterval = 10 * time.Millisecond
	DefaultHeadCacheSize  = 65536
	DefaultVisibilityWait = time.Second
)

// notifyChannel is the LISTEN/NOTIFY channel every process using the same
// database shares.
const notifyChannel = "zhaoshang_events"

// ErrClosed is returned by Subscribe when the store is closed under it.
var ErrClosed = errors.New("eventstore/postgres: store closed")

// ErrRestoredXIDs is returned by Open when the events table holds
// transaction ids the server has not reached yet: a logical dump restored
// into another cluster. Readers would not see those events until the
// cluster's transaction counter passed them, so Open refuses; Renumber
// repairs the table.
var ErrRestoredXIDs = errors.New("eventstore/postgres: the events table holds transaction ids ahead of this server, as after restoring a logical dump into another cluster; readers would not see those events, see docs/eventstore-postgres.md, \"Restoring a logical dump\" (Renumber)")

// Option adjusts Open.
type Option func(*config)

type config struct {
	maxConns       int32
	pollInterval   time.Duration
	notifyInterval time.Duration
	headCacheSize  int
	visibilityWait time.Duration
	logger         *slog.Logger
	clock          func() time.Time
}

// WithClock sets the clock that stamps recorded_at (default time.Now). The
// demo loader drives a simulated clock through its story, so that a fact
// recorded late in the story is recorded late in the log.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithMaxConns sets the pool size, overriding the URL's pool_max_conns.
// Concurrent appends only share PostgreSQL's WAL flushes (its group
// commit) if they hold connections at the same time, so a write-heavy
// server wants roughly as many connections as concurrent writers, within
// the server's max_connections.
func WithMaxConns(n int32) Option { return func(c *config) { c.maxConns = n } }

// WithPollInterval sets how often an idle subscriber reads the log without
// having been woken: the bound on its latency when a wake-up is lost.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithNotifyInterval sets the least time between two NOTIFYs this process
// sends to tell other processes that it appended.
func WithNotifyInterval(d time.Duration) Option { return func(c *config) { c.notifyInterval = d } }

// WithHeadCacheSize sets how many streams' heads are remembered to save a
// read per append; 0 disables the cache.
func WithHeadCacheSize(n int) Option { return func(c *config) { c.headCacheSize = n } }

// WithVisibilityWait sets how long ReadAll and Head wait for this
// process's own committed appends to become readable before they read. A
// commit is readable once every older transaction on the cluster has
// ended, usually within milliseconds; the wait gives a process
// read-your-writes on the global log (an API that appends and then reads
// sees its event), and its bound keeps a transaction held open elsewhere
// from stalling readers for longer. 0 reads at once.
func WithVisibilityWait(d time.Duration) Option { return func(c *config) { c.visibilityWait = d } }

// WithLogger sets where the background work (listener, notifier) reports
// trouble; slog.Default() otherwise.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	cfg   config
	id    string // tells this process's NOTIFYs from others'
	heads *headCache

	notifier *eventstore.Notifier
	// committed is the highest tx_id known to have committed events, from
	// this process or (through NOTIFY) another; the watcher wakes
	// subscribers once it is below the xmin horizon.
	committed atomic.Uint64
	// local is the highest tx_id this process committed, what its own
	// ReadAll and Head wait to see (see WithVisibilityWait).
	local atomic.Uint64
	// horizon is the highest xmin horizon seen, which only grows: a local
	// commit below it is known to be readable without asking.
	horizon     atomic.Uint64
	kickNotify  chan struct{}
	kickWatch   chan struct{}
	subscribers atomic.Int32

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// life guards starting background goroutines against Close, so that
	// none starts once Close has begun waiting for them.
	life        sync.Mutex
	closed      bool
	wakeStarted bool
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or keyword/value
// string pgx accepts), applies pending migrations and returns the store.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg := config{
		pollInterval:   DefaultPollInterval,
		notifyInterval: DefaultNotifyInterval,
		headCacheSize:  DefaultHeadCacheSize,
		visibilityWait: DefaultVisibilityWait,
		logger:         slog.Default(),
		clock:          time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pollInterval <= 0 || cfg.notifyInterval <= 0 {
		return nil, fmt.Errorf("eventstore/postgres: poll and notify intervals must be positive")
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: %w", err)
	}
	if cfg.maxConns > 0 {
		pcfg.MaxConns = cfg.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: connect: %w", err)
	}
	if err := prepare(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}

	var idb [8]byte
	if _, err := rand.Read(idb[:]); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{
		pool:       pool,
		cfg:        cfg,
		id:         hex.EncodeToString(idb[:]),
		heads:      newHeadCache(cfg.headCacheSize),
		notifier:   eventstore.NewNotifier(),
		kickNotify: make(chan struct{}, 1),
		kickWatch:  make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.background(s.notifyLoop)
	return s, nil
}

// prepare checks the server and brings the schema up to date.
func prepare(ctx context.Context, pool *pgxpool.Pool) error {
	var encoding string
	if err := pool.QueryRow(ctx, "SHOW server_encoding").Scan(&encoding); err != nil {
		return fmt.Errorf("eventstore/postgres: connect: %w", err)
	}
	// Text columns (stream names, types, actors) must keep Chinese text
	// exactly; in any other server encoding they would be converted or
	// refused.
	if encoding != "UTF8" {
		return fmt.Errorf("eventstore/postgres: database encoding is %s, want UTF8", encoding)
	}
	if err := migrate(ctx, pool); err != nil {
		return err
	}
	return checkXIDs(ctx, pool)
}

// checkXIDs refuses a table whose tx_ids are ahead of the server's
// transaction counter (see ErrRestoredXIDs). The index makes it one probe.
func checkXIDs(ctx context.Context, pool *pgxpool.Pool) error {
	var ahead bool
	err := pool.QueryRow(ctx, `SELECT coalesce(
		(SELECT tx_id FROM zhaoshang.events ORDER BY tx_id DESC LIMIT 1) >= pg_snapshot_xmax(pg_current_snapshot()),
		false)`).Scan(&ahead)
	if err != nil {
		return fmt.Errorf("eventstore/postgres: check transaction ids: %w", err)
	}
	if ahead {
		return ErrRestoredXIDs
	}
	return nil
}

// Pool is the store's connection pool, for callers that keep other tables
// in the same database and want to share connections.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the background work and closes the pool. Subscriptions
// still running end with ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return nil
	}
	s.closed = true
	s.life.Unlock()
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// background runs fns in goroutines Close waits for; false when the store
// is closed and nothing was started.
func (s *Store) background(fns ...func()) bool {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return false
	}
	for _, f := range fns {
		s.wg.Go(f)
	}
	return true
}
