package backend

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/eventstore/esdb"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
)

// DefaultURL is the embedded store inside the data directory.
func DefaultURL(dataDir string) string { return "bolt:" + filepath.Join(dataDir, "events.db") }

// Kind names the backend a URL selects: "bolt", "postgres" or "esdb".
func Kind(url string) (string, error) {
	switch {
	case strings.HasPrefix(url, "bolt:"):
		return "bolt", nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return "postgres", nil
	case strings.HasPrefix(url, "esdb://"), strings.HasPrefix(url, "esdb+discover://"), strings.HasPrefix(url, "kurrentdb://"):
		return "esdb", nil
	}
	return "", fmt.Errorf("store URL %q: want bolt:PATH, postgres://… or esdb://…", Redact(url))
}

// Option adjusts Open, whatever the backend.
type Option func(*options)

type options struct {
	clock func() time.Time
}

// WithClock sets the clock that stamps recorded_at in any backend (default
// time.Now): the demo loader drives a simulated clock through its story.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// Open opens the store url names. For bolt, the file's directory is
// created when missing.
func Open(ctx context.Context, url string, logger *slog.Logger, opts ...Option) (eventstore.Store, error) {
	kind, err := Kind(url)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch kind {
	case "bolt":
		path := strings.TrimPrefix(url, "bolt:")
		if path == "" {
			return nil, fmt.Errorf("store URL %q: bolt needs a file path", url)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return bolt.Open(path, bolt.WithClock(o.clock))
	case "postgres":
		return postgres.Open(ctx, url, postgres.WithLogger(logger), postgres.WithClock(o.clock))
	default:
		return esdb.Open(ctx, url, esdb.WithClock(o.clock))
	}
}

// Redact hides a password in a URL for logs.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	if user, _, hasPw := strings.Cut(userinfo, ":"); hasPw {
		return scheme + "://" + user + ":***@" + host
	}
	return url
}
