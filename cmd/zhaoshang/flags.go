package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// newFlags makes a subcommand's flag set. Every flag can also be given as
// ZHAOSHANG_<FLAG> in the environment (dashes become underscores); a flag on
// the command line wins over the environment.
func newFlags(name, usage string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: zhaoshang %s\n\n", usage)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s\n        %s%s\n        env %s\n", f.Name, f.Usage, def, envName(f.Name))
		})
	}
	return fs
}

func envName(flagName string) string {
	return "ZHAOSHANG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then fills every flag not given on the command
// line from its environment variable.
func parseFlags(fs *flag.FlagSet, args []string, env func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		if given[n] {
			continue
		}
		if v, ok := env(envName(n)); ok {
			if err := fs.Set(n, v); err != nil {
				return &envError{name: envName(n), value: v, err: err}
			}
		}
	}
	return nil
}

// envError is a bad value in a ZHAOSHANG_ variable. It is a type of its own
// because the flag set prints its own parse errors but not this one.
type envError struct {
	name, value string
	err         error
}

func (e *envError) Error() string { return fmt.Sprintf("%s=%q: %v", e.name, e.value, e.err) }
func (e *envError) Unwrap() error { return e.err }

func osEnv(k string) (string, bool) { return os.LookupEnv(k) }
