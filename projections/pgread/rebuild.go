package pgread

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// Rebuild writes every row of the views into a fresh generation of tables
// and swaps the readers' views to it in one transaction (blue/green):
// readers see the old tables, complete, until the swap commits, then the new
// ones, complete. The old generation is dropped afterwards. Changes that
// arrive during the rebuild stay pending and the next flush writes them to
// the new generation.
func (w *Writer) Rebuild(ctx context.Context) error {
	if w.views == nil {
		return fmt.Errorf("pgread: Rebuild before Attach")
	}
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if err := w.checkLock(ctx); err != nil {
		return err
	}
	return w.rebuild(ctx)
}

func (w *Writer) rebuild(ctx context.Context) error {
	v := w.views
	// Cut: everything the views hold at pos goes into the dump (which may
	// see later states too: rows are whole states); batches applied after
	// pos stay pending for the next flush. The position is read before
	// taking w.mu, never under it: the views call Observe, which takes
	// w.mu, while they hold their write lock.
	pos, events := v.Position(), v.Events()
	w.mu.Lock()
	w.pending = emptyTouched()
	w.pendingPos = eventstore.Start
	w.resume = pos
	w.mu.Unlock()
	now := w.cfg.Now()

	var maxGen int64
	if err := w.pool.QueryRow(ctx, `SELECT coalesce(max(substring(nspname from '_g([0-9]+)$')::bigint), 0)
FROM pg_namespace WHERE nspname LIKE $1`, w.cfg.Schema+`\_g%`).Scan(&maxGen); err != nil {
		return fmt.Errorf("pgread: %w", err)
	}
	newGen := max(maxGen, w.gen) + 1
	gs := quote(genSchema(w.cfg.Schema, newGen))

	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE SCHEMA `+gs); err != nil {
		return fmt.Errorf("pgread: %w", err)
	}
	for _, t := range tables {
		if _, err := tx.Exec(ctx, fmt.Sprintf(t.ddl, gs)); err != nil {
			return fmt.Errorf("pgread: creating %s: %w", t.name, err)
		}
	}
	// Alerts, then projects with their corrections and the kinds of their
	// alerts (as syncAlerts derives them, computed here from the same rows so
	// that no project row is written twice).
	alerts, err := w.alertRows(projections.AlertQuery{Now: now}, now, nil)
	if err != nil {
		return err
	}
	if err := copyRows(ctx, tx, gs, "alerts", alertCols, alerts); err != nil {
		return err
	}
	kinds := kindsByProject(alerts)
	projects, err := w.allProjects()
	if err != nil {
		return err
	}
	var rows, children [][]any
	for _, p := range projects {
		k := kinds[uid(p.ID)]
		if k == nil {
			k = []string{}
		}
		rows = append(rows, append(projectRow(p), k))
		children = append(children, correctionRows(p)...)
	}
	if err := copyRows(ctx, tx, gs, "projects", append(slices.Clone(projectCols), "alerts"), rows); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, gs, "project_corrections", correctionCols, children); err != nil {
		return err
	}
	// Orders with their progress reports.
	rows, children = rows[:0], children[:0]
	for cursor := ""; ; {
		page, err := v.Orders(projections.OrderQuery{Now: now, Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, o := range page.Items {
			rows = append(rows, orderRow(o, now))
			children = append(children, progressRows(o)...)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if err := copyRows(ctx, tx, gs, "orders", orderCols, rows); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, gs, "order_progress", progressCols, children); err != nil {
		return err
	}
	// Tolerance cases.
	rows = rows[:0]
	for cursor := ""; ; {
		page, err := v.Cases(projections.CaseQuery{Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			rows = append(rows, caseRow(c))
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if err := copyRows(ctx, tx, gs, "tolerance_cases", caseCols, rows); err != nil {
		return err
	}
	// Rankings of every period anything was counted in.
	rows = nil
	if first, last, ok := v.BusinessSpan(); ok {
		for _, p := range projections.PeriodsCovering(first, last, v.Location()) {
			r, err := v.Ranking(projections.RankingQuery{Period: p.String()})
			if err != nil {
				return err
			}
			rows = append(rows, rankingRows(p, r)...)
		}
	}
	if err := copyRows(ctx, tx, gs, "rankings", rankingCols, rows); err != nil {
		return err
	}
	// Assessments and rates of every year.
	var asm []projections.AssessmentResult
	for _, y := range v.AssessmentYears() {
		r, err := v.Assessment(projections.AssessmentQuery{Year: y})
		if err != nil {
			return err
		}
		asm = append(asm, r)
	}
	if err := writeAssessments(ctx, tx, gs, nil, asm); err != nil {
		return err
	}
	if err := w.writeRatesTo(ctx, tx, gs, now); err != nil {
		return err
	}
	if !pos.IsZero() {
		if err := writeCheckpoint(ctx, tx, gs, pos, events, now); err != nil {
			return err
		}
	}
	// Statistics of the tables syncAlerts joins, before the next flush runs
	// it: a fresh table has none until autovacuum gets to it, and the
	// planner, taking both for nearly empty, would join them by a nested
	// loop that costs seconds instead of milliseconds. (The other tables
	// are read by no join of ours; autovacuum analyses them.) ANALYZE runs
	// in the loading transaction, so a failure leaves no half-made
	// generation behind: the transaction rolls back and the schema with it.
	if _, err := tx.Exec(ctx, `ANALYZE `+gs+`.projects, `+gs+`.alerts`); err != nil {
		return fmt.Errorf("pgread: analysing generation %d: %w", newGen, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgread: loading generation %d: %w", newGen, err)
	}

	// The swap: every reader view points at the new generation, in one
	// transaction.
	if err := w.swap(ctx, newGen); err != nil {
		// Nothing points at the new generation (the swap is one
		// transaction): drop it rather than leave a full copy behind. Best
		// effort, even if ctx is done; the next rebuild numbers past it.
		_, _ = w.pool.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+gs+` CASCADE`)
		return err
	}
	w.gen, w.needRebuild, w.lastRefresh, w.flushed = newGen, false, now, pos
	// Every generation but the new one goes: the old one, and any an
	// interrupted rebuild or drop left behind. Each drop waits for readers
	// still on those tables; they finish first.
	return w.dropGenerations(ctx, newGen)
}

// dropGenerations drops every generation schema of the writer's schema
// but keep.
func (w *Writer) dropGenerations(ctx context.Context, keep int64) error {
	rows, err := w.pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname ~ $1`, "^"+w.cfg.Schema+`_g[0-9]+$`)
	if err != nil {
		return fmt.Errorf("pgread: listing generations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("pgread: listing generations: %w", err)
	}
	for _, n := range names {
		if n == genSchema(w.cfg.Schema, keep) {
			continue
		}
		if _, err := w.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+quote(n)+` CASCADE`); err != nil {
			return fmt.Errorf("pgread: dropping %s: %w", n, err)
		}
	}
	return nil
}

// swapLockTimeout bounds how long the swap waits for each reader view's
// lock: below PostgreSQL's default deadlock_timeout (1 s), so that when a
// reader transaction holding one view waits for another the swap holds,
// the swap gives up and retries rather than the reader being aborted as a
// deadlock victim, and no reader waits behind the swap for long.
const swapLockTimeout = 300 * time.Millisecond

// swap points every reader view at generation gen, in one transaction,
// retried with backoff while readers hold the views.
func (w *Writer) swap(ctx context.Context, gen int64) error {
	var err error
	for attempt, wait := 0, 50*time.Millisecond; ; attempt++ {
		if err = w.swapOnce(ctx, gen); err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" || attempt == 50 { // lock_not_available
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (w *Writer) swapOnce(ctx context.Context, gen int64) error {
	base := quote(w.cfg.Schema)
	gs := quote(genSchema(w.cfg.Schema, gen))
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, swapLockTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("pgread: %w", err)
	}
	for _, rv := range readerViews {
		if _, err := tx.Exec(ctx, `DROP VIEW IF EXISTS `+base+`.`+quote(rv.name)); err != nil {
			return fmt.Errorf("pgread: swapping %s: %w", rv.name, err)
		}
		if _, err := tx.Exec(ctx, `CREATE VIEW `+base+`.`+quote(rv.name)+` AS `+fmt.Sprintf(rv.query, gs)); err != nil {
			return fmt.Errorf("pgread: swapping %s: %w", rv.name, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+base+`.meta (one, generation, ddl_version, ddl_fingerprint, swapped_at) VALUES (true, $1, $2, $3, now())
ON CONFLICT (one) DO UPDATE SET generation = EXCLUDED.generation, ddl_version = EXCLUDED.ddl_version,
	ddl_fingerprint = EXCLUDED.ddl_fingerprint, swapped_at = EXCLUDED.swapped_at`,
		gen, ddlVersion, ddlFingerprint); err != nil {
		return fmt.Errorf("pgread: %w", err)
	}
	return tx.Commit(ctx)
}
