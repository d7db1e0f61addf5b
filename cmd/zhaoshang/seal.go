package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

func runSeal(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("seal", "seal [--data DIR] [--store URL]", errOut)
	var sf storeFlags
	sf.register(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	s, err := sf.openExisting(ctx, newLogger(errOut, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer s.Close()
	sd, res, err := eventstore.Seal(ctx, s, operatorActor(""), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sealed %d events through position %s: digest %s (seal at position %s)\n", sd.Events, sd.Through, sd.Digest, res.Position)
	return nil
}
