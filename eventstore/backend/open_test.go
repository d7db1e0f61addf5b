package backend

import (
	"context"
	"path/filepath"
	"testing"
)

func TestKind(t *testing.T) {
	cases := []struct {
		url, want string
		bad       bool
	}{
		{url: "bolt:./data/events.db", want: "bolt"},
		{url: "postgres://u:p@127.0.0.1/db", want: "postgres"},
		{url: "postgresql://127.0.0.1/db", want: "postgres"},
		{url: "esdb://127.0.0.1:2113?tls=false", want: "esdb"},
		{url: "mysql://x", bad: true},
		{url: "", bad: true},
	}
	for _, c := range cases {
		got, err := Kind(c.url)
		if c.bad != (err != nil) || got != c.want {
			t.Errorf("Kind(%q) = %q, %v; want %q, bad=%v", c.url, got, err, c.want, c.bad)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("postgres://zs:secret@db:5432/x"); got != "postgres://zs:***@db:5432/x" {
		t.Fatalf("Redact = %q", got)
	}
	if got := Redact("bolt:./data/events.db"); got != "bolt:./data/events.db" {
		t.Fatalf("Redact = %q", got)
	}
}

func TestOpenBoltCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s, err := Open(context.Background(), DefaultURL(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Head(context.Background()); err != nil {
		t.Fatalf("Head on a new store: %v", err)
	}
}
