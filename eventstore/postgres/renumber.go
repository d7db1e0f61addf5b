package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// renumberSQL rewrites every event in one transaction, in the global order
// the restored table had. The rows get this transaction's id (below every
// id the server will hand out from now on) and new global positions in
// that order; every other column, the hash chain included, is kept.
var renumberSQL = []string{
	`CREATE TEMPORARY TABLE zs_restored_events ON COMMIT DROP AS SELECT * FROM zhaoshang.events`,
	`TRUNCATE zhaoshang.events`,
	`INSERT INTO zhaoshang.events (event_id, stream, version, type, data, occurred_at, recorded_at,
		actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash)
	SELECT event_id, stream, version, type, data, occurred_at, recorded_at,
		actor_subject, actor_role, actor_unit, command_id, correlation_id, causation_id, prev_hash, hash
	FROM zs_restored_events
	ORDER BY tx_id, global_position`,
}

// Renumber repairs an events table restored from a logical dump (pg_dump)
// into a cluster whose transaction counter is behind the restored tx_ids,
// the condition Open refuses with ErrRestoredXIDs. It keeps every event and
// the global order but gives the events new positions, so every consumer
// that keeps a position (projections, relays) must start again from the
// beginning. It answers how many events it renumbered: 0, changing nothing,
// when the table does not need it. Run it with no store open on the
// database; it locks the table for its duration.
func Renumber(ctx context.Context, url string) (int64, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return 0, fmt.Errorf("eventstore/postgres: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("eventstore/postgres: connect: %w", err)
	}
	defer pool.Close()
	if err := migrate(ctx, pool); err != nil {
		return 0, err
	}

	var n int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE zhaoshang.events IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		var ahead bool
		if err := tx.QueryRow(ctx, `SELECT coalesce(
			(SELECT tx_id FROM zhaoshang.events ORDER BY tx_id DESC LIMIT 1) >= pg_current_xact_id(),
			false)`).Scan(&ahead); err != nil {
			return err
		}
		if !ahead {
			return nil
		}
		for _, q := range renumberSQL {
			tag, err := tx.Exec(ctx, q)
			if err != nil {
				return err
			}
			n = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("eventstore/postgres: renumber: %w", err)
	}
	return n, nil
}
