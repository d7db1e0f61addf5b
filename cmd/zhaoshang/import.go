package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/internal/ledger"
	"github.com/zhaoshang/zhaoshang/projections"
)

func runImport(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("import", "import [--dry-run] [--json] [--unit CODE] [--data DIR] [--store URL] FILE.xlsx|FILE.csv\n\n"+
		"Imports a project ledger (台账): one row per project, its current stage and dates. Every row is\n"+
		"checked first; any error rejects the whole file and nothing is appended. Re-importing appends nothing.\n"+
		"`zhaoshang import --template FILE.xlsx` writes the template sheet.", errOut)
	var sf storeFlags
	sf.register(fs)
	dryRun := fs.Bool("dry-run", false, "check the file and report what would be recorded, appending nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	unit := fs.String("unit", "", "import as the staff of this unit (only its rows are allowed); default the centre")
	subject := fs.String("subject", "ledger-import", "who the imported facts are recorded as (re-imports must use the same subject)")
	sheet := fs.String("sheet", "", "xlsx: the sheet to read (default the first with a recognisable header)")
	template := fs.String("template", "", "write the template sheet to this .xlsx file and exit")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *template != "" {
		return writeTemplate(*template, out)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(errOut, "import needs exactly one FILE")
		fs.Usage()
		return errUsage
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	logger := newLogger(errOut, slog.LevelWarn)
	// An existing store only: importing into a mistyped --data would make
	// an empty store with no units, and refuse every row for it.
	s, err := sf.openExisting(ctx, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	// The projects the ledger already holds, to refuse a row that would
	// enter one a second time (imported as another subject, or entered
	// through the API).
	runner, stop, err := buildViews(ctx, s, loc)
	if err != nil {
		return fmt.Errorf("reading the ledger: %w", err)
	}
	defer stop()
	existing := func(u domain.UnitCode, name, investor string) (string, bool) {
		want, wantInv := domain.NormaliseName(name), domain.NormaliseName(investor)
		for cursor := ""; ; {
			page, err := runner.Views().Projects(projections.ProjectFilter{Unit: u, Q: name, Limit: projections.MaxLimit, Cursor: cursor})
			if err != nil {
				return "", false
			}
			for _, p := range page.Items {
				if domain.NormaliseName(p.Name) == want && domain.NormaliseName(p.Investor.Name) == wantInv {
					return p.ID, true
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				return "", false
			}
		}
	}
	actor := ledger.DefaultActor
	actor.Subject = *subject
	if *unit != "" {
		actor = eventstore.Actor{Subject: *subject, Role: "unit_staff", Unit: *unit}
	}
	rep, err := ledger.Import(ctx, s, f, filepath.Base(path), ledger.Options{
		Actor:    actor,
		Clock:    time.Now,
		Location: loc,
		Sheet:    *sheet,
		DryRun:   *dryRun,
		Logger:   logger,
		Existing: existing,
	})
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(rep); encErr != nil {
			return encErr
		}
	} else if _, werr := rep.WriteTo(out); werr != nil {
		return werr
	}
	if errors.Is(err, ledger.ErrRejected) {
		return faultExit{err.Error()}
	}
	return err
}

func writeTemplate(path string, out io.Writer) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if err := ledger.WriteTemplate(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote the ledger template to %s\n", path)
	return nil
}
