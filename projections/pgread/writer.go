package pgread

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// Config configures a Writer.
type Config struct {
	// URL is the read-model database (postgres://…). Required.
	URL string
	// Schema is the stable schema readers use (default "zs_read"); the
	// tables live in <Schema>_g<N>.
	Schema string
	// FlushInterval is how often Run writes what changed (default 1 s).
	FlushInterval time.Duration
	// RefreshInterval is how often every alert and rate is evaluated again
	// at the clock, events or not (default 1 min).
	RefreshInterval time.Duration
	// Now is the clock alerts, orders and rates are judged at (default
	// time.Now).
	Now func() time.Time
	// Ready, when set, says whether the views have caught up with the log
	// (Runner.Ready). Caught up yet still short of the checkpoint means the
	// tables reflect a longer log than the store holds (a store restored
	// from an older backup, or renumbered): the writer rebuilds them rather
	// than wait for positions that will not come.
	Ready func() bool
	// OnError, when set, is told of every failed flush in Run (the rows
	// stay pending and the next tick retries them), for logs and metrics.
	OnError func(error)
}

// ErrLocked is returned by Open when another writer holds the schema: one
// node writes the read model (ARCHITECTURE.md "Deployments").
var ErrLocked = errors.New("pgread: another writer holds the read-model schema")

// Writer mirrors views into PostgreSQL. Open it, Attach it to the views
// before they are fed, then call Run (or Flush and Rebuild directly).
type Writer struct {
	cfg   Config
	pool  *pgxpool.Pool
	lock  *pgxpool.Conn // holds the advisory lock for the writer's life
	key   int64         // the lock's key
	views *projections.Views

	mu         sync.Mutex
	pending    *projections.Touched
	pendingPos eventstore.Position
	resume     eventstore.Position

	writeMu     sync.Mutex // serialises Flush and Rebuild
	gen         int64
	needRebuild bool
	lastRefresh time.Time
	// flushed is the position the tables reflect (guarded by writeMu): a
	// correction after it is new to the tables, and the assessment years
	// it affects are rewritten.
	flushed eventstore.Position
}

// Open connects, takes the schema's writer lock, and reads the checkpoint:
// the views' batches up to it are already in the tables.
func Open(ctx context.Context, cfg Config) (*Writer, error) {
	if cfg.URL == "" {
		return nil, errors.New("pgread: Config.URL is required")
	}
	if cfg.Schema == "" {
		cfg.Schema = "zs_read"
	}
	if !schemaName.MatchString(cfg.Schema) {
		return nil, fmt.Errorf("pgread: schema %q: want lower-case letters, digits and _", cfg.Schema)
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pool, err := pgxpool.New(ctx, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("pgread: %w", err)
	}
	w := &Writer{cfg: cfg, pool: pool, pending: emptyTouched()}
	if err := w.open(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// takeLock takes the schema's lock on a connection of its own, kept as
// w.lock; refused is returned when another writer holds it.
func (w *Writer) takeLock(ctx context.Context, refused error) error {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgread: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, w.key).Scan(&got); err != nil {
		conn.Release()
		return fmt.Errorf("pgread: %w", err)
	}
	if !got {
		conn.Release()
		return refused
	}
	w.lock = conn
	return nil
}

func (w *Writer) open(ctx context.Context) error {
	h := fnv.New64a()
	h.Write([]byte("zhaoshang read model " + w.cfg.Schema))
	w.key = int64(h.Sum64())
	if err := w.takeLock(ctx, ErrLocked); err != nil {
		return err
	}
	base := quote(w.cfg.Schema)
	if _, err := w.pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+base+`;
CREATE TABLE IF NOT EXISTS `+base+`.meta (
	one         boolean PRIMARY KEY DEFAULT true CHECK (one),
	generation  bigint NOT NULL,
	ddl_version integer NOT NULL,
	swapped_at  timestamptz NOT NULL);
ALTER TABLE `+base+`.meta ADD COLUMN IF NOT EXISTS ddl_fingerprint text NOT NULL DEFAULT ''`); err != nil {
		return fmt.Errorf("pgread: creating %s: %w", w.cfg.Schema, err)
	}
	var ddl int
	var fingerprint string
	err := w.pool.QueryRow(ctx, `SELECT generation, ddl_version, ddl_fingerprint FROM `+base+`.meta`).Scan(&w.gen, &ddl, &fingerprint)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		w.needRebuild = true
		return nil
	case err != nil:
		return fmt.Errorf("pgread: reading %s.meta: %w", w.cfg.Schema, err)
	case ddl != ddlVersion || fingerprint != ddlFingerprint:
		// Tables of another definition (a generation built before the
		// fingerprint existed has ''): rebuild, never write into them.
		w.needRebuild = true
		return nil
	}
	var c, p string
	err = w.pool.QueryRow(ctx, `SELECT commit_pos::text, prepare_pos::text FROM `+quote(genSchema(w.cfg.Schema, w.gen))+`.checkpoint`).Scan(&c, &p)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01":
		// The generation meta names is gone (dropped by hand, a partial
		// restore): the tables are derived, so build them again.
		w.needRebuild = true
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		w.resume = eventstore.Start
	case err != nil:
		return fmt.Errorf("pgread: reading the checkpoint: %w", err)
	default:
		var pos eventstore.Position
		if _, err := fmt.Sscan(c, &pos.Commit); err != nil {
			return fmt.Errorf("pgread: checkpoint %q: %w", c, err)
		}
		if _, err := fmt.Sscan(p, &pos.Prepare); err != nil {
			return fmt.Errorf("pgread: checkpoint %q: %w", p, err)
		}
		w.resume = pos
	}
	w.flushed = w.resume
	return nil
}

// ErrLockLost is a writer whose lock connection died (a database restart,
// pg_terminate_backend) while another writer took the schema: its flushes
// write nothing and fail with it until the other writer has stopped; the
// next flush then takes the lock back and rebuilds.
var ErrLockLost = errors.New("pgread: the read-model lock was lost and another writer holds the schema")

// checkLock makes sure the writer still holds the schema's lock before it
// writes: the lock is a session lock on one connection, and if that
// connection died the lock went with it, silently. A lost lock is taken
// again on a new connection when no other writer has it.
func (w *Writer) checkLock(ctx context.Context) error {
	// Asked on the lock's own connection, which also keeps it from being
	// idle (idle_session_timeout would end it, and the lock with it). An
	// error means the connection, and so the lock, is gone.
	held := false
	if w.lock != nil {
		err := w.lock.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND pid = pg_backend_pid() AND classid = $1 AND objid = $2 AND objsubid = 1)`,
			uint32(uint64(w.key)>>32), uint32(uint64(w.key))).Scan(&held)
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
	if held {
		return nil
	}
	if w.lock != nil {
		w.lock.Release()
		w.lock = nil
	}
	if err := w.takeLock(ctx, ErrLockLost); err != nil {
		return err
	}
	// Another writer may have written while the lock was free: build the
	// tables afresh from the views rather than trust the checkpoint.
	w.needRebuild = true
	return nil
}

// Close releases the lock and the connections.
func (w *Writer) Close() {
	if w.lock != nil {
		// Unlocked here, not left to the server noticing the closed
		// connection (which it does a moment after Close returns), so that a
		// writer opened right after this one — a restart in the same
		// process — is not refused. If the unlock fails, closing the
		// connection still releases the lock.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = w.lock.Exec(ctx, `SELECT pg_advisory_unlock($1)`, w.key)
		cancel()
		w.lock.Release()
		w.lock = nil
	}
	w.pool.Close()
}

// Checkpoint is the position the tables reflected when the writer opened.
func (w *Writer) Checkpoint() eventstore.Position {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.resume
}

// Attach registers the writer as an observer of the views. Attach before
// the views are fed (before Runner.Run).
func (w *Writer) Attach(v *projections.Views) {
	w.views = v
	v.Observe(w)
}

// Observe implements projections.Observer: it records what a batch
// touched, unless the batch is one the tables already reflect.
func (w *Writer) Observe(t *projections.Touched, through eventstore.Position) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if through.Compare(w.resume) <= 0 {
		return
	}
	w.pending.Merge(t)
	w.pendingPos = through
}

func emptyTouched() *projections.Touched {
	return &projections.Touched{Projects: map[string]struct{}{}, Orders: map[string]struct{}{}, Cases: map[string]struct{}{},
		Days: map[domain.Date]struct{}{}, Years: map[int]struct{}{}}
}

// Run flushes every FlushInterval until ctx is done; a failed flush is
// retried at the next tick (its rows stay pending).
func (w *Writer) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := w.Flush(ctx); err != nil && ctx.Err() == nil && w.cfg.OnError != nil {
				// Keep going: the rows stay pending and the next tick retries.
				w.cfg.OnError(err)
			}
		}
	}
}

// Flush writes every row changed since the last flush, and the checkpoint,
// in one transaction; every RefreshInterval it also re-evaluates every
// alert, order status and rate at the clock. The first flush of a new
// schema (or after a DDL change) is a Rebuild.
func (w *Writer) Flush(ctx context.Context) error {
	if w.views == nil {
		return errors.New("pgread: Flush before Attach")
	}
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if err := w.checkLock(ctx); err != nil {
		return err
	}
	if w.needRebuild {
		return w.rebuild(ctx)
	}
	// Views still replaying up to the checkpoint know less than the tables
	// show: a refresh from them would empty the alerts and rates, and the
	// batches up to the checkpoint will not be written again to repair it.
	if w.views.Position().Compare(w.resume) < 0 {
		if w.cfg.Ready == nil || !w.cfg.Ready() {
			return nil
		}
		// Still short of the checkpoint once caught up: see Config.Ready.
		return w.rebuild(ctx)
	}
	w.mu.Lock()
	t, pos := w.pending, w.pendingPos
	w.pending = emptyTouched()
	w.mu.Unlock()
	now := w.cfg.Now()
	refresh := now.Sub(w.lastRefresh) >= w.cfg.RefreshInterval
	if t.Empty() && !refresh {
		return nil
	}
	err := w.write(ctx, t, pos, now, refresh)
	if err != nil {
		w.mu.Lock()
		t.Merge(w.pending)
		w.pending = t
		if w.pendingPos.Compare(pos) < 0 {
			w.pendingPos = pos
		}
		w.mu.Unlock()
		return err
	}
	if refresh || t.Reference {
		w.lastRefresh = now
	}
	if !pos.IsZero() {
		w.flushed = pos
	}
	return nil
}

func (w *Writer) gs() string { return quote(genSchema(w.cfg.Schema, w.gen)) }

func (w *Writer) write(ctx context.Context, t *projections.Touched, pos eventstore.Position, now time.Time, refresh bool) error {
	v := w.views
	// Units or the policy changed: a project's tier and usd100m follow the
	// current policy, names and alert thresholds follow the reference, so
	// every project is rewritten and every clock-dependent row evaluated.
	full := t.Reference
	refresh = refresh || full
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	gs := w.gs()

	// The projects to rewrite: those touched (or all), then those whose
	// correction a rewritten year now flags. A publication flags a
	// correction without touching its project (projections/corrections.go),
	// and a correction new to the tables changes the corrections list of
	// the years it affects, so projects and years are gathered together.
	touched := keys(t.Projects)
	states := map[string]projections.ProjectState{}
	if full {
		all, err := w.allProjects()
		if err != nil {
			return err
		}
		for _, p := range all {
			states[p.ID] = p
		}
	} else {
		for _, id := range touched {
			if p, _, ok := v.Project(id, now); ok {
				states[id] = p
			}
		}
	}
	var corrected []int
	for _, p := range states {
		for _, c := range p.Corrections {
			if c.Position.Compare(w.flushed) > 0 {
				corrected = append(corrected, c.AffectedYears...)
			}
		}
	}
	years := w.years(t, corrected)
	asm := make([]projections.AssessmentResult, 0, len(years))
	for _, y := range years {
		r, err := v.Assessment(projections.AssessmentQuery{Year: int(y)})
		if err != nil {
			return err
		}
		asm = append(asm, r)
		for _, c := range r.Corrections {
			if _, ok := states[c.ProjectID]; ok {
				continue
			}
			if p, _, ok := v.Project(c.ProjectID, now); ok {
				states[c.ProjectID] = p
			}
		}
	}

	// Projects and their corrections: whole rows, replaced (alerts, derived
	// from the alerts table, are set below).
	var written []string
	if full || len(states) > 0 || len(touched) > 0 {
		ids := keys(t.Projects)
		for id := range states {
			if _, ok := t.Projects[id]; !ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, table := range []string{"projects", "project_corrections"} {
			col := "project_id"
			if table == "projects" {
				col = "id"
			}
			q := `DELETE FROM ` + gs + `.` + table
			var args []any
			if !full {
				q += ` WHERE ` + col + ` = ANY($1::uuid[])`
				args = append(args, ids)
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		var rows, corr [][]any
		for _, id := range ids {
			if p, ok := states[id]; ok {
				rows = append(rows, projectRow(p))
				corr = append(corr, correctionRows(p)...)
			}
		}
		if err := copyRows(ctx, tx, gs, "projects", projectCols, rows); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, gs, "project_corrections", correctionCols, corr); err != nil {
			return err
		}
		written = ids
	}

	// Orders: every one on a refresh (the status follows the clock); their
	// progress reports only when they changed (the clock does not move them).
	orders := keys(t.Orders)
	if refresh {
		orders = w.allOrderIDs(now)
	}
	var orderProjects []string // of the orders touched: their alerts are their project's
	if len(orders) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.orders WHERE id = ANY($1::uuid[])`, orders); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.order_progress WHERE order_id = ANY($1::uuid[])`, keys(t.Orders)); err != nil {
			return err
		}
		var rows, progress [][]any
		for _, id := range orders {
			if o, _, ok := v.Order(id, now); ok {
				rows = append(rows, orderRow(o, now))
				if _, ok := t.Orders[id]; ok {
					progress = append(progress, progressRows(o)...)
					if o.ProjectID != "" {
						orderProjects = append(orderProjects, o.ProjectID)
					}
				}
			}
		}
		if err := copyRows(ctx, tx, gs, "orders", orderCols, rows); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, gs, "order_progress", progressCols, progress); err != nil {
			return err
		}
	}
	if cases := keys(t.Cases); len(cases) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.tolerance_cases WHERE id = ANY($1::uuid[])`, cases); err != nil {
			return err
		}
		var rows [][]any
		for _, id := range cases {
			if c, _, ok := v.Case(id); ok {
				rows = append(rows, caseRow(c))
			}
		}
		if err := copyRows(ctx, tx, gs, "tolerance_cases", caseCols, rows); err != nil {
			return err
		}
	}

	// Alerts: those of what changed, or every alert on a refresh.
	if refresh {
		if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.alerts`); err != nil {
			return err
		}
		rows, err := w.alertRows(projections.AlertQuery{Now: now}, now, nil)
		if err != nil {
			return err
		}
		if err := copyRows(ctx, tx, gs, "alerts", alertCols, rows); err != nil {
			return err
		}
	} else if len(touched) > 0 || len(t.Orders) > 0 {
		ords := keys(t.Orders)
		if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.alerts WHERE project_id = ANY($1::uuid[]) OR order_id = ANY($2::uuid[])`, touched, ords); err != nil {
			return err
		}
		seen := map[string]bool{}
		var rows [][]any
		for _, id := range touched {
			r, err := w.alertRows(projections.AlertQuery{Now: now, ProjectID: id}, now, seen)
			if err != nil {
				return err
			}
			rows = append(rows, r...)
		}
		for _, id := range ords {
			r, err := w.alertRows(projections.AlertQuery{Now: now, OrderID: id}, now, seen)
			if err != nil {
				return err
			}
			rows = append(rows, r...)
		}
		if err := copyRows(ctx, tx, gs, "alerts", alertCols, rows); err != nil {
			return err
		}
	}
	// projects.alerts: of every project after a refresh, else of those
	// written or whose alerts (their orders' included) were.
	if err := syncAlerts(ctx, tx, gs, refresh, slices.Concat(written, touched, orderProjects)); err != nil {
		return err
	}

	// Rankings of every period a changed day falls in, and of the period
	// after it (whose change column compares with it); all of them when
	// units or the policy changed.
	periods := w.periods(t)
	if len(periods) > 0 {
		names := make([]string, len(periods))
		for i, p := range periods {
			names[i] = p.String()
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.rankings WHERE period = ANY($1)`, names); err != nil {
			return err
		}
		var rows [][]any
		for _, p := range periods {
			r, err := v.Ranking(projections.RankingQuery{Period: p.String()})
			if err != nil {
				return err
			}
			rows = append(rows, rankingRows(p, r)...)
		}
		if err := copyRows(ctx, tx, gs, "rankings", rankingCols, rows); err != nil {
			return err
		}
	}
	if len(years) > 0 {
		if err := writeAssessments(ctx, tx, gs, years, asm); err != nil {
			return err
		}
	}
	if refresh || len(touched) > 0 {
		if err := w.writeRates(ctx, tx, gs, now); err != nil {
			return err
		}
	}
	if !pos.IsZero() {
		if err := writeCheckpoint(ctx, tx, gs, pos, v.Events(), now); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// alertKinds is domain.AlertKinds as a text[] literal: the order of a
// project's alerts column.
var alertKinds = textArray(domain.AlertKinds())

// syncAlerts derives projects.alerts from the alerts table for every
// project (all) or for the projects ids.
func syncAlerts(ctx context.Context, tx pgx.Tx, gs string, all bool, ids []string) error {
	if all {
		_, err := tx.Exec(ctx, fmt.Sprintf(syncAlertsSQL, gs, alertKinds, "", ""))
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(syncAlertsSQL, gs, alertKinds, `AND project_id = ANY($1::uuid[])`, `AND q.id = ANY($1::uuid[])`), ids)
	return err
}

// kindsByProject is what syncAlerts derives, from alert rows in memory:
// each project's distinct alert kinds in the order of domain.AlertKinds.
func kindsByProject(alerts [][]any) map[any][]string {
	out := map[any][]string{}
	for _, a := range alerts {
		id, kind := a[1], a[0].(string)
		if id != nil && !slices.Contains(out[id], kind) {
			out[id] = append(out[id], kind)
		}
	}
	order := domain.AlertKinds()
	for _, ks := range out {
		slices.SortFunc(ks, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	}
	return out
}

// assessmentTables are the tables a year's assessment fills, in the order
// assessmentRows returns their rows.
var assessmentTables = []struct {
	name string
	cols []string
}{
	{"assessments", assessmentCols},
	{"assessment_current", currentCols},
	{"assessment_differences", differenceCols},
	{"assessment_corrections", yearCorrCols},
}

// writeAssessments replaces the rows of years (nil: every row) with rs.
func writeAssessments(ctx context.Context, tx pgx.Tx, gs string, years []int32, rs []projections.AssessmentResult) error {
	var rows [4][][]any
	for _, r := range rs {
		a, b, c, d := assessmentRows(r)
		for i, x := range [][][]any{a, b, c, d} {
			rows[i] = append(rows[i], x...)
		}
	}
	for i, t := range assessmentTables {
		if years != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.`+t.name+` WHERE year = ANY($1)`, years); err != nil {
				return err
			}
		}
		if err := copyRows(ctx, tx, gs, t.name, t.cols, rows[i]); err != nil {
			return err
		}
	}
	return nil
}

// allProjects is every project as the list answers it (without alerts: the
// reader view computes them from the alerts table).
func (w *Writer) allProjects() ([]projections.ProjectState, error) {
	var out []projections.ProjectState
	for cursor := ""; ; {
		page, err := w.views.Projects(projections.ProjectFilter{Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

func (w *Writer) writeRates(ctx context.Context, tx pgx.Tx, gs string, now time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM `+gs+`.rates`); err != nil {
		return err
	}
	return w.writeRatesTo(ctx, tx, gs, now)
}

func (w *Writer) writeRatesTo(ctx context.Context, tx pgx.Tx, gs string, now time.Time) error {
	var rows [][]any
	for _, y := range w.views.AssessmentYears() {
		r, err := w.views.Rates(y, "", now)
		if err != nil {
			return err
		}
		rows = append(rows, rateRows(r)...)
	}
	return copyRows(ctx, tx, gs, "rates", rateCols, rows)
}

func writeCheckpoint(ctx context.Context, tx pgx.Tx, gs string, pos eventstore.Position, events uint64, now time.Time) error {
	c, p := posNumbers(pos)
	_, err := tx.Exec(ctx, `INSERT INTO `+gs+`.checkpoint (one, position, commit_pos, prepare_pos, events, updated_at)
VALUES (true, $1, $2::text::numeric, $3::text::numeric, $4, $5)
ON CONFLICT (one) DO UPDATE SET position = EXCLUDED.position, commit_pos = EXCLUDED.commit_pos,
	prepare_pos = EXCLUDED.prepare_pos, events = EXCLUDED.events, updated_at = EXCLUDED.updated_at`,
		pos.String(), c, p, int64(events), now)
	return err
}

func (w *Writer) alertRows(q projections.AlertQuery, now time.Time, seen map[string]bool) ([][]any, error) {
	var rows [][]any
	q.Limit = projections.MaxLimit
	for {
		page, err := w.views.Alerts(q)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Items {
			if seen != nil {
				k := alertKey(a)
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			rows = append(rows, alertRow(a, now))
		}
		if page.NextCursor == "" {
			return rows, nil
		}
		q.Cursor = page.NextCursor
	}
}

func (w *Writer) allOrderIDs(now time.Time) []string {
	var ids []string
	cursor := ""
	for {
		page, err := w.views.Orders(projections.OrderQuery{Now: now, Limit: projections.MaxLimit, Cursor: cursor})
		if err != nil {
			return ids
		}
		for _, o := range page.Items {
			ids = append(ids, o.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

func (w *Writer) periods(t *projections.Touched) []domain.Period {
	loc := w.views.Location()
	if t.Reference {
		first, last, ok := w.views.BusinessSpan()
		if !ok {
			return nil
		}
		return projections.PeriodsCovering(first, last, loc)
	}
	// The next period's rows only when it has any: a rebuild writes the
	// periods of the counted span and no more.
	_, last, _ := w.views.BusinessSpan()
	seen := map[string]bool{}
	var out []domain.Period
	for d := range t.Days {
		for _, p := range projections.PeriodsContaining(d, loc) {
			for _, q := range []domain.Period{p, next(p)} {
				if q.From.After(last.Start(loc)) {
					continue
				}
				if s := q.String(); !seen[s] {
					seen[s] = true
					out = append(out, q)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b domain.Period) int { return a.From.Compare(b.From) })
	return out
}

// next is the period of the same kind right after p.
func next(p domain.Period) domain.Period {
	loc := p.From.Location()
	switch p.Kind {
	case domain.PeriodQuarter:
		if p.N == 4 {
			return domain.QuarterPeriod(p.Year+1, 1, loc)
		}
		return domain.QuarterPeriod(p.Year, p.N+1, loc)
	case domain.PeriodMonth:
		if p.N == 12 {
			return domain.MonthPeriod(p.Year+1, time.January, loc)
		}
		return domain.MonthPeriod(p.Year, time.Month(p.N+1), loc)
	case domain.PeriodWeek:
		return projections.WeekOf(domain.DateOf(p.To, loc), loc)
	}
	return domain.YearPeriod(p.Year+1, loc)
}

// years are the assessment years to rewrite: those touched directly, the
// years of changed days, the years new corrections affect (extra), and
// for each the years whose admonish flag looks back at it (the largest
// admonish_after_years of any policy version − 1, at least one); every
// year when units or the policy changed.
func (w *Writer) years(t *projections.Touched, extra []int) []int32 {
	set := map[int]bool{}
	if t.Reference {
		for _, y := range w.views.AssessmentYears() {
			set[y] = true
		}
	}
	changed := slices.Clone(extra)
	for y := range t.Years {
		changed = append(changed, y)
	}
	for d := range t.Days {
		changed = append(changed, d.Year)
	}
	if len(changed) > 0 {
		ahead := 1
		for _, pv := range w.views.PolicyVersions() {
			ahead = max(ahead, pv.Policy.AdmonishAfterYears-1)
		}
		for _, y := range changed {
			for k := 0; k <= ahead; k++ {
				set[y+k] = true
			}
		}
	}
	known := map[int]bool{}
	for _, y := range w.views.AssessmentYears() {
		known[y] = true
	}
	var out []int32
	for y := range set {
		if known[y] {
			out = append(out, int32(y))
		}
	}
	slices.Sort(out)
	return out
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func copyRows(ctx context.Context, tx pgx.Tx, gs, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{unquote(gs), table}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("pgread: writing %s: %w", table, err)
	}
	return nil
}

func unquote(q string) string { return q[1 : len(q)-1] }
