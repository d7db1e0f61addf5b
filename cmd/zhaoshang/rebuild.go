package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore/backend"
	"github.com/zhaoshang/zhaoshang/projections/pgread"
)

func runRebuild(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("rebuild", "rebuild [--data DIR] [--store URL] [--readmodel URL]", errOut)
	var sf storeFlags
	sf.register(fs)
	readmodel := fs.String("readmodel", "", "PostgreSQL read model to rebuild into fresh tables and swap in (blue/green)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	logger := newLogger(errOut, slog.LevelWarn)
	s, err := sf.openExisting(ctx, logger)
	if err != nil {
		return err
	}
	defer s.Close()

	start := time.Now()
	runner, stop, err := buildViews(ctx, s, loc)
	if err != nil {
		return err
	}
	defer stop()
	took := time.Since(start)
	n := runner.Events()
	fmt.Fprintf(out, "views rebuilt from %d events through position %s in %s (%.0f events/s)\n",
		n, runner.Position(), took.Round(time.Millisecond), float64(n)/took.Seconds())
	for _, d := range runner.Digests() {
		fmt.Fprintf(out, "view %-12s events %d state %s\n", d.View, d.Events, d.State)
	}
	if *readmodel == "" {
		return nil
	}
	w, err := pgread.Open(ctx, pgread.Config{URL: *readmodel})
	if err != nil {
		return fmt.Errorf("read model %s: %w", backend.Redact(*readmodel), err)
	}
	defer w.Close()
	w.Attach(runner.Views())
	start = time.Now()
	if err := w.Rebuild(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "read-model tables rebuilt and swapped in at position %s in %s\n", w.Checkpoint(), time.Since(start).Round(time.Millisecond))
	return nil
}
