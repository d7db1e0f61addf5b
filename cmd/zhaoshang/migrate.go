package main

import (
	"context"
	"fmt"
	"io"

	"github.com/zhaoshang/zhaoshang/eventstore/backend"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
	"github.com/zhaoshang/zhaoshang/projections/pgread"
)

func runMigrate(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("migrate", "migrate [--store postgres://…] [--readmodel postgres://…]", errOut)
	store := fs.String("store", "", "PostgreSQL event store URL to migrate")
	readmodel := fs.String("readmodel", "", "PostgreSQL read-model URL to migrate")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *store == "" && *readmodel == "" {
		fmt.Fprintln(errOut, "nothing to migrate: give --store and/or --readmodel (PostgreSQL URLs); the embedded store needs no migrations")
		return errUsage
	}
	if *store != "" {
		kind, err := backend.Kind(*store)
		if err != nil {
			return err
		}
		if kind != "postgres" {
			return usageErr("--store %s: only PostgreSQL stores have schema migrations", backend.Redact(*store))
		}
		if err := postgres.Migrate(ctx, *store); err != nil {
			return err
		}
		fmt.Fprintf(out, "event store schema up to date: %s\n", backend.Redact(*store))
	}
	if *readmodel != "" {
		if err := migrateReadModel(ctx, *readmodel); err != nil {
			return err
		}
		fmt.Fprintf(out, "read-model schema up to date: %s\n", backend.Redact(*readmodel))
	}
	return nil
}

// migrateReadModel creates the read model's schema and its metadata table;
// the tables themselves are versioned DDL that the writer builds (and
// rebuilds into a new generation when their version changes) when serve or
// rebuild runs.
func migrateReadModel(ctx context.Context, url string) error {
	w, err := pgread.Open(ctx, pgread.Config{URL: url})
	if err != nil {
		return err
	}
	w.Close()
	return nil
}
