package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// faultExit makes verify exit 3 when the data is wrong, apart from 1 for a
// failure to check at all.
type faultExit struct{ msg string }

func (f faultExit) Error() string { return f.msg }
func (faultExit) ExitCode() int   { return 3 }

func runVerify(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("verify", "verify [--data DIR] [--store URL] [--json]", errOut)
	var sf storeFlags
	sf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	s, err := sf.openExisting(ctx, newLogger(errOut, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer s.Close()

	rep, err := eventstore.Verify(ctx, s)
	if err != nil {
		return err
	}
	// The views: replay the log into views, then again into fresh views,
	// and compare each view's digest — the check an auditor runs to confirm
	// that what the dashboards show is exactly the fold of events 1..N.
	runner, stop, err := buildViews(ctx, s, loc)
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}
	rec, err := runner.Reconcile(ctx)
	stop()
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}

	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Log   eventstore.Report          `json:"log"`
			Views projections.Reconciliation `json:"views"`
		}{rep, rec}); err != nil {
			return err
		}
	} else {
		printVerify(out, rep, rec)
	}
	switch {
	case !rep.OK:
		return faultExit{fmt.Sprintf("the log failed verification: %d faults, first at %s", rep.Faults, describeFault(rep.FirstBad))}
	case !rec.OK:
		return faultExit{"a view does not equal a fresh replay of the log"}
	}
	return nil
}

func printVerify(out io.Writer, rep eventstore.Report, rec projections.Reconciliation) {
	status := "OK"
	if !rep.OK {
		status = "FAILED"
	}
	fmt.Fprintf(out, "log: %s — %d events in %d streams, %d seals checked, through position %s\n", status, rep.EventsChecked, rep.Streams, rep.SealsChecked, rep.Through)
	fmt.Fprintf(out, "log digest: %s\n", rep.Digest)
	if rep.FirstBad != nil {
		fmt.Fprintf(out, "first bad event: %s\n", describeFault(rep.FirstBad))
	}
	for _, v := range rec.Views {
		mark := "OK"
		if !v.Equal {
			mark = "DIFFERS"
		}
		fmt.Fprintf(out, "view %-12s %-7s events %d log %s state %s\n", v.View, mark, v.Running.Events, v.Running.Log, v.Running.State)
		if !v.Equal {
			fmt.Fprintf(out, "     replay gives events %d log %s state %s\n", v.Replay.Events, v.Replay.Log, v.Replay.State)
		}
	}
}

func describeFault(f *eventstore.Fault) string {
	if f == nil {
		return "(none)"
	}
	return fmt.Sprintf("position %s, stream %s, version %d, event %s: %s", f.Position, f.Stream, f.Version, f.EventID, f.Reason)
}
