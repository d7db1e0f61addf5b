package esdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// errClosed answers every call after Close.
var errClosed = errors.New("eventstore/esdb: the store is closed")

// holder owns the client and replaces it when it has closed itself.
//
// The v4.2.0 client runs one goroutine per client that owns the gRPC
// connection. When discovering a node fails for longer than
// maxDiscoverAttempts × discoveryInterval (about a second by default) that
// goroutine exits and the client refuses every later call with
// ErrorCodeConnectionClosed, forever. A server restart longer than a second
// would therefore take the store down for good; the holder builds a fresh
// client instead, and every call goes through it.
//
// A client that closed itself is dropped, never Closed: its goroutine is
// gone, so Close would only close the channel the client's error handling
// still sends reconnect requests on, turning a late failure of an
// operation in flight into a panic. Its connection is not reachable from
// here; at most one idle connection per outage stays behind.
//
// A client is Closed only by the store's Close, and only once no operation
// runs on it, for the same reason.
type holder struct {
	cfg esdbclient.Configuration

	mu       sync.Mutex
	client   *esdbclient.Client
	gen      uint64 // how many clients were built, the current one included
	closed   bool
	inflight map[*esdbclient.Client]int
}

func newHolder(cfg *esdbclient.Configuration) (*holder, error) {
	h := &holder{cfg: *cfg, inflight: map[*esdbclient.Client]int{}}
	c, err := h.build()
	if err != nil {
		return nil, err
	}
	h.client, h.gen = c, 1
	return h, nil
}

// build makes a client from a copy of the configuration: the client keeps a
// pointer to the one it is given.
func (h *holder) build() (*esdbclient.Client, error) {
	cfg := h.cfg
	c, err := esdbclient.NewClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("eventstore/esdb: client: %w", err)
	}
	return c, nil
}

// acquire returns the current client for one operation; release must follow.
func (h *holder) acquire() (*esdbclient.Client, uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, errClosed
	}
	h.inflight[h.client]++
	return h.client, h.gen, nil
}

func (h *holder) release(c *esdbclient.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inflight[c]--
	if h.inflight[c] > 0 {
		return
	}
	delete(h.inflight, c)
	if h.closed && c == h.client {
		_ = c.Close()
	}
}

// renew replaces the client of generation gen, which reported that it
// closed itself. Concurrent callers seeing the same dead client renew it
// once.
func (h *holder) renew(gen uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	if h.gen != gen {
		return nil
	}
	c, err := h.build()
	if err != nil {
		return err
	}
	slog.Info("eventstore/esdb: the EventStoreDB client closed itself after failing to reach the server; using a new one", "generation", h.gen+1)
	h.client = c
	h.gen++
	return nil
}

// do runs op on the current client. When the client answers that it has
// closed itself, do renews it and runs op once more: the dead client refuses
// before sending anything, so nothing op asked for has happened.
func (h *holder) do(op func(*esdbclient.Client) error) error {
	for attempt := 0; ; attempt++ {
		c, gen, err := h.acquire()
		if err != nil {
			return err
		}
		err = op(c)
		h.release(c)
		if attempt > 0 || !hasCode(err, esdbclient.ErrorCodeConnectionClosed) {
			return err
		}
		if rerr := h.renew(gen); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
}

// generation is how many clients the holder has built.
func (h *holder) generation() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

// close refuses new operations and closes the client once the operations
// running on it end.
func (h *holder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	if h.inflight[h.client] == 0 {
		_ = h.client.Close()
	}
}

// clientLog routes the client's own log lines to slog at debug level: the
// client logs routine events (every subscription it closes, every failed
// discovery attempt) at error level, and the adapter returns every failure
// that matters as an error anyway.
func clientLog(level esdbclient.LogLevel, format string, args ...any) {
	if !slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	// The client sometimes passes its arguments as one slice.
	if len(args) == 1 {
		if inner, ok := args[0].([]any); ok {
			args = inner
		}
	}
	slog.Debug(fmt.Sprintf(format, args...), "component", "esdb-client", "client_level", level)
}
