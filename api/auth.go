package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Roles (DOMAIN.md "Units, roles, actors").
const (
	RoleUnitStaff  = "unit_staff"
	RoleCentre     = "centre"
	RoleLeader     = "leader"
	RoleAuditor    = "auditor"
	RoleDiscipline = "discipline"
	RoleAdmin      = "admin"
)

// Roles lists every role.
func Roles() []string {
	return []string{RoleUnitStaff, RoleCentre, RoleLeader, RoleAuditor, RoleDiscipline, RoleAdmin}
}

// Token parameters. The issuer and audience are checked so that a token
// minted for another system with the same secret is not accepted here.
const (
	TokenIssuer   = "zhaoshang"
	TokenAudience = "zhaoshang-api"
	// tokenLeeway absorbs clock differences between the minting host and
	// the server for exp, nbf and iat.
	tokenLeeway = 30 * time.Second
)

// Secret sources.
const (
	SecretEnv      = "ZHAOSHANG_SECRET"
	SecretFile     = "secret"
	MinSecretBytes = 32 // HS256 keys shorter than the hash are weaker than the hash (RFC 7518 3.2)
)

// Actor is who is calling: the authenticated subject, role and unit.
type Actor struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	Unit    string `json:"unit,omitempty"`
}

// Claims are the JWT claims zhaoshang mints and accepts: the registered
// claims (sub, iss, aud, exp, iat, nbf, jti) plus role and unit.
type Claims struct {
	Role string `json:"role"`
	Unit string `json:"unit,omitempty"`
	jwt.RegisteredClaims
}

const ctxActor = "zhaoshang.actor"

// ActorFrom returns the authenticated actor of a request.
func ActorFrom(c echo.Context) (Actor, bool) {
	a, ok := c.Get(ctxActor).(Actor)
	return a, ok
}

// WithActor puts an actor in the context, as Authenticate does (for tests
// of handlers that run without the middleware).
func WithActor(c echo.Context, a Actor) { c.Set(ctxActor, a) }

// checkActor validates the claims a token carries or is about to carry.
func checkActor(a Actor) error {
	switch {
	case a.Subject == "":
		return errors.New("the subject is empty")
	case len(a.Subject) > 200 || strings.ContainsFunc(a.Subject, unicode.IsControl):
		return errors.New("the subject is too long or has control characters")
	case !slices.Contains(Roles(), a.Role):
		return fmt.Errorf("unknown role %q (want one of %s)", a.Role, strings.Join(Roles(), ", "))
	case a.Role == RoleUnitStaff && a.Unit == "":
		return errors.New("a unit_staff token must carry a unit")
	case a.Unit != "" && !unitCodePattern.MatchString(a.Unit):
		return fmt.Errorf("unit %q is not a unit code", a.Unit)
	}
	return nil
}

// MintToken signs an HS256 token for subject, role and unit, valid for ttl
// from now. zhaoshang token uses it; so do tests.
func MintToken(secret []byte, subject, role, unit string, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("api: the signing secret has %d bytes, fewer than %d", len(secret), MinSecretBytes)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("api: token lifetime %s is not positive", ttl)
	}
	a := Actor{Subject: subject, Role: role, Unit: unit}
	if err := checkActor(a); err != nil {
		return "", fmt.Errorf("api: %w", err)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("api: token id: %w", err)
	}
	now = now.Truncate(time.Second)
	claims := Claims{
		Role: role,
		Unit: unit,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{TokenAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// ParseToken verifies a token and returns its actor. Only HS256 is accepted:
// the allow-list refuses "none", RS256 (the public-key confusion attack),
// HS384/HS512 and anything else before the signature is even looked at. exp
// is required; iss and aud must be zhaoshang's.
func ParseToken(secret []byte, token string, now time.Time) (Actor, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithAudience(TokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithStrictDecoding(),
	)
	var claims Claims
	_, err := parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return secret, nil })
	if err != nil {
		return Actor{}, err
	}
	a := Actor{Subject: claims.Subject, Role: claims.Role, Unit: claims.Unit}
	if err := checkActor(a); err != nil {
		return Actor{}, err
	}
	return a, nil
}

// AuthConfig configures Authenticate.
type AuthConfig struct {
	// Skipper lets routes through without a token (the operations
	// endpoints). Default: none skipped.
	Skipper middleware.Skipper
	// Secret is the HS256 key; required, at least MinSecretBytes.
	Secret []byte
	// Now is the clock for exp/nbf/iat; default time.Now.
	Now func() time.Time
}

// Validate checks the configuration.
func (cfg AuthConfig) Validate() error {
	if len(cfg.Secret) < MinSecretBytes {
		return fmt.Errorf("api: auth secret has %d bytes, fewer than %d", len(cfg.Secret), MinSecretBytes)
	}
	return nil
}

// Authenticate requires "Authorization: Bearer <token>" with a valid token and
// puts its Actor in the context. Missing, malformed, expired, not yet valid,
// tampered, wrongly signed or wrong-algorithm tokens are 401 unauthorized with
// a WWW-Authenticate challenge (RFC 6750). It panics on an invalid config,
// like Echo's own middleware constructors.
func Authenticate(cfg AuthConfig) echo.MiddlewareFunc {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.Skipper == nil {
		cfg.Skipper = middleware.DefaultSkipper
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	secret := slices.Clone(cfg.Secret)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			h := c.Request().Header.Values(echo.HeaderAuthorization)
			if len(h) == 0 {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="zhaoshang"`)
				return NewProblem(http.StatusUnauthorized, CodeUnauthorized, "an Authorization: Bearer token is required")
			}
			scheme, token, found := strings.Cut(h[0], " ")
			token = strings.TrimSpace(token)
			if len(h) > 1 || !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="zhaoshang", error="invalid_request"`)
				return NewProblem(http.StatusUnauthorized, CodeUnauthorized, `the Authorization header must be "Bearer <token>"`)
			}
			actor, err := ParseToken(secret, token, cfg.Now())
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="zhaoshang", error="invalid_token"`)
				return NewProblem(http.StatusUnauthorized, CodeUnauthorized, tokenProblem(err))
			}
			WithActor(c, actor)
			return next(c)
		}
	}
}

// tokenProblem says what is wrong with a token without echoing it.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		// The allow-list refused the algorithm before any signature check.
		return "the token is not signed with HS256"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the token's signature does not verify"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is malformed"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token lacks a required claim (exp)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the token was not issued for this server"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "the token's claims are invalid"
	}
	return "the token is invalid: " + err.Error()
}

// RequireRole lets through only actors with one of roles; others get 403
// forbidden. Without an authenticated actor it answers 401 (a route wired
// without Authenticate fails closed).
func RequireRole(roles ...string) echo.MiddlewareFunc {
	allowed := slices.Clone(roles)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, ok := ActorFrom(c)
			if !ok {
				return NewProblem(http.StatusUnauthorized, CodeUnauthorized, "an Authorization: Bearer token is required")
			}
			if !slices.Contains(allowed, a.Role) {
				return NewProblem(http.StatusForbidden, CodeForbidden,
					fmt.Sprintf("role %s may not do this (allowed: %s)", a.Role, strings.Join(allowed, ", ")))
			}
			return next(c)
		}
	}
}

// LoadOrCreateSecret returns the token signing secret: the value of
// ZHAOSHANG_SECRET when set (at least 32 bytes, used as is), else the hex
// secret in <dataDir>/secret, created on first start with 32 random bytes and
// mode 0600. A secret file that group or others can read is refused rather
// than silently fixed: whoever could read it could mint tokens, so the
// operator must rotate it, not just chmod it.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	if s, ok := os.LookupEnv(SecretEnv); ok && s != "" {
		if len(s) < MinSecretBytes {
			return nil, fmt.Errorf("api: %s has %d bytes; use at least %d (e.g. openssl rand -hex 32)", SecretEnv, len(s), MinSecretBytes)
		}
		return []byte(s), nil
	}
	if dataDir == "" {
		return nil, errors.New("api: no data directory for the secret file and " + SecretEnv + " is not set")
	}
	path := filepath.Join(dataDir, SecretFile)
	secret, err := readSecretFile(path)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("api: secret: %w", err)
	}
	if err := createSecretFile(path); err != nil {
		return nil, err
	}
	// Read back what is on disk: if another process created the file
	// first, both use its secret.
	return readSecretFile(path)
}

func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("api: secret file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("api: secret file %s has mode %04o and may have been read by others; "+
			"remove it (a new one is created, and every token must be minted again) or set %s",
			path, fi.Mode().Perm(), SecretEnv)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api: secret: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("api: secret file %s is not hexadecimal: %w", path, err)
	}
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("api: secret file %s holds %d bytes, fewer than %d", path, len(secret), MinSecretBytes)
	}
	return secret, nil
}

// createSecretFile writes the secret to a temporary file and links it into
// place, so a concurrent reader never sees a half-written secret and two
// first starts cannot both win.
func createSecretFile(path string) error {
	var raw [MinSecretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("api: secret: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return fmt.Errorf("api: secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("api: secret: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(raw[:]) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("api: secret: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("api: secret: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("api: secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("api: secret: %w", err)
	}
	return nil
}
