// Package pgtest gives each test that needs PostgreSQL a database of its
// own.
//
// New creates a uniquely named, empty database on the server named by the
// ZHAOSHANG_TEST_PG environment variable (a postgres:// URL; by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), drops it
// when the test ends, and returns its URL. Tests therefore never share
// state, can run in parallel, and leave nothing behind.
//
// When the server cannot be reached the test is skipped with a message
// naming the URL and the variable to set, so that `go test ./...` stays
// usable on a machine without PostgreSQL. Under CI=true the same condition
// fails the test instead: CI must exercise the PostgreSQL code, never
// silently skip it.
package pgtest
