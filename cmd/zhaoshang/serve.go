package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/zhaoshang/zhaoshang/api"
	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/backend"
	"github.com/zhaoshang/zhaoshang/internal/demo"
	"github.com/zhaoshang/zhaoshang/projections"
	"github.com/zhaoshang/zhaoshang/projections/pgread"
	"github.com/zhaoshang/zhaoshang/projections/relay"
)

func runServe(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("serve", "serve [--addr 127.0.0.1:8080] [--data ./data] [--store URL] [--readmodel URL] [--relay URL] [--demo]", errOut)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	readmodel := fs.String("readmodel", "", "PostgreSQL URL of the read-model tables (none when empty)")
	relayURL := fs.String("relay", "", `publish every event through watermill: "gochannel" (in-process) or nats://host:port (none when empty)`)
	webhook := fs.String("webhook", "", "with --relay: URL notified of exclusivity conflicts, orders, terminations and tolerance requests")
	webhookSecret := fs.String("webhook-secret", "", "with --webhook: key of the HMAC-SHA256 signature on each notification (unsigned when empty)")
	relayFromHead := fs.Bool("relay-from-head", false, "with --relay and no checkpoint yet: start after the current last event instead of publishing the whole history")
	withDemo := fs.Bool("demo", false, "load the demo dataset first when the store is empty")
	seed := fs.Int64("seed", 2024, "with --demo: the dataset's seed")
	sealEvery := fs.Duration("seal-every", time.Hour, "append a global seal this often when the log has grown (0: never)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *relayURL == "gochannel" && *webhook == "" {
		// In-process, the router's webhook handler is the only subscriber:
		// without it the relay would wait for a reader forever.
		fmt.Fprintln(errOut, "--relay gochannel publishes to this process alone and needs --webhook to deliver anything")
		return errUsage
	}
	if (*webhook != "" || *webhookSecret != "" || *relayFromHead) && *relayURL == "" {
		fmt.Fprintln(errOut, "--webhook, --webhook-secret and --relay-from-head need --relay")
		return errUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	logger := newLogger(errOut, level)
	loc, err := sf.location()
	if err != nil {
		return err
	}
	url := sf.url()
	kind, err := backend.Kind(url)
	if err != nil {
		return err
	}

	if *withDemo {
		sum, err := loadDemo(ctx, url, *seed, loc, logger)
		switch {
		case errors.Is(err, demo.ErrNotEmpty):
			logger.Info("demo not loaded: the store already holds other events")
		case err != nil:
			return fmt.Errorf("demo: %w", err)
		default:
			logger.Info(describeDemo(sum))
		}
	}

	secret, err := api.LoadOrCreateSecret(sf.data)
	if err != nil {
		return err
	}
	store, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	metrics := api.NewMetrics()
	app, err := newCommands(store, loc, logger, func(_ commands.Operation, d time.Duration, err error) {
		if err == nil {
			metrics.ObserveAppend(d)
		}
	})
	if err != nil {
		return err
	}
	runner, err := projections.NewRunner(projections.Config{Store: store, Options: projections.Options{Location: loc}})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	// A background part that fails stops the server: serving views that no
	// longer follow the log would answer stale data as if it were current.
	background := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				logger.Error(name+" stopped", "err", err)
				mu.Lock()
				if !strings.HasPrefix(err.Error(), name+":") {
					err = fmt.Errorf("%s: %w", name, err)
				}
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}

	if *readmodel != "" {
		w, err := pgread.Open(ctx, pgread.Config{URL: *readmodel, Ready: runner.Ready, OnError: func(err error) {
			// The writer retries at the next flush; say so, or a database
			// that keeps refusing writes would go unnoticed.
			logger.Warn("read model flush failed; retrying", "err", err)
		}})
		if err != nil {
			return fmt.Errorf("read model %s: %w", backend.Redact(*readmodel), err)
		}
		defer w.Close()
		w.Attach(runner.Views()) // before the runner feeds the views
		background("read model", w.Run)
	}
	background("projections", runner.Run)
	background("metrics", func(ctx context.Context) error { return trackLag(ctx, store, runner, metrics) })
	if *relayURL != "" {
		cfg := relay.Config{
			Publisher:      *relayURL,
			CheckpointPath: filepath.Join(sf.data, "relay.checkpoint"),
			WebhookURL:     *webhook,
			WebhookSecret:  *webhookSecret,
			FromHead:       *relayFromHead,
		}
		background("relay", func(ctx context.Context) error {
			return relay.Serve(ctx, store, cfg, watermill.NewSlogLogger(logger))
		})
	}
	if *sealEvery > 0 {
		background("sealer", func(ctx context.Context) error { return sealPeriodically(ctx, store, *sealEvery, logger) })
	}

	srv, err := api.New(api.Config{
		Addr:       *addr,
		Logger:     logger,
		Secret:     secret,
		Location:   loc,
		Positioner: runner,
		Readiness:  runner,
		Head:       store,
		Metrics:    metrics,
	})
	if err != nil {
		return err
	}
	if err := api.Mount(srv, api.Deps{Commands: app, Views: runner.Views(), Past: runner, Log: store}); err != nil {
		return err
	}
	where := sf.data
	if kind != "bolt" {
		where = backend.Redact(url)
	}
	// Listen first: "serving" is said only once the address is ours.
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		cancel()
		wg.Wait()
		return errors.Join(append(errs, fmt.Errorf("listen %s: %w", *addr, err))...)
	}
	logger.Info(fmt.Sprintf("zhaoshang serving http://%s — store %s, data in %s", *addr, kind, where),
		"addr", *addr, "store", kind, "data", where, "readmodel", *readmodel != "", "relay", *relayURL)
	fmt.Fprintf(out, "zhaoshang serving http://%s (store %s, data in %s); token: zhaoshang token --data %s --role centre\n", *addr, kind, where, sf.data)

	serveErr := srv.Serve(ctx, ln)
	cancel()
	wg.Wait()
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		errs = append(errs, serveErr)
	}
	return errors.Join(errs...)
}

// trackLag publishes how far the views trail the log.
func trackLag(ctx context.Context, s eventstore.Store, r *projections.Runner, m *api.Metrics) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		head, err := s.Head(ctx)
		if err != nil {
			continue // the store's own errors surface on the request path
		}
		pos := r.Position()
		m.SetPosition(pos)
		var lag uint64
		if head.Compare(pos) > 0 && head.Prepare > pos.Prepare {
			lag = head.Prepare - pos.Prepare
		}
		m.SetProjectionLag(lag)
	}
}

// sealPeriodically appends a global seal whenever the log has grown since
// the last seal, so that removing a stream's last event or a whole stream is
// detectable (docs/eventstore.md). Every node of a cluster may run it:
// SealIfGrown appends one seal per interval however many nodes try.
func sealPeriodically(ctx context.Context, s eventstore.Store, every time.Duration, logger *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		sd, _, sealed, err := eventstore.SealIfGrown(ctx, s, eventstore.Actor{Subject: "zhaoshang:sealer", Role: "centre"}, time.Now())
		switch {
		case err != nil:
			logger.Warn("seal failed; trying again at the next interval", "err", err)
		case sealed:
			logger.Info("sealed the log", "events", sd.Events, "through", sd.Through.String(), "digest", sd.Digest)
		}
	}
}
