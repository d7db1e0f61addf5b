package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

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
	rec, viewsErr := reconcile(ctx, s, loc)
	// The log's report is printed whatever happened to the views: when an
	// event no longer decodes, the replay stops, and the report is what
	// says whether the event is as recorded.
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		var views *projections.Reconciliation
		if viewsErr == nil {
			views = &rec
		}
		var msg string
		if viewsErr != nil {
			msg = viewsErr.Error()
		}
		if err := enc.Encode(struct {
			Log        eventstore.Report           `json:"log"`
			Views      *projections.Reconciliation `json:"views,omitempty"`
			ViewsError string                      `json:"views_error,omitempty"`
		}{rep, views, msg}); err != nil {
			return err
		}
	} else {
		printVerify(out, rep, rec, viewsErr)
	}
	var decodeErr *projections.DecodeError
	switch {
	case !rep.OK:
		return faultExit{fmt.Sprintf("the log failed verification: %d faults, first at %s", rep.Faults, describeFault(rep.FirstBad))}
	case errors.As(viewsErr, &decodeErr):
		// The log verifies, so the event was stored like this: a fact the
		// views cannot read is wrong data all the same.
		return faultExit{fmt.Sprintf("the views cannot be built: %v", viewsErr)}
	case viewsErr != nil:
		return fmt.Errorf("views: %w", viewsErr)
	case !rec.OK:
		return faultExit{"a view does not equal a fresh replay of the log"}
	}
	return nil
}

// reconcile replays the log into views, then again into fresh views, and
// compares their digests.
func reconcile(ctx context.Context, s eventstore.Store, loc *time.Location) (projections.Reconciliation, error) {
	runner, stop, err := buildViews(ctx, s, loc)
	if err != nil {
		return projections.Reconciliation{}, err
	}
	defer stop()
	return runner.Reconcile(ctx)
}

func printVerify(out io.Writer, rep eventstore.Report, rec projections.Reconciliation, viewsErr error) {
	status := "OK"
	if !rep.OK {
		status = "FAILED"
	}
	fmt.Fprintf(out, "log: %s — %d events in %d streams, %d seals checked, through position %s\n", status, rep.EventsChecked, rep.Streams, rep.SealsChecked, rep.Through)
	fmt.Fprintf(out, "log digest: %s\n", rep.Digest)
	if rep.FirstBad != nil {
		fmt.Fprintf(out, "first bad event: %s\n", describeFault(rep.FirstBad))
	}
	if viewsErr != nil {
		fmt.Fprintf(out, "views: not checked: %v\n", viewsErr)
		return
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
