package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// MediaTypeProblem is the content type of every error answer (RFC 9457).
const MediaTypeProblem = "application/problem+json"

// Stable problem codes. Clients switch on code, never on title or detail; a
// code, once published, keeps its meaning and its status.
const (
	CodeValidationFailed     = "validation_failed"      // 422: a field (or header, or query parameter) is wrong; see errors
	CodeMalformedJSON        = "malformed_json"         // 400: the body is not JSON, has trailing data, or is empty where one is required
	CodeBadRequest           = "bad_request"            // 400: the request is unreadable for another reason
	CodeUnsupportedMediaType = "unsupported_media_type" // 415: a body that is not application/json
	CodeBodyTooLarge         = "body_too_large"         // 413: the body exceeds the server's limit
	CodeUnauthorized         = "unauthorized"           // 401: no, malformed, expired or badly signed token
	CodeForbidden            = "forbidden"              // 403: the token's role or unit may not do this
	CodeNotFound             = "not_found"              // 404: no such route or resource
	CodeMethodNotAllowed     = "method_not_allowed"     // 405: the route exists, the method does not
	CodeInvalidTransition    = "invalid_transition"     // 409: the resource's state does not allow the command
	CodeExclusivityConflict  = "exclusivity_conflict"   // 409: another unit holds first-negotiation rights
	CodeAlreadyExists        = "already_exists"         // 409: a creating command met an existing resource
	CodeVersionConflict      = "version_conflict"       // 409: a concurrent writer won; retry
	CodePreconditionFailed   = "precondition_failed"    // 412: If-Match named a version the resource is no longer at
	CodeIdempotencyMismatch  = "idempotency_mismatch"   // 422: an Idempotency-Key reused with a different request
	CodeNotCaughtUp          = "not_caught_up"          // 503: the views did not reach min_position within the bounded wait
	CodeNotReady             = "not_ready"              // 503: the views are still catching up after start
	CodeInternal             = "internal"               // 500: a fault of the server; the request id locates it in the logs
	CodeUnavailable          = "unavailable"            // 503: the server cannot answer now (shutting down, a dependency is down)
)

// problemTypePrefix makes each code a URI for the problem's type member. A
// URN rather than a URL: it names the kind of problem without promising a web
// page that may not exist where the server is deployed.
const problemTypePrefix = "urn:zhaoshang:problem:"

// FieldError is one offending input. Field is the JSON path of a body field
// as the client spelt it ("investor.name", "commitments.funds[0].by"), the
// name of a query parameter ("limit") or of a header ("If-Match"). Rule is a
// stable machine-readable reason ("required", "unknown_field", "type",
// "future", …).
type FieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

func (f FieldError) String() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

// ValidationError is a request rejected for its fields. It answers 422
// validation_failed with every field error listed.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.String()
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Invalid is a one-field ValidationError.
func Invalid(field, rule, message string) *ValidationError {
	return &ValidationError{Errors: []FieldError{{Field: field, Rule: rule, Message: message}}}
}

// Problem is an RFC 9457 problem document and an error: a handler may return
// one directly and the error handler writes it as it is.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Code      string       `json:"code"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// Extensions are further members a problem kind defines, e.g.
	// holder_unit and exclusive_until on exclusivity_conflict. They never
	// override the members above.
	Extensions map[string]any `json:"-"`
}

// NewProblem makes a problem with the standard title of status.
func NewProblem(status int, code, detail string) *Problem {
	return &Problem{
		Type:   problemTypePrefix + code,
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
	}
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Code)
}

// With sets an extension member and returns p.
func (p *Problem) With(key string, value any) *Problem {
	if p.Extensions == nil {
		p.Extensions = map[string]any{}
	}
	p.Extensions[key] = value
	return p
}

// MarshalJSON writes the standard members and then the extensions, so a
// client sees one flat object as RFC 9457 asks.
func (p *Problem) MarshalJSON() ([]byte, error) {
	type plain Problem // no methods: avoids recursion
	base, err := json.Marshal((*plain)(p))
	if err != nil {
		return nil, err
	}
	if len(p.Extensions) == 0 {
		return base, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(base, &members); err != nil {
		return nil, err
	}
	for k, v := range p.Extensions {
		if _, taken := members[k]; taken {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("problem extension %q: %w", k, err)
		}
		members[k] = raw
	}
	return json.Marshal(members)
}

// UnmarshalJSON reads a problem back, keeping unknown members as extensions
// (used by clients and tests).
func (p *Problem) UnmarshalJSON(b []byte) error {
	type plain Problem
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	for _, k := range []string{"type", "title", "status", "detail", "code", "instance", "request_id", "errors"} {
		delete(members, k)
	}
	if len(members) == 0 {
		p.Extensions = nil
		return nil
	}
	p.Extensions = make(map[string]any, len(members))
	for k, raw := range members {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		p.Extensions[k] = v
	}
	return nil
}
