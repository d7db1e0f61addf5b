package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/backend"
	"github.com/zhaoshang/zhaoshang/internal/bench"
	"github.com/zhaoshang/zhaoshang/projections"
)

// runBench measures the end-to-end figures on this machine
// (docs/benchmarks.md) through the same composition serve uses: the
// commands, views and API built here, the store opened from its URL.
func runBench(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("bench", "bench [--store URL] [--events N] [--duration 5s] [--concurrency 64] [--rounds 5] [--json]", errOut)
	// Not storeFlags.register: the bench must never default to ./data,
	// the store a server may be using; it writes into a fresh file.
	var sf storeFlags
	fs.StringVar(&sf.store, "store", "", "event store to measure, which must be empty: bolt:PATH, postgres://… or esdb://… (default a fresh bolt file in a temporary directory, removed afterwards)")
	fs.StringVar(&sf.tz, "tz", "Asia/Shanghai", "time zone in which dates are read")
	events := fs.Int("events", bench.DefaultEvents, "size of the generated log the read path and the rebuild are measured on")
	duration := fs.Duration("duration", bench.DefaultDuration, "how long each figure is measured")
	concurrency := fs.Int("concurrency", bench.DefaultConcurrency, "concurrent callers of the write path and clients of the read path")
	rounds := fs.Int("rounds", bench.DefaultRounds, "interleaved rounds each figure's duration is split into")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "bench takes no arguments (got %q)\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	if *events <= 0 || *duration <= 0 || *concurrency <= 0 || *rounds <= 0 {
		fmt.Fprintln(errOut, "--events, --duration, --concurrency and --rounds must be positive")
		return errUsage
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	if sf.store == "" {
		dir, err := os.MkdirTemp("", "zhaoshang-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		sf.store = backend.DefaultURL(dir)
	}
	logger := bench.NewLogger(errOut)
	// As serve wires them: command durations and requests observed into
	// the metrics registry, every request logged.
	metrics := api.NewMetrics()
	observe := func(_ commands.Operation, d time.Duration, err error) {
		if err == nil {
			metrics.ObserveAppend(d)
		}
	}
	rep, err := bench.Run(ctx, bench.Config{
		Open:  func(ctx context.Context) (eventstore.Store, error) { return sf.open(ctx, logger) },
		Store: backend.Redact(sf.url()),
		Wiring: bench.Wiring{
			Commands: func(s eventstore.Store) (*commands.App, error) { return newCommands(s, loc, logger, observe) },
			Views: func(ctx context.Context, s eventstore.Store) (*projections.Runner, context.CancelFunc, error) {
				return buildViews(ctx, s, loc)
			},
			Server: func(s eventstore.Store, app *commands.App, r *projections.Runner, secret []byte) (*api.Server, error) {
				srv, err := api.New(api.Config{Logger: logger, Secret: secret, Location: loc, Positioner: r, Readiness: r,
					Head: s, Metrics: metrics})
				if err != nil {
					return nil, err
				}
				return srv, api.Mount(srv, api.Deps{Commands: app, Views: r.Views(), Past: r, Log: s})
			},
		},
		Events:      *events,
		Duration:    *duration,
		Rounds:      *rounds,
		Concurrency: *concurrency,
		Progress:    errOut,
	})
	if err != nil {
		if rep != nil && len(rep.Figures) > 0 {
			fmt.Fprintln(errOut, "figures measured before the failure:")
			_ = rep.WriteText(errOut)
		}
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(out)
}
