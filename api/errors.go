package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// This file is the one place where errors become HTTP answers. Handlers return
// errors (their own, the commands', the domain's, the store's); the error
// handler walks errorRules in order and the first rule whose Match accepts the
// error decides status, code and detail. A new kind of error is a new row in
// errorRules, nowhere else.

// ErrorRule maps errors matched by Match to a problem.
type ErrorRule struct {
	// Name says what the row is for, in test failures and logs.
	Name   string
	Match  func(error) bool
	Status int
	Code   string
	// Fill completes the problem from the matched error: detail, field
	// errors, extension members. When nil the detail is the error's message
	// for client errors (4xx); server errors never expose their message.
	Fill func(err error, p *Problem)
}

// MatchIs matches errors for which errors.Is(err, target).
func MatchIs(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// MatchAs matches errors with an error of type T in their chain.
func MatchAs[T error]() func(error) bool {
	return func(err error) bool {
		var t T
		return errors.As(err, &t)
	}
}

// Errors of the api package itself.
var (
	// ErrPreconditionFailed: If-Match named a version the stream is no longer
	// at. Details are in *PreconditionFailedError.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrNotCaughtUp: the views did not reach a read's min_position within
	// the bounded wait.
	ErrNotCaughtUp = errors.New("views not caught up")
)

// PreconditionFailedError is a command refused because If-Match named version
// Expected while the stream was at Actual (when the store reported it).
type PreconditionFailedError struct {
	Expected uint64
	Actual   uint64
}

func (e *PreconditionFailedError) Error() string {
	return fmt.Sprintf("If-Match: the resource is no longer at version %d", e.Expected)
}

// Is makes the error match ErrPreconditionFailed.
func (e *PreconditionFailedError) Is(target error) bool { return target == ErrPreconditionFailed }

// PanicError is a recovered panic: always a 500, logged with its stack.
type PanicError struct {
	Value error
	Stack []byte
}

func (e *PanicError) Error() string { return "panic: " + e.Value.Error() }
func (e *PanicError) Unwrap() error { return e.Value }

// statusClientClosed is what the logs show for a request whose client went
// away before the answer (nginx's convention); nobody receives it.
const statusClientClosed = 499

// errorRules is the table, first match wins. Domain and command errors are
// added here as rows (errors.Is on their sentinels, errors.As on their
// structs).
var errorRules = []ErrorRule{
	{
		Name: "request validation", Match: MatchAs[*ValidationError](),
		Status: http.StatusUnprocessableEntity, Code: CodeValidationFailed,
		Fill: func(err error, p *Problem) {
			var ve *ValidationError
			errors.As(err, &ve)
			p.Detail = "the request has invalid fields; see errors"
			p.Errors = ve.Errors
		},
	},
	{
		// The domain's and the commands' field errors (a rule on a field's
		// value, an unregistered unit, an unknown project named in a body)
		// name the field as the client spelt it.
		Name: "command validation", Match: MatchIs(domain.ErrValidation),
		Status: http.StatusUnprocessableEntity, Code: CodeValidationFailed,
		Fill: func(err error, p *Problem) {
			p.Detail = "the request has invalid fields; see errors"
			p.Errors = domainFieldErrors(err)
		},
	},
	{
		Name: "forbidden by role or unit", Match: MatchIs(commands.ErrForbidden),
		Status: http.StatusForbidden, Code: CodeForbidden,
	},
	{
		Name: "stale If-Match (commands)", Match: MatchIs(commands.ErrPreconditionFailed),
		Status: http.StatusPreconditionFailed, Code: CodePreconditionFailed,
		Fill: func(err error, p *Problem) {
			var pe *commands.PreconditionFailedError
			if errors.As(err, &pe) {
				p.Detail = fmt.Sprintf("If-Match: the resource is at version %d, not %d", pe.Actual, pe.Expected)
				p.With("current_version", pe.Actual)
				return
			}
			p.Detail = "If-Match: the resource is no longer at that version"
		},
	},
	{
		Name: "idempotency key reused", Match: MatchIs(commands.ErrIdempotencyMismatch),
		Status: http.StatusUnprocessableEntity, Code: CodeIdempotencyMismatch,
	},
	{
		Name: "unknown resource", Match: MatchIs(domain.ErrNotFound),
		Status: http.StatusNotFound, Code: CodeNotFound,
	},
	{
		Name: "首报首谈 exclusivity", Match: MatchIs(domain.ErrExclusivityConflict),
		Status: http.StatusConflict, Code: CodeExclusivityConflict,
		Fill: func(err error, p *Problem) {
			var ce *domain.ExclusivityConflictError
			if !errors.As(err, &ce) {
				p.Detail = "another unit holds first-negotiation rights on this investor and industry chain"
				return
			}
			p.Detail = fmt.Sprintf("unit %s holds first-negotiation rights on this investor and industry chain until %s; the attempt is kept on record for the centre",
				ce.HolderUnit, ce.Until.Format(time.RFC3339))
			p.With("holder_unit", string(ce.HolderUnit)).With("exclusive_until", ce.Until)
			if ce.HolderProject != "" {
				p.With("holder_project", ce.HolderProject)
			}
		},
	},
	{
		Name: "invalid transition", Match: MatchIs(domain.ErrInvalidTransition),
		Status: http.StatusConflict, Code: CodeInvalidTransition,
	},
	{
		Name: "already exists", Match: MatchIs(domain.ErrAlreadyExists),
		Status: http.StatusConflict, Code: CodeAlreadyExists,
	},
	{
		// Amounts the client sent that cannot be added to what is recorded
		// (a sum beyond int64, yuan added to dollars): the request's values
		// are refused, nothing is recorded.
		Name: "money arithmetic", Match: func(err error) bool {
			return errors.Is(err, domain.ErrOverflow) || errors.Is(err, domain.ErrCurrencyMismatch)
		},
		Status: http.StatusUnprocessableEntity, Code: CodeValidationFailed,
	},
	{
		Name: "read-side cursor", Match: MatchIs(projections.ErrInvalidCursor),
		Status: http.StatusUnprocessableEntity, Code: CodeValidationFailed,
		Fill: func(_ error, p *Problem) {
			p.Detail = "the request has invalid fields; see errors"
			p.Errors = []FieldError{{Field: "cursor", Rule: "format", Message: "is not a cursor this server gave out for this list"}}
		},
	},
	{
		Name: "read-side query", Match: MatchIs(projections.ErrInvalidQuery),
		Status: http.StatusUnprocessableEntity, Code: CodeValidationFailed,
	},
	{
		Name: "stale If-Match", Match: MatchIs(ErrPreconditionFailed),
		Status: http.StatusPreconditionFailed, Code: CodePreconditionFailed,
		Fill: func(err error, p *Problem) {
			p.Detail = err.Error()
			var pe *PreconditionFailedError
			if errors.As(err, &pe) && pe.Actual > 0 {
				p.With("current_version", pe.Actual)
			}
		},
	},
	{
		Name: "concurrent writer", Match: MatchIs(eventstore.ErrVersionConflict),
		Status: http.StatusConflict, Code: CodeVersionConflict,
		Fill: func(err error, p *Problem) {
			// The store's message names streams and versions, which is fine
			// to show, but the advice is what a client needs.
			p.Detail = "the resource was changed by another request while this one ran; read it again and retry"
		},
	},
	{
		Name: "min_position wait", Match: MatchIs(ErrNotCaughtUp),
		Status: http.StatusServiceUnavailable, Code: CodeNotCaughtUp,
	},
	{
		Name: "body over http.MaxBytesReader", Match: MatchAs[*http.MaxBytesError](),
		Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
		Fill: func(err error, p *Problem) {
			var me *http.MaxBytesError
			errors.As(err, &me)
			p.Detail = fmt.Sprintf("the request body exceeds %d bytes", me.Limit)
		},
	},
	{
		Name: "client went away", Match: MatchIs(context.Canceled),
		Status: statusClientClosed, Code: CodeUnavailable,
		Fill: func(error, *Problem) {},
	},
	{
		Name: "deadline", Match: MatchIs(context.DeadlineExceeded),
		Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
		Fill: func(_ error, p *Problem) { p.Detail = "the server could not answer in time; retry" },
	},
}

// domainFieldErrors lists the field errors of a domain.ValidationErrors or
// *domain.ValidationError, at most maxFieldErrors.
func domainFieldErrors(err error) []FieldError {
	var list domain.ValidationErrors
	var one *domain.ValidationError
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = domain.ValidationErrors{one}
	}
	out := make([]FieldError, 0, len(list))
	for _, ve := range list {
		if len(out) == maxFieldErrors {
			break
		}
		out = append(out, FieldError{Field: ve.Field, Rule: ve.Rule, Message: ve.Message})
	}
	return out
}

// echoStatusCodes gives Echo's own errors (router 404/405, BodyLimit 413,
// middleware 401/403 …) their problem codes.
var echoStatusCodes = map[int]string{
	http.StatusBadRequest:            CodeBadRequest,
	http.StatusUnauthorized:          CodeUnauthorized,
	http.StatusForbidden:             CodeForbidden,
	http.StatusNotFound:              CodeNotFound,
	http.StatusMethodNotAllowed:      CodeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: CodeBodyTooLarge,
	http.StatusUnsupportedMediaType:  CodeUnsupportedMediaType,
	http.StatusUnprocessableEntity:   CodeValidationFailed,
	http.StatusServiceUnavailable:    CodeUnavailable,
}

// ProblemFor maps any error to the problem answering it. Unknown errors are
// 500 internal, with nothing of their message exposed.
func ProblemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		cp := *p
		if cp.Type == "" {
			cp.Type = problemTypePrefix + cp.Code
		}
		if cp.Title == "" {
			cp.Title = http.StatusText(cp.Status)
		}
		return &cp
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return internalProblem()
	}
	for _, r := range errorRules {
		if !r.Match(err) {
			continue
		}
		p := NewProblem(r.Status, r.Code, "")
		if r.Status == statusClientClosed {
			p.Title = "Client Closed Request"
		}
		switch {
		case r.Fill != nil:
			r.Fill(err, p)
		case r.Status < 500:
			p.Detail = err.Error()
		}
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return echoProblem(he)
	}
	return internalProblem()
}

func echoProblem(he *echo.HTTPError) *Problem {
	status := he.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	code, known := echoStatusCodes[status]
	switch {
	case status >= 500 && !known:
		return internalProblem()
	case !known:
		code = CodeBadRequest
	}
	p := NewProblem(status, code, "")
	switch status {
	case http.StatusNotFound:
		p.Detail = "no such route or resource"
	case http.StatusMethodNotAllowed:
		p.Detail = "the route does not accept this method; see the Allow header"
	case http.StatusRequestEntityTooLarge:
		p.Detail = "the request body is too large"
	default:
		if msg, ok := he.Message.(string); ok && status < 500 {
			p.Detail = msg
		}
	}
	return p
}

func internalProblem() *Problem {
	return NewProblem(http.StatusInternalServerError, CodeInternal, "")
}

// NewErrorHandler is the server's one echo.HTTPErrorHandler: every error
// answer, whoever raised it, is written here as application/problem+json with
// the request id. Server faults are logged with the error (and a panic's
// stack); their answer says only that something failed and where to look.
func NewErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(err error, c echo.Context) {
		res := c.Response()
		p := ProblemFor(err)
		p.Instance = c.Request().URL.Path
		p.RequestID = RequestID(c)
		if p.Status >= 500 && p.Status != statusClientClosed {
			attrs := []any{
				slog.String("request_id", p.RequestID),
				slog.String("method", c.Request().Method),
				slog.String("path", c.Request().URL.Path),
				slog.Int("status", p.Status),
				slog.String("error", err.Error()),
			}
			var pe *PanicError
			if errors.As(err, &pe) {
				attrs = append(attrs, slog.String("stack", string(pe.Stack)))
			}
			// A fault is an error; a 503 (views behind, shutting down) is
			// the system working as designed under load, a warning.
			level := slog.LevelError
			if p.Status == http.StatusServiceUnavailable {
				level = slog.LevelWarn
			}
			logger.Log(c.Request().Context(), level, "request failed", attrs...)
		}
		if p.Status == http.StatusInternalServerError {
			p.Detail = "an internal error occurred; quote request id " + p.RequestID + " when reporting it"
		}
		if res.Committed {
			// Part of an answer is already on the wire (a streamed export
			// failing half way); all that is left is to record it.
			logger.Warn("error after the answer started", slog.String("request_id", p.RequestID), slog.String("error", err.Error()))
			return
		}
		h := res.Header()
		for _, k := range []string{echo.HeaderContentType, echo.HeaderContentDisposition, "ETag", echo.HeaderLocation} {
			h.Del(k)
		}
		if p.Status == http.StatusUnauthorized && h.Get(echo.HeaderWWWAuthenticate) == "" {
			h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="zhaoshang"`)
		}
		h.Set("Cache-Control", "no-store")
		if p.Status == statusClientClosed {
			res.Status = p.Status // for the request log; nobody is listening
			return
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		body, merr := json.Marshal(p)
		if merr != nil {
			logger.Error("problem encoding failed", slog.String("request_id", p.RequestID), slog.String("error", merr.Error()))
			body, _ = json.Marshal(internalProblem())
		}
		if werr := c.Blob(p.Status, MediaTypeProblem, body); werr != nil {
			logger.Debug("writing problem failed", slog.String("request_id", p.RequestID), slog.String("error", werr.Error()))
		}
	}
}
