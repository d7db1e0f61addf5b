package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding the server's URL.
const EnvURL = "ZHAOSHANG_TEST_PG"

// DefaultURL is the server used when EnvURL is not set: the local
// PostgreSQL with trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// connectTimeout bounds how long an unreachable server can stall a test
// before it is skipped (or failed under CI).
const connectTimeout = 5 * time.Second

// ServerURL is the URL of the server tests create their databases on.
func ServerURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// New creates an empty database for t, registers its removal with
// t.Cleanup, and returns its URL. It skips t when the server is not
// reachable, or fails it when the environment variable CI is "true".
func New(t testing.TB) string {
	t.Helper()
	server := ServerURL()

	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v; set %s", redact(server), err, EnvURL)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer admin.Close(context.Background())

	name := "zs_test_" + randomSuffix(t)
	// template0 rather than the default template1: CREATE DATABASE fails
	// while any session is connected to its template, and other tests (or
	// people) may be connected to template1; nobody can connect to template0.
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE template0 ENCODING 'UTF8'"
	if _, err := admin.Exec(ctx, create); err != nil {
		t.Fatalf("pgtest: create database %s on %s: %v", name, redact(server), err)
	}
	t.Cleanup(func() { drop(t, server, name) })

	dbURL, err := withDatabase(server, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dbURL
}

// drop removes the test database. WITH (FORCE) ends sessions a test left
// open (a leaked pool, a listener), which would otherwise make DROP fail.
func drop(t testing.TB, server, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Errorf("pgtest: drop database %s: connect: %v", name, err)
		return
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

func randomSuffix(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("pgtest: random database name: %v", err)
	}
	return hex.EncodeToString(b[:])
}

// withDatabase returns server's connection string pointing at database
// name instead. Both forms pgx accepts are handled: a URL, and a
// keyword/value string (where a later dbname overrides an earlier one).
func withDatabase(server, name string) (string, error) {
	if strings.HasPrefix(server, "postgres://") || strings.HasPrefix(server, "postgresql://") {
		u, err := url.Parse(server)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return server + " dbname=" + name, nil
}

// redact hides a password in a URL before it goes into a test log.
func redact(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.User == nil {
		return server
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
