package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Store is an eventstore.Store kept in EventStoreDB. It is safe for
// concurrent use.
type Store struct {
	h     *holder
	scope scope
	ids   idIndex
	// clock stamps recorded_at (WithClock); nil means time.Now.
	clock func() time.Time
}

func (s *Store) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

var _ eventstore.Store = (*Store)(nil)

// The oldest server the adapter accepts: stream reads carry event positions
// from EventStoreDB 22.6 on, and the envelope's position comes from them.
const minMajor, minMinor = 22, 6

// Open connects to EventStoreDB with the client's connection string, e.g.
// "esdb://127.0.0.1:2113?tls=false" for one insecure node or
// "esdb://admin:…@node1:2113,node2:2113,node3:2113?tlsCAFile=ca.crt" for a
// cluster (docs/eventstore-esdb.md); kurrentdb:// is accepted for esdb://.
// It fails when the server cannot be reached before ctx ends or is older
// than 22.6.
func Open(ctx context.Context, connection string, opts ...Option) (*Store, error) {
	return open(ctx, connection, opts...)
}

// Option adjusts a Store before it connects.
type Option func(*Store)

// WithClock sets the clock that stamps recorded_at (default time.Now). The
// demo loader drives a simulated clock through its story, so that a fact
// recorded late in the story is recorded late in the log.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.clock = now
		}
	}
}

// withScope makes the store a view of the streams whose names start with
// prefix, created now: stream names gain the prefix on the way in and lose
// it on the way out, and the global log shows only events of those streams
// recorded after the view was opened. It lets the contract suite run against
// a real server, which cannot be emptied between tests.
func withScope(prefix string) Option {
	return func(s *Store) { s.scope.prefix = prefix }
}

func open(ctx context.Context, connection string, opts ...Option) (*Store, error) {
	// KurrentDB, EventStoreDB's name from version 25, spells the same
	// connection string kurrentdb://; the v4.2.0 client knows only esdb://.
	for _, alias := range [][2]string{{"kurrentdb+discover://", "esdb+discover://"}, {"kurrentdb://", "esdb://"}} {
		if rest, ok := strings.CutPrefix(connection, alias[0]); ok {
			connection = alias[1] + rest
		}
	}
	if !strings.HasPrefix(connection, "esdb://") && !strings.HasPrefix(connection, "esdb+discover://") {
		return nil, errors.New("eventstore/esdb: the connection string must start with esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://")
	}
	cfg, err := esdbclient.ParseConnectionString(connection)
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: connection string %s: %s", redact(connection), strings.ReplaceAll(err.Error(), connection, redact(connection)))
	}
	cfg.Logger = clientLog
	h, err := newHolder(cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{h: h}
	for _, o := range opts {
		o(s)
	}
	if err := s.checkServer(ctx); err != nil {
		h.close()
		return nil, err
	}
	if s.scope.prefix != "" {
		floor, err := s.lastPosition(ctx, func(*esdbclient.RecordedEvent) bool { return true })
		if err != nil {
			h.close()
			return nil, fmt.Errorf("eventstore/esdb: finding the end of the log: %w", err)
		}
		s.scope.floor = floor
	}
	return s, nil
}

// redact hides the password of a connection string, also of one that does
// not parse (whose parse error would quote it).
func redact(connection string) string {
	scheme, rest, ok := strings.Cut(connection, "://")
	if !ok {
		return connection
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return connection
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return connection
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// checkServer connects (the client connects lazily) and refuses servers
// too old for the adapter. The client's discovery takes no context, so it
// runs aside and ctx only bounds the wait for it.
func (s *Store) checkServer(ctx context.Context) error {
	type answer struct {
		v   *esdbclient.ServerVersion
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		var a answer
		a.err = s.h.do(func(c *esdbclient.Client) error {
			v, err := c.GetServerVersion()
			a.v = v
			return err
		})
		ch <- a
	}()
	var a answer
	select {
	case <-ctx.Done():
		return fmt.Errorf("eventstore/esdb: connecting: %w", ctx.Err())
	case a = <-ch:
	}
	if a.err != nil {
		return fmt.Errorf("eventstore/esdb: connecting: %w", a.err)
	}
	if v := a.v; v.Major < minMajor || (v.Major == minMajor && v.Minor < minMinor) {
		return fmt.Errorf("eventstore/esdb: EventStoreDB %d.%d.%d is too old: 22.6 or later is required (older servers do not report event positions on stream reads)", v.Major, v.Minor, v.Patch)
	}
	return nil
}

// Close closes the connection once the operations under way end. Later
// calls fail.
func (s *Store) Close() error {
	s.h.close()
	return nil
}

// headChunk is how many events Head reads at a time walking $all backwards.
const headChunk = 64

// Head is the position of the last event of the log that is not
// EventStoreDB's own.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	p, err := s.lastPosition(ctx, func(re *esdbclient.RecordedEvent) bool {
		_, ok := s.scope.visible(re)
		return ok
	})
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("eventstore/esdb: head: %w", err)
	}
	return p, nil
}

// lastPosition walks $all backwards from its end to the last event keep
// accepts, and answers Start when there is none after the scope's floor.
func (s *Store) lastPosition(ctx context.Context, keep func(*esdbclient.RecordedEvent) bool) (eventstore.Position, error) {
	var found eventstore.Position
	err := s.h.do(func(c *esdbclient.Client) error {
		found = eventstore.Start
		var (
			from esdbclient.AllPosition = esdbclient.End{}
			seen *eventstore.Position
		)
		for {
			rs, err := c.ReadAll(ctx, esdbclient.ReadAllOptions{Direction: esdbclient.Backwards, From: from}, headChunk)
			if err != nil {
				return err
			}
			n, done, err := func() (int, bool, error) {
				defer rs.Close()
				n := 0
				for {
					ev, err := rs.Recv()
					if errors.Is(err, io.EOF) {
						return n, false, nil
					}
					if err != nil {
						return n, false, err
					}
					n++
					re := ev.OriginalEvent()
					p := toPosition(re.Position)
					// A backwards read starts before its position; skipping
					// what was seen keeps this right if a server included it.
					if seen != nil && p.Compare(*seen) >= 0 {
						continue
					}
					seen = &p
					if !s.scope.floor.IsZero() && p.Compare(s.scope.floor) <= 0 {
						return n, true, nil
					}
					if keep(re) {
						found = p
						return n, true, nil
					}
				}
			}()
			if err != nil || done || n < headChunk || seen == nil {
				return err
			}
			from = esdbclient.Position{Commit: seen.Commit, Prepare: seen.Prepare}
		}
	})
	return found, err
}

// scope is the part of the server a Store shows: every non-system stream
// (the empty prefix), or, for tests against a shared server, the streams
// with a prefix and only their events after a floor position.
type scope struct {
	prefix string
	floor  eventstore.Position
}

// physical is the name EventStoreDB knows a stream by.
func (sc scope) physical(stream string) string { return sc.prefix + stream }

// visible reports whether a recorded event belongs to the view, and the
// name its stream has there. EventStoreDB's own events never do.
func (sc scope) visible(re *esdbclient.RecordedEvent) (string, bool) {
	if isSystem(re.StreamID, re.EventType) || !strings.HasPrefix(re.StreamID, sc.prefix) {
		return "", false
	}
	if !sc.floor.IsZero() && toPosition(re.Position).Compare(sc.floor) <= 0 {
		return "", false
	}
	return re.StreamID[len(sc.prefix):], true
}

// start is the exclusive lower bound of a walk of $all asked to start after
// after.
func (sc scope) start(after eventstore.Position) eventstore.Position {
	if after.Compare(sc.floor) < 0 {
		return sc.floor
	}
	return after
}

// filter is the server-side filter of a subscription to the view.
func (sc scope) filter() *esdbclient.SubscriptionFilter {
	if sc.prefix == "" {
		return esdbclient.ExcludeSystemEventsFilter()
	}
	return &esdbclient.SubscriptionFilter{Type: esdbclient.StreamFilterType, Prefixes: []string{sc.prefix}}
}
