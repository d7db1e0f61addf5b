package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Backoffs of the background loops.
const (
	watchFirstRetry = time.Millisecond
	watchMaxRetry   = 100 * time.Millisecond
	listenMaxRetry  = 5 * time.Second
)

// Subscribe implements eventstore.Store with eventstore.Follow: catch up
// with ReadAll, then wait for a wake-up or the poll interval.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error {
	if !s.startWakeups() {
		return ErrClosed
	}
	s.subscribers.Add(1)
	defer s.subscribers.Add(-1)
	// Commits made while nobody subscribed may still be waiting for the
	// horizon; the watcher ignored them then.
	kick(s.kickWatch)

	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	err := eventstore.Follow(sub, s.followRead, s.notifier, s.cfg.pollInterval, after, h)
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// The caller's context ended, maybe in the middle of a read whose
		// error wraps it: answer exactly ctx.Err(), as Store promises.
		return ctx.Err()
	case ctx.Err() == nil && s.ctx.Err() != nil:
		return ErrClosed
	}
	return err
}

// followRead is ReadAll for a subscription: a read that failed because the
// connection broke (a server restart, a failover) is retried with backoff
// for about fifteen seconds instead of ending the subscription, since
// resuming is exactly reading again from the same position.
func (s *Store) followRead(ctx context.Context, after eventstore.Position, max int) ([]eventstore.Event, error) {
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		evs, err := s.ReadAll(ctx, after, max)
		if err == nil || attempt == 8 || !transient(err) || ctx.Err() != nil {
			return evs, err
		}
		s.cfg.logger.Warn("eventstore/postgres: subscription read failed, retrying", "error", err, "after", after.String(), "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, listenMaxRetry)
	}
}

// transient reports whether err is a lost or refused connection rather
// than a problem with the query.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exceptions; 57P01-03: the server is shutting
		// down, crashed, or not yet accepting connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connectErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

// startWakeups starts, with the first subscription, the listener for other
// processes' appends and the watcher that turns known commits into
// wake-ups once readers can see them. A store that only appends never
// holds a listening connection. It answers false when the store is
// closed.
func (s *Store) startWakeups() bool {
	s.life.Lock()
	started := s.wakeStarted
	s.wakeStarted = true
	s.life.Unlock()
	if started {
		return s.ctx.Err() == nil
	}
	return s.background(s.listenLoop, s.watchLoop)
}

// notifyLoop tells other processes that this one appended: one NOTIFY,
// carrying this store's id and the highest committed tx_id, at most every
// notifyInterval however many appends happened meanwhile. It never runs
// inside an append, because PostgreSQL serialises the commits of
// transactions that notify, and it has a connection of its own, opened on
// the first append, so that it neither waits for nor takes a connection
// the appends need.
func (s *Store) notifyLoop() {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	failing := false
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kickNotify:
		}
		payload := s.id + " " + strconv.FormatUint(s.local.Load(), 10)
		var err error
		if conn == nil {
			conn, err = pgx.ConnectConfig(s.ctx, s.pool.Config().ConnConfig)
		}
		if err == nil {
			// A NOTIFY takes a transaction id, so its commit would wait for
			// a WAL flush like an append's; a notification is not durable
			// anyway, so its transaction commits asynchronously and never
			// waits for the disk.
			_, err = conn.Exec(s.ctx, "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)", notifyChannel, payload)
			if err != nil {
				conn.Close(context.Background())
				conn = nil
			}
		}
		switch {
		case err != nil && s.ctx.Err() == nil && !failing:
			// Logged once per outage: other processes' subscribers fall
			// back to polling meanwhile.
			s.cfg.logger.Warn("eventstore/postgres: NOTIFY failed; other processes will see appends at their next poll", "error", err)
			failing = true
		case err == nil && failing:
			s.cfg.logger.Info("eventstore/postgres: NOTIFY works again")
			failing = false
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(s.cfg.notifyInterval):
		}
	}
}

// listenLoop LISTENs on a dedicated connection and feeds other processes'
// commits to the watcher. A notification sent while it was disconnected is
// lost, so every (re)connection also wakes the subscribers to read.
func (s *Store) listenLoop() {
	wait := 100 * time.Millisecond
	for s.ctx.Err() == nil {
		err := s.listen()
		if s.ctx.Err() != nil {
			return
		}
		s.cfg.logger.Warn("eventstore/postgres: listener lost its connection; subscribers poll until it is back", "error", err, "retry_in", wait)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenMaxRetry)
	}
}

// listen holds one listening connection until it fails or the store
// closes. The connection is hijacked from the pool so that it is closed
// afterwards, never handed back with LISTEN still in effect.
func (s *Store) listen() error {
	pc, err := s.pool.Acquire(s.ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(s.ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	s.notifier.Notify()
	for {
		n, err := conn.WaitForNotification(s.ctx)
		if err != nil {
			return err
		}
		from, tx, ok := strings.Cut(n.Payload, " ")
		if ok && from == s.id {
			continue
		}
		txID, err := strconv.ParseUint(tx, 10, 64)
		if !ok || err != nil {
			// Not ours to parse (another version, a manual NOTIFY): read.
			s.notifier.Notify()
			continue
		}
		raise(&s.committed, txID)
		kick(s.kickWatch)
	}
}

// watchLoop wakes the subscribers when what was committed has become
// readable: a commit is readable once its tx_id is below the xmin horizon,
// which a transaction with a smaller id still in flight holds back (another
// append, or anything else on the cluster). After each kick it asks for
// the horizon until it passes the highest known commit, backing off from
// a millisecond, and then notifies once for the whole batch of commits.
func (s *Store) watchLoop() {
	var seen uint64 // highest tx_id the subscribers were woken for
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kickWatch:
		}
		wait := watchFirstRetry
		for {
			target := s.committed.Load()
			if target <= seen || s.subscribers.Load() == 0 {
				break
			}
			xmin, err := s.readHorizon(s.ctx)
			if s.ctx.Err() != nil {
				return
			}
			if err == nil {
				// Every known commit below the horizon is readable; wake the
				// subscribers only when that reaches further than last time.
				if readable := min(target, xmin-1); readable > seen {
					seen = readable
					s.notifier.Notify()
				}
				if seen >= target {
					wait = watchFirstRetry
					continue
				}
			}
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, watchMaxRetry, s.cfg.pollInterval)
		}
	}
}
