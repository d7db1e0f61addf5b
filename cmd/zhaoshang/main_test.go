package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/internal/pgtest"
)

// The tests drive the binary through run, exactly as main does, on the
// embedded store in temporary directories. The demo dataset is loaded once
// per test binary (by `zhaoshang demo`, the command under test) and every
// test that needs a populated ledger works on its own copy of that data
// directory, so a test that appends, seals or corrupts cannot disturb
// another.

// fixtureRoot holds the shared demo data directory; TestMain removes it.
var fixtureRoot string

func TestMain(m *testing.M) {
	// Every flag reads ZHAOSHANG_<FLAG>, and the token secret reads
	// ZHAOSHANG_SECRET: a developer's or CI's settings would change what
	// the commands under test do. The PostgreSQL test server's variable is
	// no flag and stays.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ZHAOSHANG_") && k != pgtest.EnvURL {
			os.Unsetenv(k)
		}
	}
	dir, err := os.MkdirTemp("", "zhaoshang-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	code        int
	out, errOut string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.out, r.errOut)
}

// zs runs the binary with args and returns its exit code and output.
func zs(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, &out, &errOut)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// mustZS runs the binary and fails the test unless it exits 0.
func mustZS(t *testing.T, args ...string) result {
	t.Helper()
	r := zs(t, args...)
	if r.code != 0 {
		t.Fatalf("zhaoshang %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// syncBuffer is a bytes.Buffer that a running command (serve) can write
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// demoFixture is the demo dataset, loaded once by `zhaoshang demo`.
var demoFixture struct {
	once sync.Once
	dir  string
	run  result
}

// demoData returns a fresh copy of a data directory holding the demo
// dataset (seed 2024).
func demoData(t *testing.T) string {
	t.Helper()
	demoFixture.once.Do(func() {
		dir := filepath.Join(fixtureRoot, "demo")
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"demo", "--data", dir, "--seed", "2024"}, &out, &errOut)
		demoFixture.dir = dir
		demoFixture.run = result{code: code, out: out.String(), errOut: errOut.String()}
	})
	if demoFixture.run.code != 0 {
		t.Fatalf("zhaoshang demo (the shared fixture): %s", demoFixture.run)
	}
	dst := t.TempDir()
	copyDir(t, demoFixture.dir, dst)
	return dst
}

// copyDir copies the regular files of src into dst, keeping their modes
// (the secret file must stay 0600). The store is closed while it is copied:
// every command closes it before run returns.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dst, e.Name()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			in.Close()
			t.Fatal(err)
		}
		_, err = io.Copy(out, in)
		in.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// storePath is the embedded store of a data directory.
func storePath(dir string) string { return filepath.Join(dir, "events.db") }

// openStore opens the embedded store of dir for the test to inspect; the
// binary must not be running on it (bbolt locks the file).
func openStore(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(storePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// head is the position of the last event in dir's store.
func head(t *testing.T, dir string) eventstore.Position {
	t.Helper()
	s := openStore(t, dir)
	defer s.Close()
	h, err := s.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countEvents reads dir's whole log and counts its events.
func countEvents(t *testing.T, dir string) int {
	t.Helper()
	s := openStore(t, dir)
	defer s.Close()
	n := 0
	for after := eventstore.Start; ; {
		evs, err := s.ReadAll(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return n
		}
		n += len(evs)
		after = evs[len(evs)-1].Position
	}
}
