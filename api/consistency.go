package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Header names of the consistency protocol (API.md "Conventions").
const (
	HeaderIfMatch        = "If-Match"
	HeaderETag           = "ETag"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderPosition       = "X-Position"
)

// MaxMinPositionWait bounds how long a read waits for min_position (API.md:
// "bounded, ≤ 5 s").
const MaxMinPositionWait = 5 * time.Second

// Positioner is the read side as the API sees it: the position of the global
// log its views have applied, and a wait for a position.
// projections.Runner implements it.
type Positioner interface {
	Position() eventstore.Position
	// WaitFor returns nil once the views include pos, or an error when ctx
	// ends (or the views stopped) first.
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// LogHead reports the last position of the event log; eventstore.Store
// implements it. Optional: with it, a min_position beyond the end of the log
// is the client's mistake (422), not the server's delay (503).
type LogHead interface {
	Head(ctx context.Context) (eventstore.Position, error)
}

// SetETag sets ETag: "N" for a stream at version n.
func SetETag(c echo.Context, version uint64) {
	c.Response().Header().Set(HeaderETag, `"`+strconv.FormatUint(version, 10)+`"`)
}

// SetPosition sets X-Position explicitly (a command answer carries the
// position of its append; the middleware fills in the views' position on
// every other answer).
func SetPosition(c echo.Context, pos eventstore.Position) {
	c.Response().Header().Set(HeaderPosition, pos.String())
}

// Precondition is a parsed If-Match header.
type Precondition struct {
	// Set is false when the request had no If-Match.
	Set bool
	// Any is If-Match: * (the resource must exist, any version).
	Any bool
	// Version is the required stream version (0: the stream must not
	// exist yet).
	Version uint64
}

// ParseIfMatch reads If-Match: "N", W/"N" or *. Weak tags are accepted as
// the same version (a proxy may weaken an ETag; versions are exact anyway).
// A list of tags, or a tag that is not a version, is 422 naming If-Match.
func ParseIfMatch(c echo.Context) (Precondition, error) {
	vals := c.Request().Header.Values(HeaderIfMatch)
	if len(vals) == 0 {
		return Precondition{}, nil
	}
	bad := func() (Precondition, error) {
		return Precondition{}, Invalid(HeaderIfMatch, "format", `must be one version tag such as "3" (or *)`)
	}
	if len(vals) > 1 {
		return bad()
	}
	s := strings.TrimSpace(vals[0])
	if s == "*" {
		return Precondition{Set: true, Any: true}, nil
	}
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return bad()
	}
	digits := s[1 : len(s)-1]
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" || len(digits) > 1 && digits[0] == '0' {
		return bad()
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return bad()
	}
	return Precondition{Set: true, Version: n}, nil
}

// Expected is the store's append condition for the precondition: Exact(N)
// for "N", Any otherwise (If-Match: * is satisfied by any existing stream;
// the command refuses a missing one with 404 on its own).
func (p Precondition) Expected() eventstore.ExpectedVersion {
	if p.Set && !p.Any {
		return eventstore.Exact(p.Version)
	}
	return eventstore.Any()
}

// Exact reports the version If-Match requires, if it names one.
func (p Precondition) Exact() (uint64, bool) { return p.Version, p.Set && !p.Any }

// Translate turns a command's version conflict into 412 precondition_failed
// when the client named the version with If-Match: then the conflict is the
// client's stale view, not a race to retry. Other errors pass unchanged.
func (p Precondition) Translate(err error) error {
	if err == nil || !p.Set || p.Any || !errors.Is(err, eventstore.ErrVersionConflict) {
		return err
	}
	pe := &PreconditionFailedError{Expected: p.Version}
	var vc *eventstore.VersionConflictError
	if errors.As(err, &vc) {
		pe.Actual = vc.Actual
	}
	return pe
}

// MaxIdempotencyKeyLength bounds Idempotency-Key.
const MaxIdempotencyKeyLength = 255

// IdempotencyKey reads Idempotency-Key: "" when absent; 1–255 printable ASCII
// characters (no leading or trailing space) when present, else 422 naming the
// header.
func IdempotencyKey(c echo.Context) (string, error) {
	vals := c.Request().Header.Values(HeaderIdempotencyKey)
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", Invalid(HeaderIdempotencyKey, "format", "must be given once")
	}
	k := vals[0]
	if k == "" || len(k) > MaxIdempotencyKeyLength || k[0] == ' ' || k[len(k)-1] == ' ' {
		return "", Invalid(HeaderIdempotencyKey, "format",
			fmt.Sprintf("must be 1–%d printable ASCII characters", MaxIdempotencyKeyLength))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", Invalid(HeaderIdempotencyKey, "format",
				fmt.Sprintf("must be 1–%d printable ASCII characters", MaxIdempotencyKeyLength))
		}
	}
	return k, nil
}

// CommandResult is every command's answer (API.md "Conventions"): the id of
// the resource, its stream version after the command, and the global position
// of the append. ExclusiveUntil is set on a report that gained
// first-negotiation rights.
type CommandResult struct {
	ID             string              `json:"id"`
	Version        uint64              `json:"version"`
	Position       eventstore.Position `json:"position"`
	ExclusiveUntil *time.Time          `json:"exclusive_until,omitempty"`
}

// RespondCommand writes a command answer with status (201 when the command
// created the resource, else 200) and the ETag and X-Position headers.
func RespondCommand(c echo.Context, status int, r CommandResult) error {
	SetETag(c, r.Version)
	SetPosition(c, r.Position)
	return c.JSON(status, r)
}

// PositionHeader is middleware that puts X-Position (the views' position) on
// every answer, errors included, unless the handler set it. It sets the
// header just before the status line is written, so it reports the position
// the answer was computed at or after.
func PositionHeader(p Positioner) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			res.Before(func() {
				if res.Header().Get(HeaderPosition) == "" {
					res.Header().Set(HeaderPosition, p.Position().String())
				}
			})
			return next(c)
		}
	}
}

// MinPositionConfig configures MinPosition.
type MinPositionConfig struct {
	Skipper    middleware.Skipper
	Positioner Positioner
	// Head is optional; see LogHead.
	Head LogHead
	// MaxWait bounds the wait; default and maximum MaxMinPositionWait.
	MaxWait time.Duration
}

// MinPosition is middleware for reads: with ?min_position=P it waits until
// the views include P before the handler runs, so a client reads its own
// writes. It never answers silently stale: after MaxWait it answers 503
// not_caught_up with Retry-After and the position reached (X-Position), or
// 422 when P lies beyond the end of the log (a position the server never
// gave out). A malformed P is 422 naming min_position.
func MinPosition(cfg MinPositionConfig) echo.MiddlewareFunc {
	if cfg.Positioner == nil {
		panic("api: MinPosition needs a Positioner")
	}
	if cfg.Skipper == nil {
		cfg.Skipper = middleware.DefaultSkipper
	}
	if cfg.MaxWait <= 0 || cfg.MaxWait > MaxMinPositionWait {
		cfg.MaxWait = MaxMinPositionWait
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			vals, present := c.QueryParams()["min_position"]
			if !present {
				return next(c)
			}
			if len(vals) != 1 || vals[0] == "" {
				return Invalid("min_position", "format", "must be given once, as a position (N or C-P)")
			}
			pos, err := eventstore.ParsePosition(vals[0])
			if err != nil {
				return Invalid("min_position", "format", "must be a position (N or C-P) as an earlier answer gave it")
			}
			if cfg.Positioner.Position().Compare(pos) >= 0 {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), cfg.MaxWait)
			werr := cfg.Positioner.WaitFor(ctx, pos)
			timedOut := ctx.Err() == context.DeadlineExceeded
			cancel()
			if werr == nil {
				return next(c)
			}
			if err := c.Request().Context().Err(); err != nil {
				return err // the client left
			}
			if timedOut && cfg.Head != nil {
				hctx, hcancel := context.WithTimeout(c.Request().Context(), time.Second)
				head, herr := cfg.Head.Head(hctx)
				hcancel()
				if herr == nil && head.Compare(pos) < 0 {
					return Invalid("min_position", "beyond_log",
						fmt.Sprintf("position %s is beyond the end of the log (%s)", pos, head))
				}
			}
			c.Response().Header().Set(echo.HeaderRetryAfter, "1")
			p := NewProblem(http.StatusServiceUnavailable, CodeNotCaughtUp,
				fmt.Sprintf("the views have not reached position %s yet (they are at %s); retry shortly",
					pos, cfg.Positioner.Position()))
			p.With("min_position", pos.String())
			// The wrapped cause (a timeout, or views that stopped) reaches
			// the log; the client sees only the problem.
			return fmt.Errorf("%w (%v)", p, werr)
		}
	}
}
