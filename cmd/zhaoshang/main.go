package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo.
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, out, errOut io.Writer) error
}

func subcommands() []command {
	return []command{
		{"serve", "serve the HTTP API (embedded store in ./data by default)", runServe},
		{"token", "print a signed bearer token", runToken},
		{"demo", "load the deterministic demo dataset through the command path", runDemo},
		{"import", "import an Excel/CSV project ledger (台账)", runImport},
		{"export", "export a list, ranking or assessment as xlsx or csv", runExport},
		{"rebuild", "rebuild the read models from the event log", runRebuild},
		{"verify", "verify hash chains, seals and view digests", runVerify},
		{"seal", "append a global seal over the log", runSeal},
		{"migrate", "apply PostgreSQL schema migrations", runMigrate},
		{"bench", "measure end-to-end figures on this machine", runBench},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "zhaoshang — the event-sourced ledger of investment-attraction projects (招商引资台账)")
	fmt.Fprintln(w, "\nusage: zhaoshang <command> [flags]   (zhaoshang <command> --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range subcommands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(out)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range subcommands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], out, errOut)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(errOut, "zhaoshang %s: %v\n", c.name, err)
			var ec exitCoder
			if errors.As(err, &ec) {
				return ec.ExitCode()
			}
			return 1
		}
	}
	fmt.Fprintf(errOut, "zhaoshang: unknown command %q\n\n", args[0])
	usage(errOut)
	return 2
}

// errUsage marks a command-line mistake already reported by the flag set.
var errUsage = errors.New("usage")

// usageError is a command-line mistake found after the flags parsed (a
// flag's value): printed like any error, exit 2 as the README says.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
func (usageError) ExitCode() int   { return 2 }

func usageErr(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type exitCoder interface{ ExitCode() int }

func runVersion(_ context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("version", "version", errOut)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v == "dev" {
				v = "dev-" + s.Value
			}
		}
		fmt.Fprintf(out, "zhaoshang %s (%s)\n", v, bi.GoVersion)
		return nil
	}
	fmt.Fprintf(out, "zhaoshang %s\n", v)
	return nil
}

// parseArgs parses a subcommand's flags from args and the environment,
// turning any flag mistake into errUsage (exit 2) once it has been reported:
// the flag set prints its own parse errors and the usage, so only a bad
// environment value is printed here.
func parseArgs(fs *flag.FlagSet, args []string) error {
	err := parseFlags(fs, args, osEnv)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	var ee *envError
	if errors.As(err, &ee) {
		fmt.Fprintln(fs.Output(), err)
	}
	return errUsage
}
