package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/backend"
)

// storeFlags are the flags of every command that opens the event store.
type storeFlags struct {
	data  string
	store string
	tz    string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory (embedded store, secret file, checkpoints)")
	fs.StringVar(&f.store, "store", "", "event store URL: bolt:PATH, postgres://… or esdb://… (default bolt:<data>/events.db)")
	fs.StringVar(&f.tz, "tz", "Asia/Shanghai", "time zone in which dates are read")
}

func (f *storeFlags) url() string {
	if f.store != "" {
		return f.store
	}
	return backend.DefaultURL(f.data)
}

func (f *storeFlags) location() (*time.Location, error) {
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return nil, usageErr("--tz %q: not a time zone of the zone database (Asia/Shanghai, UTC, …)", f.tz)
	}
	return loc, nil
}

// openExisting opens a store that must already hold a log, for the commands
// that read or seal one (verify, export, rebuild, seal). Opening the
// embedded store creates a missing file, so a mistyped --data would
// otherwise give an empty log that verifies as OK and leave a stray file.
func (f *storeFlags) openExisting(ctx context.Context, logger *slog.Logger) (eventstore.Store, error) {
	if path, ok := strings.CutPrefix(f.url(), "bolt:"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no event store at %s (give --data or --store): %w", path, err)
		}
	}
	return f.open(ctx, logger)
}

func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (eventstore.Store, error) {
	s, err := backend.Open(ctx, f.url(), logger)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", backend.Redact(f.url()), err)
	}
	return s, nil
}

// newLogger logs JSON lines to w, the command's error stream (os.Stderr
// from main), never to a stream of its own choosing.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// operatorActor is the actor recorded for what an operator does from the
// command line (seals, imports, the demo's set-up).
func operatorActor(subject string) eventstore.Actor {
	if subject == "" {
		subject = "operator"
		if u := os.Getenv("USER"); u != "" {
			subject = "operator:" + u
		}
	}
	return eventstore.Actor{Subject: subject, Role: "centre"}
}
