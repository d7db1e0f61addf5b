package api

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
)

// authServer has one read open to every role and one command for the
// centre only.
func authServer(t *testing.T) *testServer {
	s := newTestServer(t)
	s.Query("/units", func(c echo.Context) error {
		a, _ := ActorFrom(c)
		return c.JSON(http.StatusOK, a)
	})
	s.Command(http.MethodPut, "/policy", func(c echo.Context) error {
		return c.NoContent(http.StatusNoContent)
	}, RoleCentre)
	return s
}

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claimsFor(role, unit string) Claims {
	return Claims{
		Role: role, Unit: unit,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: TokenIssuer, Subject: "someone", Audience: jwt.ClaimStrings{TokenAudience},
			ExpiresAt: jwt.NewNumericDate(testNow.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(testNow),
		},
	}
}

func TestAuthenticateRefuses(t *testing.T) {
	s := authServer(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := token(t, RoleLeader, "")
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := strings.Replace(string(payload), `"leader"`, `"centre"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tamperedPayload)) + "." + parts[2]

	expired, err := MintToken(testSecret, "old", RoleLeader, "", time.Hour, testNow.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	future, err := MintToken(testSecret, "early", RoleLeader, "", time.Hour, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	noExp := claimsFor(RoleLeader, "")
	noExp.ExpiresAt = nil
	wrongIss := claimsFor(RoleLeader, "")
	wrongIss.Issuer = "someone-else"
	wrongAud := claimsFor(RoleLeader, "")
	wrongAud.Audience = jwt.ClaimStrings{"other-api"}
	noSubject := claimsFor(RoleLeader, "")
	noSubject.Subject = ""

	for _, tc := range []struct {
		name   string
		header []string
		want   string // in the detail
	}{
		{"no header", nil, "required"},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "Bearer"},
		{"bearer without token", []string{"Bearer "}, "Bearer"},
		{"two headers", []string{"Bearer " + valid, "Bearer " + valid}, "Bearer"},
		{"garbage", []string{"Bearer not.a.token"}, "malformed"},
		{"two segments", []string{"Bearer abc.def"}, "malformed"},
		{"expired", []string{"Bearer " + expired}, "expired"},
		{"not yet valid", []string{"Bearer " + future}, "not valid yet"},
		{"tampered payload", []string{"Bearer " + tampered}, "signature"},
		{"wrong secret", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, []byte("another-secret-of-32-bytes-or-more!!"), claimsFor(RoleCentre, ""))}, "signature"},
		{"alg none", []string{"Bearer " + signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsFor(RoleCentre, ""))}, "HS256"},
		{"RS256", []string{"Bearer " + signed(t, jwt.SigningMethodRS256, rsaKey, claimsFor(RoleCentre, ""))}, "HS256"},
		{"HS512 same secret", []string{"Bearer " + signed(t, jwt.SigningMethodHS512, testSecret, claimsFor(RoleCentre, ""))}, "HS256"},
		{"HS384 same secret", []string{"Bearer " + signed(t, jwt.SigningMethodHS384, testSecret, claimsFor(RoleCentre, ""))}, "HS256"},
		{"no exp", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, noExp)}, "exp"},
		{"wrong issuer", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, wrongIss)}, "issued for"},
		{"wrong audience", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, wrongAud)}, "issued for"},
		{"unknown role", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, claimsFor("mayor", ""))}, "role"},
		{"unit_staff without unit", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, claimsFor(RoleUnitStaff, ""))}, "unit"},
		{"bad unit code", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, claimsFor(RoleUnitStaff, "南湖"))}, "unit"},
		{"no subject", []string{"Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, noSubject)}, "subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := func(method, path string) {
				var opts []reqOpt
				opts = append(opts, func(r *http.Request) {
					for _, h := range tc.header {
						r.Header.Add("Authorization", h)
					}
				})
				rec := do(s.Handler(), method, path, "", opts...)
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
				}
				p := problemOf(t, rec)
				if p.Code != CodeUnauthorized || !strings.Contains(p.Detail, tc.want) {
					t.Fatalf("problem %+v, want detail with %q", p, tc.want)
				}
				if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
				}
				if strings.Contains(rec.Body.String(), "eyJ") {
					t.Fatal("the answer echoes the token")
				}
			}
			req(http.MethodGet, "/api/v1/units")
			req(http.MethodPut, "/api/v1/policy")
			// An unknown path under /api/v1 is no different: no token, no
			// answer about which routes exist.
			req(http.MethodGet, "/api/v1/nowhere")
		})
	}
}

func TestAuthenticateAcceptsAndRolesGate(t *testing.T) {
	s := authServer(t)
	rec := do(s.Handler(), http.MethodGet, "/api/v1/units", "", withHeader("Authorization", "bearer "+token(t, RoleUnitStaff, "nanhu")))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var a Actor
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if a != (Actor{Subject: "tester-unit_staff", Role: RoleUnitStaff, Unit: "nanhu"}) {
		t.Fatalf("actor %+v", a)
	}
	for _, role := range Roles() {
		unit := ""
		if role == RoleUnitStaff {
			unit = "nanhu"
		}
		rec := do(s.Handler(), http.MethodPut, "/api/v1/policy", "", withToken(token(t, role, unit)))
		want := http.StatusForbidden
		if role == RoleCentre {
			want = http.StatusNoContent
		}
		if rec.Code != want {
			t.Fatalf("%s: status %d, want %d: %s", role, rec.Code, want, rec.Body)
		}
		if want == http.StatusForbidden {
			if p := problemOf(t, rec); p.Code != CodeForbidden {
				t.Fatalf("%s: code %s", role, p.Code)
			}
		}
	}
	// Operations endpoints need no token.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		if rec := do(s.Handler(), http.MethodGet, path, ""); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
}

func TestRequireRoleWithoutAuthenticateFailsClosed(t *testing.T) {
	e := bare()
	e.GET("/x", func(c echo.Context) error { return c.NoContent(200) }, RequireRole(RoleCentre))
	if rec := do(e, http.MethodGet, "/x", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestMintToken(t *testing.T) {
	tok, err := MintToken(testSecret, "张三", RoleUnitStaff, "nanhu", 24*time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseToken(testSecret, tok, testNow.Add(23*time.Hour))
	if err != nil || a != (Actor{Subject: "张三", Role: RoleUnitStaff, Unit: "nanhu"}) {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := ParseToken(testSecret, tok, testNow.Add(25*time.Hour)); err == nil {
		t.Fatal("an expired token parsed")
	}
	other, _ := MintToken(testSecret, "张三", RoleUnitStaff, "nanhu", 24*time.Hour, testNow)
	if other == tok {
		t.Fatal("two tokens minted alike: jti missing")
	}
	for _, tc := range []struct {
		name                string
		secret              []byte
		subject, role, unit string
		ttl                 time.Duration
	}{
		{"short secret", []byte("short"), "s", RoleCentre, "", time.Hour},
		{"no subject", testSecret, "", RoleCentre, "", time.Hour},
		{"unknown role", testSecret, "s", "root", "", time.Hour},
		{"unit_staff without unit", testSecret, "s", RoleUnitStaff, "", time.Hour},
		{"bad unit", testSecret, "s", RoleUnitStaff, "a b", time.Hour},
		{"zero ttl", testSecret, "s", RoleCentre, "", 0},
	} {
		if _, err := MintToken(tc.secret, tc.subject, tc.role, tc.unit, tc.ttl, testNow); err == nil {
			t.Errorf("%s: minted", tc.name)
		}
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	t.Run("environment wins", func(t *testing.T) {
		t.Setenv(SecretEnv, strings.Repeat("k", 40))
		s, err := LoadOrCreateSecret(t.TempDir())
		if err != nil || string(s) != strings.Repeat("k", 40) {
			t.Fatalf("%q %v", s, err)
		}
	})
	t.Run("short environment secret refused", func(t *testing.T) {
		t.Setenv(SecretEnv, "changeme")
		if _, err := LoadOrCreateSecret(t.TempDir()); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("created once with mode 0600", func(t *testing.T) {
		t.Setenv(SecretEnv, "")
		dir := filepath.Join(t.TempDir(), "data")
		s1, err := LoadOrCreateSecret(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(s1) != MinSecretBytes {
			t.Fatalf("%d bytes", len(s1))
		}
		fi, err := os.Stat(filepath.Join(dir, SecretFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %o", fi.Mode().Perm())
		}
		s2, err := LoadOrCreateSecret(dir)
		if err != nil || string(s1) != string(s2) {
			t.Fatal("second start got another secret")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("left files behind: %v", entries)
		}
	})
	t.Run("concurrent first starts agree", func(t *testing.T) {
		t.Setenv(SecretEnv, "")
		dir := t.TempDir()
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = LoadOrCreateSecret(dir)
			}()
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil || string(got[i]) != string(got[0]) {
				t.Fatalf("start %d: %v", i, errs[i])
			}
		}
	})
	t.Run("readable by others refused", func(t *testing.T) {
		t.Setenv(SecretEnv, "")
		dir := t.TempDir()
		if _, err := LoadOrCreateSecret(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, SecretFile), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateSecret(dir); err == nil || !strings.Contains(err.Error(), "0644") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not hexadecimal refused", func(t *testing.T) {
		t.Setenv(SecretEnv, "")
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte("not hex at all"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateSecret(dir); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("short file secret refused", func(t *testing.T) {
		t.Setenv(SecretEnv, "")
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte("abcd\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateSecret(dir); err == nil {
			t.Fatal("accepted")
		}
	})
}
