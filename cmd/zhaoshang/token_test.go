package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
)

// TestToken: the token is signed with the secret the server reads from the
// same data directory, created 0600 on first use and kept afterwards.
func TestToken(t *testing.T) {
	data := filepath.Join(t.TempDir(), "fresh") // not there yet: created with the secret
	secretPath := filepath.Join(data, api.SecretFile)

	r := mustZS(t, "token", "--data", data, "--role", api.RoleCentre)
	tok := strings.TrimSpace(r.out)
	if strings.Count(r.out, "\n") != 1 || strings.Count(tok, ".") != 2 {
		t.Fatalf("token prints %q, want one JWT line", r.out)
	}
	fi, err := os.Stat(secretPath)
	if err != nil {
		t.Fatalf("no secret file after the first token: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %04o, want 0600", fi.Mode().Perm())
	}
	first, err := os.ReadFile(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := api.LoadOrCreateSecret(data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.ParseToken(secret, tok, time.Now())
	if err != nil {
		t.Fatalf("the server's secret does not accept the token: %v", err)
	}
	if a != (api.Actor{Subject: api.RoleCentre, Role: api.RoleCentre}) {
		t.Errorf("actor %+v, want the centre with the role as subject", a)
	}

	r = mustZS(t, "token", "--data", data, "--role", api.RoleUnitStaff, "--unit", "nanhu", "--subject", "张伟", "--ttl", "1h")
	tok = strings.TrimSpace(r.out)
	a, err = api.ParseToken(secret, tok, time.Now())
	if err != nil || a != (api.Actor{Subject: "张伟", Role: api.RoleUnitStaff, Unit: "nanhu"}) {
		t.Fatalf("unit staff token: %+v %v", a, err)
	}
	if _, err := api.ParseToken(secret, tok, time.Now().Add(2*time.Hour)); err == nil {
		t.Error("a --ttl 1h token is accepted two hours later")
	}
	if again, err := os.ReadFile(secretPath); err != nil || !bytes.Equal(again, first) {
		t.Errorf("the secret changed between tokens (%v): every token minted before is now void", err)
	}
}

func TestTokenRefusals(t *testing.T) {
	data := t.TempDir()
	r := zs(t, "token", "--data", data)
	if r.code != 2 || !strings.Contains(r.errOut, "--role is required") || !strings.Contains(r.errOut, "env ZHAOSHANG_ROLE") {
		t.Errorf("no --role: %s", r)
	}
	if r.out != "" {
		t.Errorf("no --role printed %q", r.out)
	}
	for _, args := range [][]string{
		{"--role", "mayor"},      // no such role
		{"--role", "unit_staff"}, // unit staff without a unit
		{"--role", "centre", "--ttl", "-1h"},
	} {
		r := zs(t, append([]string{"token", "--data", data}, args...)...)
		if r.code != 2 || r.out != "" || r.errOut == "" {
			t.Errorf("token %v: want exit 2, a command-line mistake; %s", args, r)
		}
	}
}
