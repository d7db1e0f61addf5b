package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Options configures Import.
type Options struct {
	// Actor records the imported facts; zero means DefaultActor. Its
	// subject scopes the idempotency keys, so re-imports must use the same
	// subject to be recognised. A unit_staff actor may import its own
	// unit's rows only.
	Actor eventstore.Actor
	// Clock is "now": the moment the facts are recorded at and judged by
	// (no date after today, 首报首谈 windows). Nil means time.Now.
	Clock func() time.Time
	// Location is the server's configured zone: a sheet date is 00:00 of
	// that day in it. Nil means Asia/Shanghai.
	Location *time.Location
	// Sheet names the workbook sheet to read; empty means the first visible
	// sheet with a recognisable header.
	Sheet string
	// DryRun checks and plans the file and reports what it would append,
	// appending nothing.
	DryRun bool
	// Workers bounds how many rows are recorded at once; zero means 16.
	Workers int
	// Logger, when set, is handed to the command handlers.
	Logger *slog.Logger
	// Existing, when set, finds a project the ledger already holds for a
	// unit with a name and an investor (compared normalised): a row that no
	// earlier import by this subject created, but that names such a
	// project, is refused rather than reported a second time (an import as
	// another subject, or a project already entered through the API). The
	// CLI answers it from views replayed from the store.
	Existing func(unit domain.UnitCode, name, investor string) (projectID string, ok bool)
}

// DefaultActor is who records an import when Options.Actor is zero: the
// centre's ledger importer.
var DefaultActor = eventstore.Actor{Subject: "ledger-import", Role: string(domain.RoleCentre)}

// ErrRejected is returned (wrapped) when the file has errors: the Report
// lists every one, and nothing was appended.
var ErrRejected = errors.New("ledger: the sheet has errors; nothing was imported")

// Import reads a ledger sheet (.xlsx, or .csv in UTF-8, UTF-16 or
// GB18030), checks every row, and records the facts each row implies
// through the command handlers (commands.New over store): the report, the
// first negotiation, the signing, the registration, the start, the
// production, the funds and the termination, as far as the row's stage
// goes, each dated as the sheet says and recorded now.
//
// It is all or nothing: every row is checked, and every fact decided by the
// domain against the ledger as it stands (with the rows before it), before
// anything is appended; any error rejects the whole file (ErrRejected) and
// the Report says row, column and reason in Chinese and English.
//
// Imported events carry the correlation id "ledger-import:<first 16 hex of
// the file's SHA-256>" and idempotency keys "ledger/<row identity>/<fact>",
// the identity being a hash of the unit and the row's 项目编号. Importing
// the same file again appends nothing; importing a later version of the
// ledger records only what is new (a stage reached since, more funds).
// A fact the ledger already holds is never recorded twice, and where the
// sheet disagrees with it the ledger is kept and the Report notes it.
//
// If the store fails while recording (after the checks passed), Import
// returns the error and the Report of what was recorded; running it again
// completes the file without repeating anything.
func Import(ctx context.Context, store commands.Store, r io.Reader, filename string, opts Options) (Report, error) {
	rep := Report{File: filename, DryRun: opts.DryRun}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return rep, fmt.Errorf("ledger: read %s: %w", filename, err)
	}
	if len(data) > MaxFileSize {
		rep.Errors = append(rep.Errors, RowError{Zh: fmt.Sprintf("文件超过 %d MB", MaxFileSize>>20),
			En: fmt.Sprintf("the file is larger than %d MB", MaxFileSize>>20)})
		return rep, ErrRejected
	}
	sum := sha256.Sum256(data)
	rep.Batch = "ledger-import:" + hex.EncodeToString(sum[:8])

	actor := opts.Actor
	if actor == (eventstore.Actor{}) {
		actor = DefaultActor
	}
	if !slices.Contains(commands.RolesFor(commands.OpReportProject), domain.Role(actor.Role)) {
		return rep, fmt.Errorf("ledger: a %q actor may not report projects", actor.Role)
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	loc := opts.Location
	if loc == nil {
		loc = shanghai()
	}
	now := clock().In(loc)

	p := &problems{}
	t, err := readTable(data, filename, opts.Sheet)
	var fe *fileError
	if errors.As(err, &fe) {
		p.file(fe.zh, fe.en)
		rep.Errors = p.errs
		return rep, ErrRejected
	}
	if err != nil {
		return rep, err
	}
	rep.Format, rep.Encoding, rep.Sheet = t.format, t.encoding, t.sheet
	sh := mapHeader(t, p)
	if len(p.errs) > 0 {
		rep.Errors = p.errs
		return rep, ErrRejected
	}
	rep.Ignored = sh.ignored

	pl, units, err := newPlanner(ctx, store, actor, loc, now, p)
	if pl != nil {
		pl.existing = opts.Existing
	}
	if err != nil {
		return rep, err
	}
	if domain.Role(actor.Role).ScopedToUnit() {
		if _, ok := units.Get(domain.UnitCode(actor.Unit)); !ok {
			// One error for the file, not one per row.
			p.file("导入人所属单位 "+actor.Unit+" 不是已登记的单位", "the importing actor's unit "+actor.Unit+" is not a registered unit")
			rep.Errors = p.errs
			return rep, ErrRejected
		}
	}
	today := domain.DateOf(now, loc)
	var plans []*rowPlan
	for i := sh.header + 1; i < len(t.rows); i++ {
		e, kind, bad := readEntry(sh, i, units.All(), today, p)
		switch kind {
		case rowEmpty:
			continue
		case rowTotal:
			pl.notes = append(pl.notes, Notice{Row: e.row, Zh: "合计行，已跳过", En: "a total line, skipped"})
			continue
		case rowExample:
			pl.notes = append(pl.notes, Notice{Row: e.row, Zh: "模板示例行，已跳过", En: "the template's example row, skipped"})
			continue
		}
		rep.Rows++
		if bad {
			continue
		}
		rp, err := pl.plan(ctx, &e)
		if err != nil {
			return rep, err
		}
		if rp != nil {
			plans = append(plans, rp)
		}
	}
	rep.Notices = pl.notes
	if rep.Rows == 0 {
		p.file("表头下没有数据行", "there are no data rows under the header")
	}
	if len(p.errs) > 0 {
		rep.Errors = p.errs
		slices.SortStableFunc(rep.Errors, func(a, b RowError) int { return a.Row - b.Row })
		return rep, fmt.Errorf("%w (%d errors)", ErrRejected, len(rep.Errors))
	}
	for _, rp := range plans {
		res := RowResult{Row: rp.e.row, ExternalID: rp.e.extID, Name: rp.e.name, ProjectID: rp.project}
		for _, s := range rp.steps {
			res.Steps = append(res.Steps, s.name)
		}
		rep.Projects = append(rep.Projects, res)
	}
	if !opts.DryRun {
		app, err := commands.New(commands.Deps{Store: store, Clock: clock, Location: loc, Logger: opts.Logger})
		if err != nil {
			return rep, err
		}
		if err := record(ctx, app, actor, rep.Batch, plans, &rep, opts.Workers); err != nil {
			rep.tally()
			return rep, err
		}
	}
	rep.tally()
	return rep, nil
}

// record runs the plans: rows linked by a 首报首谈 key in file order, as
// planned, the others concurrently so they share the store's commits.
func record(ctx context.Context, app *commands.App, actor eventstore.Actor, batch string, plans []*rowPlan, rep *Report, workers int) error {
	if workers <= 0 {
		workers = 16
	}
	chains := linked(plans)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		next  int
		first error
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(chains) || first != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range min(workers, len(chains)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, ok := take()
				if !ok {
					return
				}
				for _, i := range chains[c] {
					if err := recordRow(ctx, app, actor, batch, plans[i], &rep.Projects[i]); err != nil {
						mu.Lock()
						if first == nil {
							first = err
							cancel()
						}
						mu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("%w; the rows recorded so far stay, and importing the file again completes it", first)
	}
	return nil
}

// linked groups the plans whose rows share a 首报首谈 key, directly or
// through other rows (union-find over the keys), each group in file order.
func linked(plans []*rowPlan) [][]int {
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		p, ok := parent[k]
		if !ok || p == k {
			parent[k] = k
			return k
		}
		r := find(p)
		parent[k] = r
		return r
	}
	for _, rp := range plans {
		for _, k := range rp.keys[1:] {
			parent[find(k)] = find(rp.keys[0])
		}
	}
	var chains [][]int
	index := map[string]int{}
	for i, rp := range plans {
		root := find(rp.keys[0])
		c, ok := index[root]
		if !ok {
			c = len(chains)
			index[root] = c
			chains = append(chains, nil)
		}
		chains[c] = append(chains[c], i)
	}
	return chains
}

func recordRow(ctx context.Context, app *commands.App, actor eventstore.Actor, batch string, rp *rowPlan, res *RowResult) error {
	id := rp.project
	for _, s := range rp.steps {
		r, err := s.run(ctx, app, commands.Meta{Actor: actor, IdempotencyKey: s.key, CorrelationID: batch}, id)
		if err != nil {
			return fmt.Errorf("ledger: row %d, %s: %w", rp.e.row, s.name, err)
		}
		if s.name == "report" {
			id = r.ID
			res.ProjectID = id
		}
		res.Commands++
		if !r.Replayed {
			res.Events += r.Appended
		}
	}
	return nil
}
