package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/backend"
	"github.com/zhaoshang/zhaoshang/internal/demo"
	"github.com/zhaoshang/zhaoshang/projections"
)

// newCommands builds the write side over s.
func newCommands(s eventstore.Store, loc *time.Location, logger *slog.Logger, observe func(commands.Operation, time.Duration, error)) (*commands.App, error) {
	return commands.New(commands.Deps{
		Store:    s,
		Clock:    time.Now,
		Location: loc,
		Logger:   logger,
		Observe:  observe,
	})
}

// buildViews replays the whole log into fresh views and returns the runner
// once it has caught up with the head it saw at start, with the function
// that stops it and waits until it has stopped.
func buildViews(ctx context.Context, s eventstore.Store, loc *time.Location) (*projections.Runner, context.CancelFunc, error) {
	r, err := projections.NewRunner(projections.Config{Store: s, Options: projections.Options{Location: loc}})
	if err != nil {
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	stop := func() {
		cancel()
		<-done // the runner no longer reads the store once stop returns
	}
	select {
	case <-readyChan(runCtx, r):
		return r, stop, nil
	case err := <-done:
		cancel()
		if err == nil {
			err = errors.New("projections stopped before they were ready")
		}
		return nil, nil, err
	}
}

func readyChan(ctx context.Context, r *projections.Runner) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		if r.WaitReady(ctx) == nil {
			close(ch)
		}
	}()
	return ch
}

// loadDemo loads the demo dataset into the store at url when it is empty.
// The store is opened with the demo's simulated clock, so recorded_at
// follows the story (a late record is recorded late, the rest on time),
// whichever backend holds it.
func loadDemo(ctx context.Context, url string, seed int64, loc *time.Location, logger *slog.Logger) (demo.Summary, error) {
	// The dataset ends at the start of today, so the same seed gives the
	// same dataset all day (the demo dates everything relative to its end).
	y, m, d := time.Now().In(loc).Date()
	clock := &demo.Clock{}
	opts := demo.Options{Seed: seed, Now: time.Date(y, m, d, 0, 0, 0, 0, loc), Location: loc, Logger: logger, Clock: clock}
	s, err := backend.Open(ctx, url, logger, backend.WithClock(clock.Now))
	if err != nil {
		return demo.Summary{}, err
	}
	defer s.Close()
	return demo.Load(ctx, s, opts)
}

func describeDemo(sum demo.Summary) string {
	var stages []string
	for _, st := range []domain.Stage{domain.StageReported, domain.StageNegotiating, domain.StageSigned, domain.StageRegistered, domain.StageStarted, domain.StageProducing, domain.StageTerminated} {
		stages = append(stages, fmt.Sprintf("%s %d", st, sum.Stages[st]))
	}
	return fmt.Sprintf("demo (seed %d): %d units, %d projects (%s), %d transfers, %d rejected reports, %d supervision orders, %d tolerance cases; %d commands, %d events in %s",
		sum.Seed, sum.Units, sum.Projects, strings.Join(stages, ", "), sum.Transfers, sum.Rejected, sum.Orders, sum.Cases, sum.Commands, sum.Events, sum.Took.Round(time.Millisecond))
}
