// Package api is zhaoshang's HTTP interface: the contract of
// /work/shared/design/API.md on Echo v4, described by docs/openapi.yaml.
//
// # Wiring
//
// New builds the server (middleware, error handler, operations endpoints);
// Mount registers every route of API.md, and GET /audit/reads, bound to the
// write side and the read side:
//
//	srv, err := api.New(api.Config{Secret: secret, Positioner: runner, Readiness: runner, Head: store, …})
//	err = api.Mount(srv, api.Deps{Commands: app, Views: runner.Views(), Past: runner, Log: store})
//	err = srv.Run(ctx)
//
// mount.go holds the route table and the interfaces Mount needs (ReadModel,
// PastReader, EventLog); write.go the command handlers; read.go the query
// handlers; audit.go the auditor's routes; shapes.go the answers' types;
// tables.go the exports' tables.
//
// # A request
//
// A request passes, in order: request id (X-Request-Id), the X-Position hook,
// the request log and latency histogram, panic recovery, security headers,
// the body limit; then for /api/v1 routes bearer-token authentication
// (Authenticate), the route's role check (RequireRole: for a command the
// commands layer's own table, commands.RolesFor; Mount refuses a spec whose
// x-roles disagree), its query-parameter allow-list (taken from the spec),
// and for reads the min_position wait; then the handler. Handlers are thin:
// Bind (strict JSON) → Validator (the form of each field) → a command of
// commands.App, which authorises by unit and applies the rules, or a view →
// RespondCommand, c.JSON or RespondExport.
//
// Every error, whoever raised it, becomes an application/problem+json answer
// in one place: errors.go's errorRules table maps error values (errors.Is /
// errors.As on the api's, the domain's, the commands', the read side's and
// the store's errors) to status and stable code, and NewErrorHandler writes
// them. Client mistakes are 4xx with the offending field, parameter or header
// named; only server faults are 5xx, and they expose nothing but the request
// id to quote.
//
// Reads of a project's history and of tolerance cases are recorded in the
// read-access log (commands.RecordRead) before they are answered; a read
// that cannot be recorded fails.
//
// The package depends on the read side and the write side only through the
// small interfaces it declares (Positioner, LogHead, Readiness, ReadModel,
// PastReader, EventLog) and the commands' App; cmd/zhaoshang wires the real
// ones in. /healthz, /readyz, /metrics and /openapi.yaml are served without
// a token.
package api
