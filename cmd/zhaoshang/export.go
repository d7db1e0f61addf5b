package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
)

// runExport answers one export read of the API in-process — the same
// handlers, validation and spreadsheet layout as GET …?format=xlsx over
// HTTP — from views replayed from the store, and writes the file.
func runExport(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("export", "export [--format xlsx|csv] [--out FILE] [--data DIR] [--store URL] READ\n\n"+
		"READ is an exportable API read, relative to /api/v1, for example:\n"+
		"  lists/signed   projects?unit=nanhu   rankings?period=2024&kind=county   assessments/2024?kind=county", errOut)
	var sf storeFlags
	sf.register(fs)
	format := fs.String("format", "xlsx", "xlsx or csv")
	outPath := fs.String("out", "", "file to write, - for standard output (default: the name the API suggests, in the current directory)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(errOut, "export needs exactly one READ")
		fs.Usage()
		return errUsage
	}
	if *format != "xlsx" && *format != "csv" {
		fmt.Fprintf(errOut, "--format %q: want xlsx or csv\n", *format)
		return errUsage
	}
	target, err := exportTarget(fs.Arg(0), *format)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return errUsage
	}
	loc, err := sf.location()
	if err != nil {
		return err
	}
	logger := newLogger(errOut, slog.LevelWarn)
	s, err := sf.openExisting(ctx, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	runner, stop, err := buildViews(ctx, s, loc)
	if err != nil {
		return err
	}
	defer stop()
	app, err := newCommands(s, loc, logger, nil)
	if err != nil {
		return err
	}
	// A one-off key: the token below is used by this process alone.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	srv, err := api.New(api.Config{Logger: logger, Secret: secret, Location: loc, Positioner: runner, Readiness: runner, Head: s})
	if err != nil {
		return err
	}
	if err := api.Mount(srv, api.Deps{Commands: app, Views: runner.Views(), Past: runner, Log: s}); err != nil {
		return err
	}
	tok, err := api.MintToken(secret, "export-cli", api.RoleLeader, "", time.Minute, time.Now())
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		// The API's problem, said for an operator: its detail and the
		// fields it names, not the JSON.
		var p struct {
			Detail string `json:"detail"`
			Errors []struct {
				Field, Rule, Message string
			} `json:"errors"`
		}
		msg := strings.TrimSpace(rec.Body.String())
		if json.Unmarshal(rec.Body.Bytes(), &p) == nil && p.Detail != "" {
			msg = p.Detail
			for _, e := range p.Errors {
				if e.Field == "format" && e.Rule == "unknown_parameter" {
					// The format is ours, not the operator's: this read
					// has no download.
					return usageErr("%s: this read has no spreadsheet export (the project lists, rankings, assessments, alerts, orders and rates have one)", fs.Arg(0))
				}
				msg += fmt.Sprintf("; %s %s", e.Field, e.Message)
			}
		}
		if rec.Code < 500 {
			return usageErr("%s: %s", fs.Arg(0), msg)
		}
		return fmt.Errorf("%s: %s", fs.Arg(0), msg)
	}
	if *outPath == "-" {
		_, err := out.Write(rec.Body.Bytes())
		return err
	}
	name := *outPath
	if name == "" {
		name = suggestedName(rec.Header().Get("Content-Disposition"), "export."+*format)
	}
	if err := os.WriteFile(name, rec.Body.Bytes(), 0o640); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%d bytes) at position %s\n", name, rec.Body.Len(), rec.Header().Get("X-Position"))
	return nil
}

// exportTarget turns "rankings?period=2024" into the API path with the
// format set.
func exportTarget(read, format string) (string, error) {
	read = strings.TrimPrefix(strings.TrimPrefix(read, "/"), "api/v1/")
	u, err := url.Parse("/" + read)
	if err != nil || u.Path == "/" {
		return "", fmt.Errorf("READ %q: want an API read such as rankings?period=2024&kind=county", read)
	}
	q := u.Query()
	if f := q.Get("format"); f != "" && f != format {
		return "", fmt.Errorf("READ %q asks for format=%s but --format is %s", read, f, format)
	}
	q.Set("format", format)
	return api.BasePath + u.Path + "?" + q.Encode(), nil
}

// suggestedName takes the file name from the API's Content-Disposition,
// preferring the UTF-8 (Chinese) name.
func suggestedName(cd, fallback string) string {
	_, params, err := mime.ParseMediaType(cd)
	if err != nil || params["filename"] == "" {
		return fallback
	}
	name := params["filename"] // mime decodes filename* into filename
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fallback
	}
	return name
}
