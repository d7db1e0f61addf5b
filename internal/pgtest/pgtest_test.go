package pgtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestNewCreatesAnEmptyDatabaseAndDropsIt(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dbURL := New(t)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatalf("connect to the new database: %v", err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "zs_test_") {
			t.Fatalf("database name %q lacks the zs_test_ prefix", name)
		}
		var encoding string
		if err := conn.QueryRow(ctx, "SHOW server_encoding").Scan(&encoding); err != nil {
			t.Fatal(err)
		}
		if encoding != "UTF8" {
			t.Fatalf("server_encoding = %s, want UTF8", encoding)
		}
		var tables int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Fatalf("new database has %d user tables, want 0", tables)
		}
	})
	if name == "" {
		// The subtest was skipped: no server.
		return
	}
	// The subtest's cleanup has run: the database must be gone.
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after the test's cleanup", name)
	}
}

func TestNewGivesEachCallItsOwnDatabase(t *testing.T) {
	a, b := New(t), New(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ server, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/zs_x?sslmode=disable"},
		{"postgresql://u:p@h/db", "postgresql://u:p@h/zs_x"},
		{"postgres://h", "postgres://h/zs_x"},
		{"host=127.0.0.1 user=postgres dbname=postgres", "host=127.0.0.1 user=postgres dbname=postgres dbname=zs_x"},
	} {
		got, err := withDatabase(tc.server, "zs_x")
		if err != nil {
			t.Fatalf("withDatabase(%q): %v", tc.server, err)
		}
		if got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.server, got, tc.want)
		}
	}
}

func TestRedactHidesThePassword(t *testing.T) {
	got := redact("postgres://u:secret@h:5432/db")
	if strings.Contains(got, "secret") {
		t.Fatalf("redact left the password in %q", got)
	}
}

// recorder stands in for testing.TB to observe New's Skip or Fatal, which
// end the calling goroutine in a real test.
type recorder struct {
	testing.TB
	skipped, failed string
}

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = strings.TrimSpace(fmt.Sprintln(args...))
	panic(stop{})
}
func (r *recorder) Fatal(args ...any) {
	r.failed = strings.TrimSpace(fmt.Sprintln(args...))
	panic(stop{})
}

func callNew(r *recorder) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stop); !ok {
				panic(v)
			}
		}
	}()
	New(r)
}

func TestUnreachableServerSkipsOrFailsUnderCI(t *testing.T) {
	// Port 1 on loopback: nothing listens there, so the connection is
	// refused at once.
	t.Setenv(EnvURL, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")

	t.Setenv("CI", "")
	r := &recorder{TB: t}
	callNew(r)
	if r.skipped == "" || r.failed != "" {
		t.Fatalf("without CI: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}
	for _, want := range []string{"PostgreSQL not reachable at", "127.0.0.1:1", EnvURL} {
		if !strings.Contains(r.skipped, want) {
			t.Errorf("skip message %q lacks %q", r.skipped, want)
		}
	}

	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	callNew(r)
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("with CI=true: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
}
