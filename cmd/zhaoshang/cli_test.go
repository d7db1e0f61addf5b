package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
)

func TestVersion(t *testing.T) {
	r := mustZS(t, "version")
	if !regexp.MustCompile(`^zhaoshang \S+ \(go[0-9.]+\S*\)\n$`).MatchString(r.out) {
		t.Errorf("version prints %q", r.out)
	}
	if r := zs(t, "version", "--bogus"); r.code != 2 {
		t.Errorf("version --bogus: %s", r)
	}
}

// TestUsage: no command is a usage error that lists every command; help
// asked for is not an error; an unknown command is exit 2.
func TestUsage(t *testing.T) {
	r := zs(t)
	if r.code != 2 {
		t.Errorf("no arguments: %s", r)
	}
	for _, c := range subcommands() {
		if !regexp.MustCompile(`(?m)^  ` + c.name + ` +\S`).MatchString(r.out) {
			t.Errorf("usage does not list %s:\n%s", c.name, r.out)
		}
	}
	for _, h := range []string{"help", "-h", "--help"} {
		if r := zs(t, h); r.code != 0 || !strings.Contains(r.out, "usage: zhaoshang <command>") {
			t.Errorf("%s: %s", h, r)
		}
	}
	r = zs(t, "frobnicate", "--data", t.TempDir())
	if r.code != 2 || !strings.Contains(r.errOut, `unknown command "frobnicate"`) || !strings.Contains(r.errOut, "commands:") {
		t.Errorf("unknown command: %s", r)
	}
}

// issueFlags are the flags docs and the issue promise for each command;
// the help test checks that each is there, besides checking that every flag
// the help shows names its environment variable.
var issueFlags = map[string][]string{
	"serve":   {"addr", "data", "store", "readmodel", "relay", "demo", "seed", "tz"},
	"token":   {"role", "unit", "subject", "ttl", "data"},
	"demo":    {"seed", "data", "store"},
	"import":  {"dry-run", "template", "json", "unit", "data", "store"},
	"export":  {"format", "out", "data", "store"},
	"rebuild": {"readmodel", "data", "store"},
	"verify":  {"json", "data", "store"},
	"seal":    {"data", "store"},
	"migrate": {"store", "readmodel"},
}

var (
	helpFlagLine = regexp.MustCompile(`^  --([a-z][a-z0-9-]*)$`)
	helpEnvLine  = regexp.MustCompile(`^        env (ZHAOSHANG_[A-Z0-9_]+)$`)
)

// TestHelpDocumentsEveryFlag: `zhaoshang CMD --help` exits 0 and shows, for
// every flag, what it does and the environment variable that sets it.
func TestHelpDocumentsEveryFlag(t *testing.T) {
	for _, c := range subcommands() {
		t.Run(c.name, func(t *testing.T) {
			r := zs(t, c.name, "--help")
			if r.code != 0 {
				t.Fatalf("--help: %s", r)
			}
			help := r.errOut
			if !strings.HasPrefix(help, "usage: zhaoshang "+c.name) {
				t.Fatalf("help does not start with the usage line:\n%s", help)
			}
			lines := strings.Split(help, "\n")
			var flags []string
			for i, l := range lines {
				m := helpFlagLine.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				name := m[1]
				flags = append(flags, name)
				// The flag's block: its description, then its env line.
				j := i + 1
				for j < len(lines) && strings.HasPrefix(lines[j], "        ") && !helpEnvLine.MatchString(lines[j]) {
					j++
				}
				if j == i+1 {
					t.Errorf("--%s has no description", name)
				}
				env := ""
				if j < len(lines) {
					if m := helpEnvLine.FindStringSubmatch(lines[j]); m != nil {
						env = m[1]
					}
				}
				if want := "ZHAOSHANG_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")); env != want {
					t.Errorf("--%s: env line %q, want %s", name, env, want)
				}
			}
			if len(flags) == 0 && c.name != "version" {
				t.Errorf("the help shows no flags:\n%s", help)
			}
			for _, want := range issueFlags[c.name] {
				if !slices.Contains(flags, want) {
					t.Errorf("--%s is not documented:\n%s", want, help)
				}
			}
		})
	}
}

// TestBadFlag: a flag mistake is exit 2 with the mistake and the usage,
// whether or not other arguments follow it.
func TestBadFlag(t *testing.T) {
	for _, c := range subcommands() {
		t.Run(c.name, func(t *testing.T) {
			r := zs(t, c.name, "--no-such-flag")
			if r.code != 2 || !strings.Contains(r.errOut, "flag provided but not defined: -no-such-flag") ||
				!strings.Contains(r.errOut, "usage: zhaoshang "+c.name) {
				t.Errorf("%s", r)
			}
		})
	}
	data := t.TempDir()
	for _, args := range [][]string{
		{"verify", "--no-such-flag", "--data", data},
		{"import", "--no-such-flag", "ledger.csv"},
		{"export", "--format", "csv", "--no-such-flag", "lists/signed"},
		{"token", "--ttl", "soon", "--role", "centre"},
		{"demo", "--seed", "many"},
	} {
		if r := zs(t, args...); r.code != 2 || strings.Count(r.errOut, "usage: zhaoshang") != 1 {
			t.Errorf("%v: %s", args, r)
		}
	}
	if _, err := os.Stat(storePath(data)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a command refused for a bad flag opened the store: %v", err)
	}
}

// TestParseFlags: the environment fills only the flags the command line
// leaves out; dashes are underscores in the variable's name.
func TestParseFlags(t *testing.T) {
	env := map[string]string{
		"ZHAOSHANG_DATA":    "/from/env",
		"ZHAOSHANG_ADDR":    "0.0.0.0:9000",
		"ZHAOSHANG_DRY_RUN": "true",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "./data", "")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	dry := fs.Bool("dry-run", false, "")
	tz := fs.String("tz", "Asia/Shanghai", "")
	if err := parseFlags(fs, []string{"--addr", "127.0.0.1:1", "file.csv"}, lookup); err != nil {
		t.Fatal(err)
	}
	if *data != "/from/env" || *addr != "127.0.0.1:1" || !*dry || *tz != "Asia/Shanghai" || fs.Arg(0) != "file.csv" {
		t.Errorf("data %q addr %q dry-run %v tz %q args %q", *data, *addr, *dry, *tz, fs.Args())
	}

	env["ZHAOSHANG_TZ"] = "nowhere"
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Duration("tz", time.Hour, "")
	err := parseFlags(fs, nil, lookup)
	var ee *envError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), `ZHAOSHANG_TZ="nowhere"`) {
		t.Errorf("bad environment value: %v", err)
	}
}

// TestEnvironment: a flag left off the command line is read from
// ZHAOSHANG_<FLAG>; one given on the command line wins.
func TestEnvironment(t *testing.T) {
	fromEnv, fromFlag := t.TempDir(), t.TempDir()
	secretOf := func(dir string) []byte {
		t.Helper()
		s, err := api.LoadOrCreateSecret(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Setenv("ZHAOSHANG_DATA", fromEnv)
	t.Setenv("ZHAOSHANG_ROLE", api.RoleLeader)
	r := mustZS(t, "token")
	a, err := api.ParseToken(secretOf(fromEnv), strings.TrimSpace(r.out), time.Now())
	if err != nil || a.Role != api.RoleLeader {
		t.Fatalf("token with ZHAOSHANG_DATA and ZHAOSHANG_ROLE: %+v %v", a, err)
	}

	r = mustZS(t, "token", "--data", fromFlag, "--role", api.RoleAuditor)
	if _, err := os.Stat(filepath.Join(fromFlag, api.SecretFile)); err != nil {
		t.Fatalf("--data did not win over ZHAOSHANG_DATA: %v", err)
	}
	a, err = api.ParseToken(secretOf(fromFlag), strings.TrimSpace(r.out), time.Now())
	if err != nil || a.Role != api.RoleAuditor {
		t.Fatalf("token with --data and --role over the environment: %+v %v", a, err)
	}
	if _, err := api.ParseToken(secretOf(fromEnv), strings.TrimSpace(r.out), time.Now()); err == nil {
		t.Fatal("the token was signed with ZHAOSHANG_DATA's secret, not --data's")
	}

	// A bad value in the environment is a usage error naming the variable.
	t.Setenv("ZHAOSHANG_TTL", "a while")
	r = zs(t, "token")
	if r.code != 2 || !strings.Contains(r.errOut, `ZHAOSHANG_TTL="a while"`) {
		t.Fatalf("bad ZHAOSHANG_TTL: %s", r)
	}
	// ... unless the flag is given, which is then all that counts.
	mustZS(t, "token", "--ttl", "1h")
}

// TestEnvironmentDashedFlag: --dry-run is ZHAOSHANG_DRY_RUN, and
// --dry-run=false on the command line wins over it.
func TestEnvironmentDashedFlag(t *testing.T) {
	data := demoData(t)
	before := head(t, data)
	t.Setenv("ZHAOSHANG_DATA", data)
	t.Setenv("ZHAOSHANG_DRY_RUN", "true")
	r := mustZS(t, "import", sampleSheet)
	if !strings.Contains(r.out, "dry run") || head(t, data) != before {
		t.Fatalf("import with ZHAOSHANG_DRY_RUN=true appended or did not say so: %s", r)
	}
	r = mustZS(t, "import", "--dry-run=false", sampleSheet)
	if strings.Contains(r.out, "dry run") || head(t, data) == before {
		t.Fatalf("import --dry-run=false with ZHAOSHANG_DRY_RUN=true appended nothing: %s", r)
	}
}
