package main

import (
	"context"
	"fmt"
	"io"

	"github.com/zhaoshang/zhaoshang/eventstore/backend"
	"github.com/zhaoshang/zhaoshang/eventstore/postgres"
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
			return fmt.Errorf("--store %s: only PostgreSQL stores have schema migrations", backend.Redact(*store))
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
