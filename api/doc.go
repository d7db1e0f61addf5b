// Package api is zhaoshang's HTTP interface: the contract of
// /work/shared/design/API.md on Echo v4, described by docs/openapi.yaml.
//
// A request passes, in order: request id (X-Request-Id), the X-Position hook,
// the request log and latency histogram, panic recovery, security headers,
// the body limit; then for /api/v1 routes bearer-token authentication
// (Authenticate), the route's role check (RequireRole), its query-parameter
// allow-list (taken from the spec), and for reads the min_position wait; then
// the handler. Handlers are thin: Bind (strict JSON) → Validator (field
// checks) → a command or a view → RespondCommand, c.JSON or RespondExport.
//
// Every error, whoever raised it, becomes an application/problem+json answer
// in one place: errors.go's errorRules table maps error values (errors.Is /
// errors.As) to status and stable code, and NewErrorHandler writes them.
// Client mistakes are 4xx with the offending field, parameter or header
// named; only server faults are 5xx, and they expose nothing but the request
// id to quote.
//
// The package depends on the read side and the write side only through the
// small interfaces it declares (Positioner, LogHead, Readiness, UnitLookup);
// cmd/zhaoshang wires the real ones in. /healthz, /readyz, /metrics and
// /openapi.yaml are served without a token.
package api
