package relay

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
)

// Serve opens the transport cfg names, runs the router (NewRouter) and, once
// it is subscribed, a relay from log, until ctx is done — then it stops
// both, closes the transport and returns nil — or until one of them fails,
// which stops the other and returns the failure. It is what `zhaoshang serve
// --relay` runs.
//
// Stopping in the middle of a publish is safe: the in-process transport
// reports a message its router did not finish as failed and NATS acknowledges
// only stored messages, so the checkpoint never passes an event that was not
// delivered.
func Serve(ctx context.Context, log Log, cfg Config, logger watermill.LoggerAdapter) (err error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.CheckpointPath == "" {
		return fmt.Errorf("%w: CheckpointPath is required", ErrInvalidConfig)
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	t, err := OpenTransport(cfg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.Close()) }()
	router, err := NewRouter(t, cfg, logger)
	if err != nil {
		return err
	}
	r, err := New(log, t, cfg, logger)
	if err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(runCtx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		if err == nil {
			err = ctx.Err()
		}
		return ignoreStop(ctx, fmt.Errorf("relay: router: %w", err))
	}
	relayDone := make(chan error, 1)
	go func() { relayDone <- r.Run(runCtx) }()

	var relayErr, routerErr error
	select {
	case relayErr = <-relayDone:
		cancel()
		routerErr = <-routerDone
	case routerErr = <-routerDone:
		cancel()
		relayErr = <-relayDone
		if routerErr == nil && ctx.Err() == nil {
			routerErr = errors.New("relay: router stopped on its own")
		}
	}
	if routerErr != nil {
		routerErr = fmt.Errorf("relay: router: %w", routerErr)
	}
	return errors.Join(ignoreStop(ctx, relayErr), ignoreStop(ctx, routerErr))
}

// ignoreStop drops the error of a shutdown asked for through ctx.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}
