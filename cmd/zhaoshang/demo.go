package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/zhaoshang/zhaoshang/internal/demo"
)

func runDemo(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("demo", "demo [--seed N] [--data DIR] [--store URL]", errOut)
	var sf storeFlags
	sf.register(fs)
	seed := fs.Int64("seed", 2024, "the dataset's seed: the same seed gives the same dataset")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	sum, err := loadDemo(ctx, sf.url(), *seed, loc, newLogger(errOut, slog.LevelWarn))
	if errors.Is(err, demo.ErrNotEmpty) {
		return fmt.Errorf("%w: the demo loads only into an empty store (or one holding the same demo); use another --data", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out, describeDemo(sum))
	return nil
}
