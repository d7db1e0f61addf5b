package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Schema is the PostgreSQL schema holding everything this package creates,
// so that other packages' tables (the read models) can share the database.
const Schema = "zhaoshang"

// MigrationsTable is goose's version table for the event store's schema,
// named apart from any other goose user of the same database.
const MigrationsTable = Schema + ".eventstore_migrations"

// migrationLockID is the advisory lock that serialises concurrent
// migrations of the event store (several processes starting at once). Any
// constant works as long as nothing else uses it; this one spells "zsevents".
const migrationLockID int64 = 0x7a736576656e7473

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate brings the event store's schema at url up to date and returns.
// Open does the same before it serves; Migrate is for `zhaoshang migrate`
// and for deployments that run migrations as a separate step.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("eventstore/postgres: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("eventstore/postgres: connect: %w", err)
	}
	defer pool.Close()
	return migrate(ctx, pool)
}

// migrate creates the schema if needed and applies pending migrations.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	if err := ensureSchema(ctx, pool); err != nil {
		return err
	}
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("eventstore/postgres: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(MigrationsTable),
		goose.WithSessionLocker(advisoryLocker{id: migrationLockID}),
		// The process-wide registry holds Go migrations other packages may
		// register for their own databases; this provider runs only its SQL.
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
	)
	if err != nil {
		return fmt.Errorf("eventstore/postgres: migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("eventstore/postgres: migrate: %w", err)
	}
	return nil
}

// ensureSchema creates Schema unless it exists. goose creates its version
// table inside it before running any migration, so the schema cannot be a
// migration itself. The existence check comes first because CREATE SCHEMA
// IF NOT EXISTS demands the CREATE privilege on the database even when the
// schema is there, and a least-privileged role may have been given a
// schema created by an administrator. The transaction-level advisory lock
// (the same key the migration lock uses) keeps two processes from racing
// to create it.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool) error {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", Schema).Scan(&exists); err != nil {
		return fmt.Errorf("eventstore/postgres: check schema: %w", err)
	}
	if exists {
		return nil
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{Schema}.Sanitize())
		return err
	})
	if err != nil {
		return fmt.Errorf("eventstore/postgres: create schema %s: %w", Schema, err)
	}
	return nil
}

// advisoryLocker is goose's session lock as a blocking pg_advisory_lock:
// goose's own PostgreSQL locker polls pg_try_advisory_lock at intervals of
// at least a second, which would make every process that starts beside
// another wait that long.
type advisoryLocker struct{ id int64 }

var _ lock.SessionLocker = advisoryLocker{}

func (l advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id)
	return err
}

func (l advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.id)
	return err
}
